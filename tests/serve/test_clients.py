"""Clients that misbehave at the socket level, against the real server with nothing in front:
idle keep-alive connections, slow senders, and connections left open after an error."""
import signal
import socket
import threading
import time

import pytest
import requests

from serve.server import READ_TIMEOUT_S
from tests.serve.test_app import DOG
from tests.serve.test_gunicorn import GOOD, serving

# Each bounds how long an answer takes: no other test beside them under pytest-xdist.
pytestmark = pytest.mark.alone


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def test_idle_and_slow_clients_do_not_stop_ping_or_a_translation(store, translated):
    dog = translated(DOG)
    with serving(store) as server:
        idle = []
        for _ in range(100):
            connection = _connect(server.url)
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: s2s\r\n\r\n")
            assert connection.recv(1024).startswith(b"HTTP/1.1 200")  # then left open, idle
            idle.append(connection)
        stop = threading.Event()
        head = b"POST /v1/translate HTTP/1.1\r\nHost: s2s\r\nContent-Type: application/json\r\n"

        def slowloris():
            connection = _connect(server.url)
            for byte in head:
                if stop.wait(1):
                    break
                connection.sendall(bytes([byte]))
            connection.close()

        slow = [threading.Thread(target=slowloris) for _ in range(20)]
        for thread in slow:
            thread.start()
        time.sleep(3)  # every slow client has sent some of its head and holds a thread
        try:
            for _ in range(5):
                started = time.monotonic()
                assert requests.get(server.url + "/ping", timeout=1).status_code == 200
                answer = requests.post(server.url + "/v1/translate", json=GOOD, timeout=1)
                assert answer.json()["translations"] == [dog]
                assert time.monotonic() - started < 1
                time.sleep(0.5)
        finally:
            stop.set()
            for thread in slow:
                thread.join()
            for connection in idle:
                connection.close()


def test_a_connection_left_open_after_a_413_does_not_hold_up_sigterm(store):
    with serving(store, "--max-payload-mb", "0.01") as server:
        connection = _connect(server.url)
        body = b"a" * 100_000
        connection.sendall(b"POST /invocations HTTP/1.1\r\nHost: s2s\r\nContent-Type: text/plain\r\n"
                           b"Content-Length: %d\r\n\r\n" % len(body) + body)
        assert connection.recv(1024).startswith(b"HTTP/1.1 413")
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=60)
        # gunicorn alone waited here for the whole graceful timeout (25 s), and a thread reading from the
        # silent client for READ_TIMEOUT_S (10 s) until it looked whether the worker was stopping.
        assert time.monotonic() - started < READ_TIMEOUT_S / 2
        connection.close()


def test_a_keep_alive_client_is_answered_whether_it_comes_back_at_once_or_after_a_pause(store, translated):
    # Back at once, its thread answers it (LINGER_S); after a pause, the connection has gone back to the
    # poller and a thread takes it again. Either way every answer is the right one, on one connection.
    import http.client
    import json

    from serve.server import LINGER_S

    dog = translated(DOG)
    with serving(store, "--workers", "1") as server:
        host, port = server.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        ports = set()
        for pause in [0] * 5 + [LINGER_S * 4] * 3 + [0] * 3:
            time.sleep(pause)
            connection.request("POST", "/v1/translate", json.dumps(GOOD), {"Content-Type": "application/json"})
            answer = connection.getresponse()
            assert answer.status == 200 and json.loads(answer.read())["translations"] == [dog]
            ports.add(connection.sock.getsockname()[1])  # http.client reconnects if the server closed it
        assert len(ports) == 1
        connection.close()
