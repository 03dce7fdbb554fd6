"""Running the app under gunicorn, configured from Python rather than a config file.

gunicorn's gthread worker: each request has a thread, which mostly waits for the batcher,
so a worker with 64 threads can gather batches of up to 64 sentences from 64 clients. Idle
keep-alive connections wait in the worker's poller, not in a thread, and are closed after
`keepalive_s`. On SIGTERM gunicorn stops accepting and lets requests in flight finish within
the graceful timeout (25 s, inside SageMaker's 30 s).
"""
import logging
import os
import select
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from gunicorn.app.base import BaseApplication
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import ThreadWorker

from serve.config import MULTIPROC_ENV, ServeConfig, ServerConfig

logger = logging.getLogger(__name__)

# Seconds a request thread waits for a client to send the next bytes of a request.
READ_TIMEOUT_S = 10
# While it waits, how often it looks whether the worker is stopping.
STOP_CHECK_S = 0.1
# Seconds a request thread waits, after answering on a keep-alive connection, for that client's next
# request before handing the connection back to the worker's poller.
LINGER_S = 0.005


def forget_dead_workers_metrics():
    """gunicorn's child_exit hook: drops a dead worker's live gauges from the metrics directory.

    Call it in the master, after PROMETHEUS_MULTIPROC_DIR is set (prometheus_client reads it when
    first imported) and before the workers start. gunicorn runs child_exit inside its SIGCHLD
    handler, which re-enters itself when workers exit together: an import there, the master's
    first of prometheus_client, was interrupted half done by the next worker's exit and the
    re-entered import failed (`TypeError: unsupported callable`, `partially initialized module`),
    printing a traceback in 5 of 48 stops. So the hook itself imports nothing."""
    from prometheus_client import multiprocess

    def child_exit(_arbiter, worker) -> None:
        multiprocess.mark_process_dead(worker.pid)

    return child_exit


class _SilentClientUnreader(SocketUnreader):
    """Reads a request's bytes; a client silent for READ_TIMEOUT_S, or one still silent when the worker
    is told to stop, reads as gone. Without the second, a thread reading from a client that had left a
    connection open held SIGTERM for the whole READ_TIMEOUT_S: boto3's connection after a refused
    oversize body (its unread rest made the socket readable, so a thread took it) held a stop 10 s."""

    def __init__(self, sock, worker: ThreadWorker):
        super().__init__(sock)
        self._worker = worker
        # Made once per connection, not per read: every request reads through it.
        self._waiting = select.poll()
        self._waiting.register(sock, select.POLLIN)

    def chunk(self) -> bytes:
        waited = 0.0
        while not self._waiting.poll(STOP_CHECK_S * 1000):
            waited += STOP_CHECK_S
            if waited >= READ_TIMEOUT_S or not self._worker.alive:
                return b""  # gunicorn's "client disconnected": the connection is closed quietly
        try:
            return super().chunk()
        except TimeoutError:
            return b""


class PatientThreadWorker(ThreadWorker):
    """gthread, except that a thread waits at most READ_TIMEOUT_S for a client to send more, and
    lingers on a keep-alive connection (handle).

    gunicorn's threads read a request with no time limit. A client that left a connection open
    after a 413 (its unread body made the connection readable, so a thread took it, drained the
    body and waited for a next request that never came) held that thread, and delayed SIGTERM
    by the whole 25 s graceful timeout. A client silent this long is now treated as gone."""

    def enqueue_req(self, conn) -> None:
        fresh = not conn.initialized
        conn.init()
        conn.sock.settimeout(READ_TIMEOUT_S)
        if fresh:
            conn.parser.unreader = _SilentClientUnreader(conn.sock, self)
        self._wrap_future(self.tpool.submit(self.handle, conn), conn)

    def handle(self, conn):
        """gthread's, except that a thread that has answered on a keep-alive connection waits up to
        LINGER_S for the client's next request and answers it too. gthread hands every request from
        its poller thread to a pool thread and the connection back: that round trip (two epoll
        changes, a future, a queue, two thread wake-ups) cost more CPU than the rest of a one-sentence
        request outside decoding. A client that sends requests one after another (a script looping
        over sentences) now stays on one thread; one that pauses longer goes back to the poller."""
        while True:
            keepalive, conn = super().handle(conn)
            if not (keepalive and self.alive):
                return keepalive, conn
            # poll, not select: select refuses file descriptors past 1023, and a busy worker has them.
            waiting = select.poll()
            waiting.register(conn.sock, select.POLLIN)
            if not waiting.poll(LINGER_S * 1000):
                return keepalive, conn


class _Gunicorn(BaseApplication):
    def __init__(self, config: ServeConfig, server: ServerConfig):
        self._config = config
        self._server = server
        super().__init__()

    def load_config(self) -> None:
        server = self._server
        for key, value in {
            "bind": f"{server.host}:{server.port}", "workers": server.workers, "threads": server.threads,
            "worker_class": PatientThreadWorker, "timeout": server.timeout_s,
            "graceful_timeout": server.graceful_timeout_s, "keepalive": server.keepalive_s,
            # gunicorn's own bounds on a request's head, kept: a request line of 4 KiB, 100 header
            # fields of 8 KiB each; longer is refused with a 400 before the app sees it.
            "limit_request_line": 4094, "limit_request_fields": 100, "limit_request_field_size": 8190,
            # Our own structured access log replaces gunicorn's.
            "accesslog": None, "child_exit": forget_dead_workers_metrics(),
        }.items():
            self.cfg.set(key, value)

    def load(self):
        # Each worker builds its own app and loads its own models after the fork: torch's thread
        # pools do not survive a fork.
        from serve import observability
        from serve.app import create_app

        observability.send_access_log_to(sys.stdout)
        return create_app(self._config, workers=self._server.workers)


def run_server(config: ServeConfig, server: ServerConfig) -> None:
    """Serves until SIGTERM or Ctrl-C."""
    # Set before anything imports prometheus_client, which reads it at import time.
    metrics_dir = tempfile.mkdtemp(prefix="s2s-metrics-")
    os.environ[MULTIPROC_ENV] = metrics_dir
    # One directory of translated files for every worker: a download may reach another worker.
    files_dir = None if config.files_dir else Path(tempfile.mkdtemp(prefix="s2s-files-"))
    config = replace(config, files_dir=config.files_dir or files_dir)
    logger.info("serving %s on http://%s:%d with %d worker(s)", config.store, server.host, server.port,
                server.workers)
    try:
        _Gunicorn(config, server).run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
        if files_dir:
            shutil.rmtree(files_dir, ignore_errors=True)
