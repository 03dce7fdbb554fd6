#!/bin/sh
# Installs s2s into a virtual environment: the one procedure that `make install` and the
# Dockerfile share. Two steps, so that an image rebuilds its dependency layer only when
# pyproject.toml changes, not when the code does:
#   ./install.sh VENV deps [EXTRAS]    torch, then pyproject.toml's dependencies (and those of
#                                      EXTRAS, comma-separated: dev,aws)
#   ./install.sh VENV project [-e]     the project itself (-e: editable), then Sockeye
#   ./install.sh VENV add PACKAGE...   more packages, with the installer below
#   ./install.sh VENV plan             prints the Python and the torch build that `deps` would
#                                      take, the pip arguments for torch, and the options uv would
#                                      be given from pip's settings; installs nothing
#
# Python: VENV's own when VENV exists. Otherwise $PYTHON, or else the first of python3,
# python3.13, python3.12 and python3.11 that runs and is 3.11 or newer. Being on the PATH is not
# enough: pyenv puts a shim there for every version it has, and a shim of a version that is not
# selected refuses to run.
#
# torch: S2S_TORCH picks the build.
#   cpu (default)  the CPU build. PyTorch's CPU index ($S2S_TORCH_CPU_INDEX, default below) is
#                  added as an extra index when it answers within a few seconds: its
#                  torch==X+cpu sorts above PyPI's torch==X. When it does not answer, torch comes
#                  from PyPI, whose default Linux wheel is the CUDA build (several GB), with a
#                  warning saying so.
#   cuda           PyPI's default build: CUDA on Linux.
#   none           neither torch nor Sockeye: enough to serve CTranslate2 exports (`s2s serve`),
#                  not to train or to decode with Sockeye. CI's `make test-newest` uses it.
# S2S_PROFILE=serve also leaves out pyproject.toml's [tool.s2s] training-only packages (eflomal, which
# needs a compiler, and matplotlib): the serve-only image's install. The default, full, keeps them.
# TORCH_INDEX=URL takes torch from that index alone (pip's --index-url), for example a CUDA
# version of one's choosing: https://download.pytorch.org/whl/cu124. TORCH_SPEC is the
# requirement (default torch==2.13.0). The Dockerfile passes both.
#
# The installer: S2S_INSTALLER picks it.
#   uv (default)   uv, which pip puts into VENV first, installs with pip's arguments and pip's settings
#                  (see uv_pip_install): a clean `make install-dev` took 37 s of installing where pip took
#                  137 s. Where uv cannot be had, pip installs, with a warning saying why.
#   pip            pip alone (the Dockerfile's choice: an image builds rarely, and uv's 38 MB would
#                  stay in it).
set -eu
VENV=${1:?usage: $0 VENV deps [EXTRAS] | $0 VENV project [-e] | $0 VENV add PACKAGE... | $0 VENV plan}
STEP=${2:-}
OPTION=${3:-}
PYTHON=${PYTHON:-}
S2S_TORCH=${S2S_TORCH:-cpu}
S2S_PROFILE=${S2S_PROFILE:-full}
S2S_TORCH_CPU_INDEX=${S2S_TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}
# Seconds to wait for the CPU index; it answers in well under a second where it can be reached.
S2S_TORCH_PROBE_S=${S2S_TORCH_PROBE_S:-5}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
TORCH_INDEX=${TORCH_INDEX:-}
S2S_INSTALLER=${S2S_INSTALLER:-uv}
UV_SPEC=uv==0.13.9
# Sockeye's metadata pins torch<1.14 and numpy<2; 3.1.34 trains and translates on torch 2.x and
# numpy 2 (the tests run there), so it is installed last, without its pins (--no-deps).
SOCKEYE_SPEC=sockeye==3.1.34

# pip compiles what it installs one file at a time, and uv not at all; compile_venv does it afterwards on
# every core (a clean `make install-dev` with pip on 2 cores: 187 s, 173 s so). PIP_COMPILE=false from the
# caller compiles nothing.
COMPILE=${PIP_COMPILE:-true}
export PIP_COMPILE=false

say() { echo "install.sh: $*"; }
die() { echo "install.sh: error: $*" >&2; exit 1; }

