"""The same API through a real `s2s serve` gunicorn process on a loopback port."""
import requests


def test_gunicorn_serves_ping_translate_invocations_and_errors(gunicorn_server):
    url, process = gunicorn_server
    assert requests.get(url + "/ping", timeout=5).status_code == 200
    response = requests.post(url + "/v1/translate", timeout=60,
                             json={"q": ["The small dog sees a red car."], "source": "en", "target": "de"})
    assert response.status_code == 200
    assert response.json()["translations"] == ["Der kleine Hund sieht ein rotes Auto."]
    response = requests.post(url + "/invocations", timeout=60, json={"instances": [{"data": "A cat."}]})
    assert response.status_code == 200 and response.json()["predictions"][0]["target"]
    bad = requests.post(url + "/v1/translate", data="{", headers={"Content-Type": "application/json"}, timeout=5)
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]["message"]
    # A bad request does not take the worker down.
    assert requests.get(url + "/ping", timeout=5).status_code == 200
    assert process.poll() is None
