"""install.sh's two choices, made by the real script: the Python it finds and the torch build it takes.

`./install.sh VENV plan` prints both and installs nothing, so these tests run it with a PATH and an
environment of their own, and a package index served from 127.0.0.1 in place of PyTorch's."""
import functools
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

INSTALL = REPO / "install.sh"
PIP_LINE = "install.sh: torch: pip install "


def fake_python(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def pyenv_shim(path: Path) -> Path:
    """Like pyenv's shim of a version that is not selected: on the PATH, but it will not run."""
    return fake_python(path, f'echo "pyenv: {path.name}: command not found" >&2; exit 127')


def old_python(path: Path) -> Path:
    """A real Python that reports itself as 3.10 to the code it is given with -c."""
    return fake_python(path, f"""exec {sys.executable} -c "import sys; sys.version_info = (3, 10, 13, 'final', 0); exec(sys.argv[1])" "$2\"""")


def real_python(path: Path) -> Path:
    path.symlink_to(sys.executable)
    return path


def plan(tmp_path: Path, path: Path, **env: str) -> subprocess.CompletedProcess:
    """`install.sh VENV plan` for a VENV that does not exist yet, with PATH=path and env alone around it."""
    return subprocess.run([str(INSTALL), str(tmp_path / "venv"), "plan"], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env={"PATH": str(path), **env})


def pip_args(result: subprocess.CompletedProcess) -> list[str]:
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(PIP_LINE)]
    assert len(lines) == 1, result.stdout
    return lines[0].removeprefix(PIP_LINE).split()


@pytest.fixture
def bin_dir(tmp_path) -> Path:
    """A PATH holding one Python, a real one, as python3."""
    path = tmp_path / "bin"
    path.mkdir()
    real_python(path / "python3")
    return path


def wheel(directory: Path, version: str) -> None:
    """A torch wheel that pip can download and read, with nothing in it."""
    directory.mkdir(parents=True, exist_ok=True)
    info = f"torch-{version}.dist-info"
    with zipfile.ZipFile(directory / f"torch-{version}-py3-none-any.whl", "w") as whl:
        whl.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n")
        whl.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        whl.writestr(f"{info}/RECORD", "")


