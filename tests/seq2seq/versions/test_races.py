"""Writers racing on one store, all real processes: two `s2s publish` at once, promoters and a
rollback racing them and each other, and a server reloading the store all the while."""
import json
import shutil
import subprocess
import sys
import threading
import time

import requests

from seq2seq.versions.store import PROMOTIONS_JSON, ModelStore
from tests.conftest import REPO
from tests.serve.test_app import _copy_version
from tests.serve.test_gunicorn import GOOD, serving

# Promotes the given versions in turn, or rolls back, until the stop file appears; prints how
# many succeeded.
CHANGER = """
import os, sys, time
from data_prep.errors import S2SError
from seq2seq.versions.store import ModelStore
store, action, stop, versions = ModelStore(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
done, i = 0, 0
while not os.path.exists(stop):
    try:
        if action == "promote":
            store.promote(versions[i % len(versions)], force=True)
        else:
            store.rollback("en", "de")
        done += 1
    except S2SError:
        pass  # already the default, or nothing left to roll back: another writer got there first
    i += 1
    time.sleep(0.002)
print(done)
"""


def _second_run(demo, tmp_path):
    """The demo run with another checkpoint's weights: a different model, so a different version."""
    run = tmp_path / "run2"
    shutil.copytree(demo[0] / "run", run, symlinks=False)
    best = run / "model" / "params.best"
    best.unlink()
    checkpoints = sorted((run / "model").glob("params.000*"))
    shutil.copyfile(checkpoints[len(checkpoints) // 2], best)
    return run


def test_publishers_promoters_and_a_reloading_server_lose_nothing(demo, store, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (original,) = ModelStore(store).versions()
    bleu = original.bleu
    _copy_version(original.path, models, original.id, bleu)
    _copy_version(original.path, models, "en-de-copy", bleu - 0.5)
    stop_file = tmp_path / "stop"
    runs = [demo[0] / "run", _second_run(demo, tmp_path)]
    errors, answers, reads = [], [], 0
    stop = threading.Event()

    def read_promotions():
        nonlocal reads
        while not stop.is_set():
            path = models / PROMOTIONS_JSON
            if path.exists():
                try:
                    json.loads(path.read_text())
                    reads += 1
                except ValueError as e:  # a half-written file would land here
                    errors.append(str(e))
            time.sleep(0.001)

    with serving(models, "--reload-interval", "0.1", "--cache-size", "0") as server:
        def translate():
            while not stop.is_set():
                answers.append(requests.post(server.url + "/v1/translate", json=GOOD, timeout=60).status_code)

        threads = [threading.Thread(target=read_promotions), threading.Thread(target=translate)]
        for thread in threads:
            thread.start()
        test = []
        for side in ("en", "de"):
            test.append(tmp_path / f"test.{side}")
            lines = (demo[0] / "corpus" / f"test.{side}").read_text(encoding="utf-8").splitlines(True)
            test[-1].write_text("".join(lines[:50]), encoding="utf-8")
        publishers = [subprocess.Popen([sys.executable, "-m", "s2s_cli", "publish", str(run), "--store", str(models),
                                        "--test-source", str(test[0]), "--test-target", str(test[1])],
                                       cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                      for run in runs]
        changers = [subprocess.Popen([sys.executable, "-c", CHANGER, str(models), action, str(stop_file),
                                      original.id, "en-de-copy"],
                                     cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    for action in ("promote", "promote", "rollback")]
        for publisher in publishers:
            _, err = publisher.communicate(timeout=300)
            assert publisher.returncode == 0, err[-2000:]
        stop_file.touch()
        counts = []
        for changer in changers:
            out, err = changer.communicate(timeout=120)
            assert changer.returncode == 0, err[-2000:]
            counts.append(int(out))
        time.sleep(0.5)  # the server's last reload
        stop.set()
        for thread in threads:
            thread.join()

    assert not errors and reads > 0
    assert answers and set(answers) == {200}
    promoted, rolled_back = counts[0] + counts[1], counts[2]
    assert promoted > 0 and rolled_back > 0
    history = json.loads((models / PROMOTIONS_JSON).read_text()).get("en-de", [])
    assert len(history) == promoted - rolled_back  # no promotion or rollback was lost
    # Every version is whole, and nothing half-published is left.
    store_now = ModelStore(models)
    assert len(store_now.versions()) == 4
    for version in store_now.versions():
        version.verify()
    assert [p.name for p in models.iterdir() if p.name.startswith(".") and "partial" in p.name] == []