# Prints "EXECUTABLE VERSION" when $1 runs and is Python 3.11 or newer; fails otherwise, quietly.
python_info() {
    "$1" -c 'import sys; v = sys.version_info
print(sys.executable, "%d.%d.%d" % v[:3]) if v >= (3, 11) else sys.exit(1)' 2>/dev/null
}

# Sets PY, the Python that creates VENV (or VENV's own), and says which it is and why.
choose_python() {
    if [ -x "$VENV/bin/python" ]; then
        PY=$VENV/bin/python
        info=$(python_info "$PY") || die "$VENV exists, but its Python does not run or is older than 3.11:" \
            "remove $VENV (make clean) and install again"
        say "Python ${info##* }: $VENV's own (PYTHON, and the search for one, apply only to a new $VENV)"
        return
    fi
    if [ -n "$PYTHON" ]; then
        info=$(python_info "$PYTHON") || die "PYTHON=$PYTHON does not run, or is older than 3.11." \
            "Name one that runs and is 3.11 or newer: make install PYTHON=/path/to/python3.12"
        PY=$PYTHON
        say "Python ${info##* }: $PYTHON (${info% *}), from PYTHON"
        return
    fi
    for candidate in python3 python3.13 python3.12 python3.11; do
        if info=$(python_info "$candidate"); then
            PY=$candidate
            say "Python ${info##* }: $candidate (${info% *}), the first of python3, python3.13, python3.12" \
                "and python3.11 that runs and is 3.11 or newer (PYTHON=/path/to/python picks another)"
            return
        fi
    done
    die "no Python 3.11 or newer: none of python3, python3.13, python3.12 and python3.11 on the PATH runs" \
        "and is 3.11 or newer (a pyenv shim runs only for a selected version). Install one, with its venv" \
        "module, or name one: make install PYTHON=/path/to/python3.12 (or: PYTHON=... ./install.sh ...)"
}

# Succeeds when the index's page for torch answers within S2S_TORCH_PROBE_S seconds; else prints why
# not. pip's CA bundle (PIP_CERT) is trusted, as pip trusts it behind a TLS-intercepting proxy.
probe_index() {
    "$PY" - "$1" "$S2S_TORCH_PROBE_S" <<'PY'
import os, ssl, sys, threading, urllib.request

url, timeout = sys.argv[1].rstrip("/") + "/torch/", float(sys.argv[2])
outcome = []

def get():
    try:
        context = ssl.create_default_context(cafile=os.environ.get("PIP_CERT") or None)
        urllib.request.urlopen(url, timeout=timeout, context=context).close()
        outcome.append(None)
    except Exception as e:
        outcome.append(e)

# A thread bounds the whole request: urlopen's timeout does not cover the name lookup.
thread = threading.Thread(target=get, daemon=True)
thread.start()
thread.join(timeout)
problem = outcome[0] if outcome else f"no answer within {timeout:g} s"
if problem is not None:
    print(problem)
    sys.exit(1)
PY
}

# Compiles VENV's packages to bytecode, which already compiled files skip, but for the test suites that
# packages ship (pandas', scipy's, sympy's: 53 of the 297 MB of source of `make install-dev`), which
# nothing imports. Its status is ignored, as pip ignores it: some packages ship files that are not
# Python 3 on purpose (templates, test data).
compile_venv() {
    [ "$COMPILE" = false ] && return
    "$VENV/bin/python" -m compileall -q -j 0 -x '/tests?/' \
        "$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null || true
}

# Sets INSTALL, the command that `pip install`'s arguments follow, and says which installer it is.
choose_installer() {
    if [ "$S2S_INSTALLER" = pip ]; then
        INSTALL="$VENV/bin/pip install -q"
        say "installer: pip (S2S_INSTALLER=pip)"
    elif [ -x "$VENV/bin/uv" ] || why_not=$("$VENV/bin/pip" install -q "$UV_SPEC" 2>&1); then
        INSTALL="uv_pip_install run $VENV/bin/python"
        say "installer: uv, with pip's settings (S2S_INSTALLER=pip installs with pip)"
    else
        INSTALL="$VENV/bin/pip install -q"
        say "installer: WARNING: pip could not install $UV_SPEC, so pip installs instead (several times slower):" \
            "$(echo "$why_not" | tail -n 1)"
    fi
}