@pytest.fixture
def indexes(tmp_path):
    """Two PEP 503 simple indexes on 127.0.0.1: /cpu holds torch 2.13.0+cpu, as PyTorch's CPU index does,
    and /pypi holds torch 2.13.0, as PyPI does. Yields the base URL and the paths requested so far."""
    root = tmp_path / "www"
    wheel(root / "cpu" / "torch", "2.13.0+cpu")
    wheel(root / "pypi" / "torch", "2.13.0")
    requested = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requested.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", requested
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def download(args: list[str], pypi: str, dest: Path) -> list[str]:
    """What pip resolves `pip install ARGS` to when PyPI is `pypi`, with no pip configuration (this
    machine's has a find-links folder holding a real CPU torch)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "-q", "-d", str(dest),
                    "--index-url", pypi, *args], check=True, capture_output=True, timeout=120,
                   env={"PATH": os.environ["PATH"], "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    return sorted(p.name for p in dest.iterdir())


def test_the_cpu_index_is_added_when_it_answers_and_its_cpu_build_wins(tmp_path, bin_dir, indexes):
    url, requested = indexes
    result = plan(tmp_path, bin_dir, S2S_TORCH_CPU_INDEX=f"{url}/cpu")
    args = pip_args(result)
    assert args == ["--extra-index-url", f"{url}/cpu", "torch==2.13.0"]
    assert "/cpu/torch/" in requested
    assert "WARNING" not in result.stdout
    assert "the CPU build of torch==2.13.0" in result.stdout
    # The same arguments, given to pip beside "PyPI": 2.13.0+cpu sorts above 2.13.0.
    assert download(args, f"{url}/pypi", tmp_path / "got") == ["torch-2.13.0+cpu-py3-none-any.whl"]


def test_an_unreachable_cpu_index_falls_back_to_pypi_and_says_it_is_the_cuda_build(tmp_path, bin_dir, indexes):
    url, _ = indexes
    result = plan(tmp_path, bin_dir, S2S_TORCH_CPU_INDEX=f"http://127.0.0.1:{closed_port()}/cpu")
    args = pip_args(result)
    assert args == ["torch==2.13.0"]
    assert "could not be reached" in result.stdout
    assert "CUDA" in result.stdout and "several GB" in result.stdout
    assert "S2S_TORCH=cuda" in result.stdout
    assert download(args, f"{url}/pypi", tmp_path / "got") == ["torch-2.13.0-py3-none-any.whl"]


def test_a_cpu_index_that_never_answers_is_given_up_on_after_the_probe_timeout(tmp_path, bin_dir):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        start = time.monotonic()
        result = plan(tmp_path, bin_dir, S2S_TORCH_PROBE_S="1",
                      S2S_TORCH_CPU_INDEX=f"http://127.0.0.1:{silent.getsockname()[1]}/cpu")
        elapsed = time.monotonic() - start
    assert pip_args(result) == ["torch==2.13.0"]
    assert "could not be reached" in result.stdout
    assert elapsed < 10


def test_a_gpu_request_takes_pypis_default_build_without_probing(tmp_path, bin_dir, indexes):
    url, requested = indexes
    result = plan(tmp_path, bin_dir, S2S_TORCH="cuda", S2S_TORCH_CPU_INDEX=f"{url}/cpu")
    assert pip_args(result) == ["torch==2.13.0"]
    assert "S2S_TORCH=cuda" in result.stdout and "CUDA" in result.stdout
    assert "WARNING" not in result.stdout
    assert requested == []


def test_torch_index_and_torch_spec_still_name_the_build(tmp_path, bin_dir, indexes):
    url, requested = indexes
    result = plan(tmp_path, bin_dir, TORCH_INDEX="https://download.pytorch.org/whl/cu124",
                  TORCH_SPEC="torch==2.5.1", S2S_TORCH_CPU_INDEX=f"{url}/cpu")
    assert pip_args(result) == ["--index-url", "https://download.pytorch.org/whl/cu124", "torch==2.5.1"]
    assert requested == []


def test_no_torch_and_an_unknown_choice(tmp_path, bin_dir):
    none = plan(tmp_path, bin_dir, S2S_TORCH="none")
    assert none.returncode == 0, none.stderr
    assert "torch: none" in none.stdout and PIP_LINE not in none.stdout
    unknown = plan(tmp_path, bin_dir, S2S_TORCH="gpu")
    assert unknown.returncode != 0
    assert "S2S_TORCH=gpu: expected cpu (the default), cuda or none" in unknown.stderr


def test_the_first_candidate_that_runs_and_is_3_11_or_newer_is_taken(tmp_path):
    path = tmp_path / "bin"
    path.mkdir()
    pyenv_shim(path / "python3")
    old_python(path / "python3.13")
    real_python(path / "python3.12")
    real_python(path / "python3.11")
    result = plan(tmp_path, path, S2S_TORCH="none")
    assert result.returncode == 0, result.stderr
    version = "%d.%d.%d" % sys.version_info[:3]
    assert f"install.sh: Python {version}: python3.12 (" in result.stdout


def test_without_a_python_3_11_it_says_what_it_looked_for_and_how_to_name_one(tmp_path):
    path = tmp_path / "bin"
    path.mkdir()
    pyenv_shim(path / "python3")
    pyenv_shim(path / "python3.13")
    old_python(path / "python3.11")
    result = plan(tmp_path, path, S2S_TORCH="none")
    assert result.returncode != 0
    assert "no Python 3.11 or newer" in result.stderr
    assert "python3, python3.13, python3.12 and python3.11" in result.stderr
    assert "make install PYTHON=/path/to/python3.12" in result.stderr
    assert "torch" not in result.stdout
    assert not (tmp_path / "venv").exists()


def test_python_names_the_interpreter_and_is_checked_too(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    python = real_python(tmp_path / "my-python")
    chosen = plan(tmp_path, empty, S2S_TORCH="none", PYTHON=str(python))
    assert chosen.returncode == 0, chosen.stderr
    assert f": {python} (" in chosen.stdout and "from PYTHON" in chosen.stdout
    broken = plan(tmp_path, empty, S2S_TORCH="none", PYTHON=str(pyenv_shim(tmp_path / "python3.13")))
    assert broken.returncode != 0
    assert f"PYTHON={tmp_path / 'python3.13'} does not run, or is older than 3.11" in broken.stderr


@pytest.fixture
def make_dir(tmp_path) -> Path:
    """The Makefile beside an install.sh that only reports the PYTHON it was given."""
    directory = tmp_path / "repo"
    directory.mkdir()
    (directory / "Makefile").write_text((REPO / "Makefile").read_text())
    (directory / "pyproject.toml").touch()
    fake_python(directory / "install.sh", 'mkdir -p "$1"; echo "install.sh got PYTHON=${PYTHON-(unset)}"')
    return directory


def test_make_passes_python_only_when_it_is_given(make_dir):
    # Without an outer make's variables too (MAKEFLAGS carries those given on its command line).
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    unset = subprocess.run(["make", "-s", "install"], cwd=make_dir, env=env, capture_output=True, text=True, timeout=60)
    assert "install.sh got PYTHON=(unset)" in unset.stdout, unset.stdout + unset.stderr
    (make_dir / ".venv" / ".installed-runtime").unlink()
    given = subprocess.run(["make", "-s", "install", "PYTHON=/opt/python3.12"], cwd=make_dir, env=env,
                           capture_output=True, text=True, timeout=60)
    assert "install.sh got PYTHON=/opt/python3.12" in given.stdout, given.stdout + given.stderr


def test_make_test_newest_is_skipped_without_a_python_3_13(tmp_path):
    path = tmp_path / "bin"
    path.mkdir()
    pyenv_shim(path / "python3.13")
    old_python(path / "python3")
    result = subprocess.run([shutil.which("make"), "-s", "-C", str(REPO), "test-newest"], capture_output=True,
                            text=True, timeout=60, env={"PATH": str(path), "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test-newest: skipped: no Python 3.13 or newer" in result.stdout


def pip_config(tmp_path: Path, url: str) -> Path:
    """A pip configuration file naming the two indexes of `indexes`, and in [install] a find-links folder
    that overrides [global]'s. Set as PIP_CONFIG_FILE it also overrides what this machine's own files set."""
    (tmp_path / "constraints.txt").write_text("")
    (tmp_path / "wheels").mkdir()
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nindex-url = {url}/pypi\nextra-index-url = {url}/cpu\n"
                      f"find-links = {tmp_path / 'elsewhere'}\nconstraint = {tmp_path / 'constraints.txt'}\n"
                      f"cert = /etc/ssl/certs/ca-certificates.crt\n[install]\nfind-links = {tmp_path / 'wheels'}\n")
    return config


def test_plan_shows_pips_settings_as_uvs_options(tmp_path, bin_dir, indexes):
    url, _ = indexes
    result = plan(tmp_path, bin_dir, S2S_TORCH="none", PIP_CONFIG_FILE=str(pip_config(tmp_path, url)),
                  PIP_TRUSTED_HOST="127.0.0.1 localhost")
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("install.sh: installer: ")]
    assert line.split()[2:] == [
        "uv", "pip", "install", "--index-strategy", "unsafe-best-match",
        "--index-url", f"{url}/pypi", "--extra-index-url", f"{url}/cpu", "--find-links", str(tmp_path / "wheels"),
        "--constraint", str(tmp_path / "constraints.txt"),
        "--allow-insecure-host", "127.0.0.1", "--allow-insecure-host", "localhost",
        "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"]
    pip = plan(tmp_path, bin_dir, S2S_TORCH="none", S2S_INSTALLER="pip")
    assert "install.sh: installer: pip (S2S_INSTALLER=pip)" in pip.stdout
    unknown = plan(tmp_path, bin_dir, S2S_INSTALLER="conda")
    assert unknown.returncode != 0
    assert "S2S_INSTALLER=conda: expected uv (the default) or pip" in unknown.stderr


def add(tmp_path: Path, venv: Path, config: Path, *packages: str) -> subprocess.CompletedProcess:
    """`install.sh VENV add PACKAGES` with pip's settings from `config` alone, and a cache of its own."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": str(config),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "UV_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([str(INSTALL), str(venv), "add", *packages], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env=env)


