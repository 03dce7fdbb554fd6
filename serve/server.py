"""Running the app under gunicorn, configured from Python rather than a config file."""
import logging

from gunicorn.app.base import BaseApplication

from serve.app import create_app
from serve.config import ServeConfig

logger = logging.getLogger(__name__)


class _Gunicorn(BaseApplication):
    def __init__(self, config: ServeConfig, options: dict):
        self._config = config
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        # Each worker builds its own app and loads its own models after the fork.
        return create_app(self._config)


def run_server(config: ServeConfig, host: str, port: int, workers: int = 1, threads: int = 4,
               timeout: int = 60) -> None:
    """Serves until SIGTERM or Ctrl-C; gunicorn lets requests in flight finish first."""
    logger.info("serving %s on http://%s:%d", config.store, host, port)
    _Gunicorn(config, {
        "bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
        "timeout": timeout, "graceful_timeout": 25, "accesslog": "-",
    }).run()