# uv_pip_install run|show PYTHON ARGS...: runs (or shows) `uv pip install ARGS` into PYTHON's environment,
# taking packages from where PYTHON's pip would. pip's settings (its configuration files and PIP_*
# variables, as `pip config list` shows them) become uv's options, since uv reads neither: the indexes,
# find-links, constraints, trusted hosts, CA bundle, proxy and timeout. uv's index strategy is set to
# pip's, the best version across every index, so that a CPU index's torch==X+cpu wins over PyPI's
# torch==X as it does for pip. uv is the one beside PYTHON.
uv_pip_install() {
    "$2" - "$@" <<'PY'
import ast, os, subprocess, sys

mode, python, args = sys.argv[1], sys.argv[2], sys.argv[3:]
listed = subprocess.run([python, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
# pip's order of precedence: its environment variables, then the [install] section, then [global].
rank = {"global": 1, "install": 2, ":env:": 3}
settings = {}
for line in listed.splitlines():
    name, _, text = line.partition("=")
    section, _, key = name.rpartition(".")
    if section in rank and rank[section] >= settings.get(key, (0, ""))[0]:
        settings[key] = (rank[section], ast.literal_eval(text))
value = {key: v for key, (_, v) in settings.items()}.get
options = ["--index-strategy", "unsafe-best-match"]
for key, option in [("index-url", "--index-url"), ("extra-index-url", "--extra-index-url"),
                    ("find-links", "--find-links"), ("constraint", "--constraint"),
                    ("trusted-host", "--allow-insecure-host")]:
    for item in (value(key) or "").split():
        options += [option, item]
if (value("no-index") or "").lower() in ("1", "true", "yes", "on"):
    options.append("--no-index")
env = {}
if value("cert"):
    env["SSL_CERT_FILE"] = value("cert")
for name in ("HTTPS_PROXY", "HTTP_PROXY"):
    if value("proxy") and name not in os.environ:
        env[name] = value("proxy")
if value("timeout") or value("default-timeout"):
    env["UV_HTTP_TIMEOUT"] = value("timeout") or value("default-timeout")
if mode == "show":
    print("install.sh: installer: uv pip install", *options, *(f"{k}={v}" for k, v in env.items()))
    sys.exit()
uv = os.path.join(os.path.dirname(python), "uv")
os.execve(uv, [uv, "pip", "install", "--python", python, "--quiet", *options, *args], {**os.environ, **env})
PY
}

# Sets TORCH_ARGS (what follows `pip install`; empty for none) and says which build and why.
choose_torch() {
    TORCH_ARGS=
    case "$S2S_TORCH" in
    cpu|cuda|none) ;;
    *) die "S2S_TORCH=$S2S_TORCH: expected cpu (the default), cuda or none" ;;
    esac
    if [ -n "$TORCH_INDEX" ]; then
        [ "$S2S_TORCH" != none ] || die "S2S_TORCH=none installs no torch, but TORCH_INDEX=$TORCH_INDEX is set"
        TORCH_ARGS="--index-url $TORCH_INDEX $TORCH_SPEC"
        say "torch: $TORCH_SPEC from TORCH_INDEX=$TORCH_INDEX, and only from there"
    elif [ "$S2S_TORCH" = none ]; then
        say "torch: none (S2S_TORCH=none): neither torch nor Sockeye; CTranslate2 exports can be served," \
            "nothing can be trained"
        return
    elif [ "$S2S_TORCH" = cuda ]; then
        TORCH_ARGS=$TORCH_SPEC
        say "torch: $TORCH_SPEC from PyPI (S2S_TORCH=cuda), whose default Linux build is the CUDA one." \
            "For another CUDA version, TORCH_INDEX=https://download.pytorch.org/whl/cu124 (for example)"
    elif why_not=$(probe_index "$S2S_TORCH_CPU_INDEX"); then
        TORCH_ARGS="--extra-index-url $S2S_TORCH_CPU_INDEX $TORCH_SPEC"
        say "torch: the CPU build of $TORCH_SPEC, from PyTorch's CPU index $S2S_TORCH_CPU_INDEX" \
            "(the default without S2S_TORCH=cuda)"
    else
        TORCH_ARGS=$TORCH_SPEC
        say "torch: WARNING: PyTorch's CPU index $S2S_TORCH_CPU_INDEX could not be reached ($why_not)."
        say "torch: WARNING: $TORCH_SPEC comes from PyPI instead, whose default Linux build is the CUDA one" \
            "(several GB of nvidia-* libraries), unless pip's own settings (find-links, an index) offer a CPU wheel."
        say "torch: to choose, set TORCH_INDEX=<a CPU index this machine reaches>, or S2S_TORCH=cuda"
    fi
    say "torch: pip install $TORCH_ARGS"
}

