#!/bin/sh
# Installs s2s into a virtual environment: the one procedure that `make install` and the
# Dockerfile share. Two steps, so that an image rebuilds its dependency layer only when
# pyproject.toml changes, not when the code does:
#   ./install.sh VENV deps [EXTRAS]    torch, then pyproject.toml's dependencies (and those of
#                                      EXTRAS, comma-separated: dev,aws)
#   ./install.sh VENV project [-e]     the project itself (-e: editable), then Sockeye
# TORCH_SPEC and TORCH_INDEX pick the torch build (default: the CPU wheel).
set -eu
VENV=$1
STEP=$2
OPTION=${3:-}
PYTHON=${PYTHON:-python3.11}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
TORCH_INDEX=${TORCH_INDEX:-}
# Sockeye's metadata pins torch<1.14 and numpy<2; 3.1.34 trains and translates on torch 2.x and
# numpy 2 (the tests run there), so it is installed last, without its pins (--no-deps).
SOCKEYE_SPEC=sockeye==3.1.34

test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
PIP="$VENV/bin/pip"
case "$STEP" in
deps)
    if [ -n "$TORCH_INDEX" ]; then "$PIP" install -q --index-url "$TORCH_INDEX" "$TORCH_SPEC"
    else "$PIP" install -q "$TORCH_SPEC"; fi
    "$VENV/bin/python" - "$OPTION" > "$VENV/.s2s-requirements.txt" <<'PY'
import sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extras = [name for name in sys.argv[1].split(",") if name]
print("\n".join(project["dependencies"] + [r for name in extras for r in project["optional-dependencies"][name]]))
PY
    "$PIP" install -q -r "$VENV/.s2s-requirements.txt"
    ;;
project)
    if [ "$OPTION" = "-e" ]; then "$PIP" install -q --no-deps -e .; else "$PIP" install -q --no-deps .; fi
    "$PIP" install -q --no-deps "$SOCKEYE_SPEC"
    "$VENV/bin/python" -c "import sockeye, torch; print('sockeye', sockeye.__version__, 'torch', torch.__version__)"
    ;;
*)
    echo "usage: $0 VENV deps [EXTRAS] | $0 VENV project [-e]" >&2
    exit 2
    ;;
esac
