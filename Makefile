# Set-up is two commands: `make demo` and `make test`. Both install first when needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# The CPU wheel by default. A GPU user picks a CUDA build, for example:
#   make install TORCH_SPEC=torch==2.5.1 TORCH_INDEX=https://download.pytorch.org/whl/cu124
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
SOCKEYE_SPEC := sockeye==3.1.34
STAMP := $(VENV)/.installed

.PHONY: install demo test bench clean

install: $(STAMP)

# Re-runs only when pyproject.toml or this Makefile changes, so a second `make install` is instant.
$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) '$(TORCH_SPEC)'
	$(BIN)/pip install -q -e '.[dev]'
	# Sockeye's metadata pins torch<1.14; 3.1.34 runs on torch 2.x, so its pin is skipped.
	$(BIN)/pip install -q --no-deps '$(SOCKEYE_SPEC)'
	$(BIN)/python -c "import sockeye, torch; print('sockeye', sockeye.__version__, 'torch', torch.__version__)"
	touch $@

demo: install
	$(BIN)/s2s demo --workdir demo

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) demo *.egg-info
