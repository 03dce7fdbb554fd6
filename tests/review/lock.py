"""Another process holding a review database locked, as a second writer would."""
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def write_locked(path: Path):
    """Holds a write lock on the SQLite database at `path` from another process until the block ends."""
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sqlite3, sys
        db = sqlite3.connect({str(path)!r}, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        print("locked", flush=True)
        sys.stdin.readline()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.communicate("\n", timeout=10)