case "$S2S_INSTALLER" in
uv|pip) ;;
*) die "S2S_INSTALLER=$S2S_INSTALLER: expected uv (the default) or pip" ;;
esac

case "$STEP" in
plan)
    choose_python
    choose_torch
    if [ "$S2S_INSTALLER" = pip ]; then say "installer: pip (S2S_INSTALLER=pip)"; else uv_pip_install show "$PY"; fi
    ;;
add)
    [ -x "$VENV/bin/python" ] || die "$VENV holds no Python: install.sh $VENV deps creates it"
    shift 2
    choose_installer
    set -f
    $INSTALL "$@"
    set +f
    ;;
deps)
    choose_python
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
    choose_torch
    choose_installer
    # INSTALL and TORCH_ARGS are split into words on purpose (neither paths nor URLs nor requirements hold
    # spaces), not globbed.
    set -f
    if [ -n "$TORCH_ARGS" ]; then
        # shellcheck disable=SC2086
        $INSTALL $TORCH_ARGS
    fi
    "$VENV/bin/python" - "$OPTION" "$S2S_TORCH" "$S2S_PROFILE" > "$VENV/.s2s-requirements.txt" <<'PY'
import re, sys, tomllib

pyproject = tomllib.load(open("pyproject.toml", "rb"))
project = pyproject["project"]
extras = [name for name in sys.argv[1].split(",") if name]
requirements = project["dependencies"] + [r for name in extras for r in project["optional-dependencies"][name]]
left_out = set(pyproject["tool"]["s2s"]["training-only"]) if sys.argv[3] == "serve" else set()
if sys.argv[2] == "none":
    left_out.add("torch")
print("\n".join(r for r in requirements if re.split(r"[^\w.-]", r, maxsplit=1)[0].lower() not in left_out))
PY
    $INSTALL -r "$VENV/.s2s-requirements.txt"
    set +f
    compile_venv
    # Said last: imported before numpy is installed, torch warns that it cannot find it.
    if [ -n "$TORCH_ARGS" ]; then
        "$VENV/bin/python" - "$VENV" "$S2S_TORCH" "$TORCH_INDEX" <<'PY'
import os, sys, torch

venv, wanted, index = sys.argv[1:]
cuda = torch.version.cuda
print(f"install.sh: torch: installed {torch.__version__}, CUDA {cuda or 'none (the CPU build)'},"
      f" at {os.path.dirname(torch.__file__)}")
# A base image's torch, seen through --system-site-packages, is the base's choice; one in the venv is ours.
inside = os.path.realpath(torch.__file__).startswith(os.path.realpath(venv) + os.sep)
if cuda and wanted == "cpu" and not index and inside:
    print(f"install.sh: torch: WARNING: this is a CUDA build, not the CPU one: {venv} already held it, or pip"
          f" found no CPU wheel. To replace it, remove {venv} (make clean) and install again", file=sys.stderr)
PY
    fi
    ;;
project)
    choose_installer
    set -f
    if [ "$OPTION" = "-e" ]; then $INSTALL --no-deps -e .; else $INSTALL --no-deps .; fi
    if [ "$S2S_TORCH" = none ]; then
        "$VENV/bin/python" -c "import s2s_cli; print('install.sh: s2s installed without torch and Sockeye (S2S_TORCH=none)')"
    else
        $INSTALL --no-deps "$SOCKEYE_SPEC"
        set +f
        compile_venv
        "$VENV/bin/python" -c "import sockeye, torch; print('sockeye', sockeye.__version__, 'torch', torch.__version__)"
    fi
    ;;
*)
    echo "usage: $0 VENV deps [EXTRAS] | $0 VENV project [-e] | $0 VENV add PACKAGE... | $0 VENV plan" >&2
    exit 2
    ;;
esac