def installed_torch(venv: Path) -> str:
    code = "import importlib.metadata; print(importlib.metadata.version('torch'))"
    return subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_uv_installs_from_where_pip_would_and_the_cpu_build_wins(tmp_path, indexes):
    uv = Path(sys.executable).parent / "uv"
    if not uv.is_file():
        pytest.skip(f"{uv} is missing: this .venv was installed with S2S_INSTALLER=pip")
    url, requested = indexes
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # With uv already there, nothing is downloaded from PyPI.
    (venv / "bin" / "uv").symlink_to(uv)
    result = add(tmp_path, venv, pip_config(tmp_path, url), "torch==2.13.0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "install.sh: installer: uv, with pip's settings" in result.stdout
    assert installed_torch(venv) == "2.13.0+cpu"
    assert "/cpu/torch/" in requested and "/pypi/torch/" in requested


def test_without_uv_pip_installs_and_says_why(tmp_path, indexes):
    url, requested = indexes
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # Neither index holds uv.
    result = add(tmp_path, venv, pip_config(tmp_path, url), "torch==2.13.0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "install.sh: installer: WARNING: pip could not install uv==" in result.stdout
    assert "so pip installs instead" in result.stdout
    assert not (venv / "bin" / "uv").exists()
    assert installed_torch(venv) == "2.13.0+cpu"
    assert "/pypi/uv/" in requested
