"""Property-based tests of the HTTP surface, this project's API and the LibreTranslate and Amazon
Translate ones: whatever the body and content type, the answer is a 200 or a 4xx in the shape of
the API asked, naming the problem, never a 5xx or a hang, and the worker serves on; with a
glossary, a 200 lists as applied only terms that are in the translation.
A fixed budget with a fixed seed runs here; bench/fuzz.py runs many more."""
import pytest
import requests
from hypothesis import HealthCheck, given, settings

from tests.serve.strategies import AMAZON, LIBRETRANSLATE_ROUTES, http_request, requests_
from tests.serve.test_gunicorn import GOOD, serving
from tests.serve.test_terms import _copy_store, check_terms

# The HTTP surface is the same on both engines; Sockeye adds only its own handling of odd input, and
# decodes junk slowly (100 examples took 81 s of CI's time against CTranslate2's 400 in 6 s).
BUDGET = {"ctranslate2": 600, "sockeye": 30}
# A large body of junk text takes Sockeye a while on 2 busy cores, and a request past the server's
# timeout is a (correct) 503: the server's timeout is raised so that only a bug answers 5xx, and the
# client waits longer than that, so that no answer means a hang.
SERVER_TIMEOUT_S = 120
CLIENT_TIMEOUT_S = 150


@pytest.fixture(scope="module", params=sorted(BUDGET))
def server(store, request, tmp_path_factory):
    # ImportTerminology writes what it is sent into the store: a copy of the demo's.
    copy = _copy_store(store, tmp_path_factory.mktemp(f"fuzz_store_{request.param}"))
    with serving(copy, "--engine", request.param, "--max-payload-mb", "1",
                 "--timeout", str(SERVER_TIMEOUT_S)) as server:
        yield request.param, server


def _check(url: str, route: str, content_type: str, body: bytes) -> None:
    path, headers = http_request(route, content_type)
    response = requests.post(url + path, data=body, headers=headers, timeout=CLIENT_TIMEOUT_S)
    assert response.status_code < 500, (route, content_type, body[:200], response.text[:500])
    if response.status_code >= 400:
        assert "Traceback" not in response.text
        if route.startswith(AMAZON):
            error = response.json()
            assert error["__type"].endswith("Exception") and error["message"].strip()
        elif route in LIBRETRANSLATE_ROUTES:
            assert response.json()["error"].strip()
        else:
            error = response.json()["error"]
            assert error["code"] == response.status_code and error["message"].strip()
    # application/json alone: application/jsonlines (an empty body, say) is no JSON document.
    elif response.headers["Content-Type"].split(";")[0] == "application/json" and "applied_terms" in response.json():
        # A glossary was applied: whatever it held, the answer claims no term that is not in the translation.
        check_terms(response.json())


def test_any_body_gets_a_200_or_a_json_4xx_and_the_worker_serves_on(server):
    engine, running = server

    @settings(max_examples=BUDGET[engine], derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(requests_)
    def fuzz(request):
        _check(running.url, *request)

    fuzz()
    assert requests.post(running.url + "/v1/translate", json=GOOD, timeout=30).status_code == 200
    assert running.process.poll() is None
    assert not [line for line in running.stderr if "unhandled error" in line], running.stderr[-20:]
