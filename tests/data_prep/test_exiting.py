"""A command's quick exit keeps its status, its atexit handlers and its buffered output."""
import os
import subprocess
import sys

from tests.conftest import REPO

PROGRAM = """
import atexit, sys
from data_prep.exiting import exit_quickly
atexit.register(lambda: print("atexit ran"))
sys.stdout.write("buffered, not flushed")
exit_quickly(3)
"""


def test_exit_quickly_keeps_the_status_the_atexit_handlers_and_the_buffered_output():
    # Buffered for real: into a pipe, without PYTHONUNBUFFERED (which this environment may set).
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    result = subprocess.run([sys.executable, "-c", PROGRAM], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 3, result.stderr
    assert result.stdout == "buffered, not flushedatexit ran\n"
