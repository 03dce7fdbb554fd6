"""Translated files kept for LibreTranslate's /translate_file: found by their name only, gone once expired."""
import gc
import os
import time

from serve.downloads import Downloads


def test_a_kept_file_is_found_by_its_name_and_expires(tmp_path):
    downloads = Downloads(tmp_path / "files", keep_s=60)
    name = downloads.put(b"Der Hund.", "../../etc/report 1.de.txt")
    assert name.endswith(".etc_report_1.de.txt") and "/" not in name
    assert downloads.get(name).read_bytes() == b"Der Hund."
    for other in ("../" + name, name.upper(), "0" * 32 + ".x.txt", ""):
        assert downloads.get(other) is None
    old = time.time() - 120
    os.utime(downloads.get(name), (old, old))
    assert downloads.get(name) is None and not list((tmp_path / "files").iterdir())


def test_without_a_shared_directory_one_is_made_with_the_first_file_and_removed_with_the_downloads():
    downloads = Downloads(None, keep_s=60)
    assert downloads.get("0" * 32 + ".x.txt") is None and downloads._directory is None
    name = downloads.put(b"Der Hund.", "report.de.txt")
    directory = downloads.get(name).parent
    assert directory.name.startswith("s2s-files-") and oct(directory.stat().st_mode)[-3:] == "700"
    del downloads
    gc.collect()
    assert not directory.exists()
