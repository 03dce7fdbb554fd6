# Set-up is two commands: `make demo` and `make test`. Both install first when needed.
# install.sh finds a Python 3.11 or newer and takes the CPU build of torch, each saying which and why.
# Variables given to make (or set in the environment) pass through to it:
#   PYTHON=/path/to/python3.12     the Python for a new .venv (default: the first of python3,
#                                  python3.13, python3.12, python3.11 that runs and is 3.11 or newer)
#   S2S_TORCH=cuda                 PyPI's default torch build, the CUDA one (on a GPU machine)
#   TORCH_SPEC=torch==2.5.1 TORCH_INDEX=https://download.pytorch.org/whl/cu124   a build of one's choosing
#   S2S_INSTALLER=pip              install with pip alone, not with uv (the default, several times faster)
# install.sh's header says more. Changing them for an existing .venv takes `make clean` first.
VENV := .venv
BIN := $(VENV)/bin
# `make demo` needs the runtime alone; `make test` and `s2s aws` need the dev and aws extras too.
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev

# The image test (`make image-test`): a CPU image FROM a debootstrap base, built with buildah.
IMAGE ?= localhost/s2s:test
SERVE_IMAGE ?= localhost/s2s-serve:test
BASE_IMAGE ?= localhost/s2s-base:bookworm
CPU_TORCH ?= torch==2.13.0
# pip inside the build trusts this CA bundle (for TLS-intercepting proxies) and may take
# wheels from WHEELS (here, the local CPU torch wheel).
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
WHEELS ?= /opt/wheels

.PHONY: install install-dev chromium demo test test-newest newest-checks image image-test clean FORCE

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP) chromium graphviz

# Re-run only when pyproject.toml, install.sh or this Makefile changes, so a second install is instant.
$(RUNTIME_STAMP): pyproject.toml Makefile install.sh
	./install.sh $(VENV) deps
	./install.sh $(VENV) project -e
	touch $@

# The runtime's install and more, in one pass: the installer resolves, and torch is checked, once.
$(DEV_STAMP): pyproject.toml Makefile install.sh
	./install.sh $(VENV) deps dev,aws
	./install.sh $(VENV) project -e
	touch $(RUNTIME_STAMP) $@

# $(call apt-install,PACKAGE,TEST,TESTS): installs a Debian package unless TEST shows it is there;
# without root or apt-get it says why, and pytest then skips TESTS with the reason.
define apt-install
@if $(2); then :; \
elif [ "$$(id -u)" != 0 ]; then echo "$(1): missing, and installing it takes root (apt-get install -y $(1));" \
    "$(3) will be skipped"; \
elif ! command -v apt-get >/dev/null; then echo "$(1): missing, and there is no apt-get to install it;" \
    "$(3) will be skipped"; \
else apt-get update -qq && apt-get install -y $(1) || echo "$(1): apt-get could not install it;" \
    "$(3) will be skipped"; fi
endef

# The browser tests (tests/browser) drive Debian's chromium through Playwright, whose own browser
# download needs the internet. Installing chromium takes root; without it those tests are skipped,
# with the reason shown.
chromium:
	$(call apt-install,chromium,[ -x /usr/bin/chromium ],the browser tests)

demo: install
	$(BIN)/s2s demo --workdir demo

# The suite runs on TEST_WORKERS pytest-xdist workers, a module at a time each, in tests/conftest.py's
# order: one trains the demo while the other runs what does not need it. TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
test: install-dev
	$(BIN)/python -m pytest $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder)

# CI runs the suite on .venv's Python; this quick job keeps the newest Python here (3.13 or later)
# from breaking unseen. Its own venv has neither torch nor Sockeye (S2S_TORCH=none: PyPI's torch is
# the CUDA build, 3 GB), so it checks what needs neither: every module of TORCH_FREE_PACKAGES
# imports, `s2s --help` runs, and NEWEST_TESTS pass. Skipped when there is no such Python.
NEWEST_VENV := .venv-newest
NEWEST_STAMP := $(NEWEST_VENV)/.installed
TORCH_FREE_PACKAGES := data_prep documents serve review launcher s2s_cli
NEWEST_TESTS := tests/serve/test_batcher.py tests/serve/test_cache_and_auth.py tests/serve/test_segment.py \
    tests/serve/test_page.py tests/data_prep/test_clean.py tests/data_prep/test_corpus.py \
    tests/data_prep/test_demo_corpus.py tests/review/test_db.py tests/review/test_routes.py
# Prints the newest Python on the PATH or among pyenv's versions when it is 3.13 or later. Each
# candidate is run: pyenv's shims are on the PATH for every version but run only the selected one.
FIND_NEWEST_PYTHON := best=; best_version=0; \
    for p in $$(command -v python3 python3.13 python3.14 python3.15 python3.16) \
             $$(pyenv root 2>/dev/null)/versions/*/bin/python3.1[3-9]; do \
        v=$$("$$p" -c 'import sys; print(100 * sys.version_info[0] + sys.version_info[1])' 2>/dev/null) || continue; \
        if [ "$$v" -gt "$$best_version" ]; then best=$$p best_version=$$v; fi; \
    done; if [ "$$best_version" -ge 313 ]; then echo "$$best"; fi

test-newest:
	@python=$$($(FIND_NEWEST_PYTHON)); \
	if [ -z "$$python" ]; then echo "test-newest: skipped: no Python 3.13 or newer on the PATH or in pyenv's versions"; \
	else $(MAKE) --no-print-directory newest-checks NEWEST_PYTHON=$$python; fi

newest-checks: $(NEWEST_STAMP)
	$(NEWEST_VENV)/bin/python -c 'import importlib, pkgutil, sys; \
	names = [m.name for top in sys.argv[1:] for m in pkgutil.walk_packages(importlib.import_module(top).__path__, top + ".")]; \
	[importlib.import_module(name) for name in names if not name.endswith(".__main__")]; \
	print(f"{sys.version.split()[0]}: {len(names)} modules of {len(sys.argv) - 1} packages import")' $(TORCH_FREE_PACKAGES)
	$(NEWEST_VENV)/bin/s2s --help >/dev/null
	$(NEWEST_VENV)/bin/python -m pytest -q -p no:cacheprovider $(NEWEST_TESTS)

# Built afresh when stale, and when the newest Python is another than the one it was built with.
# Without compiling every installed module (about 10 s): the tests compile what they import.
$(NEWEST_STAMP): export PIP_COMPILE := false
$(NEWEST_STAMP): pyproject.toml Makefile install.sh $(if $(filter-out $(NEWEST_PYTHON),$(file <$(NEWEST_STAMP))),FORCE)
	@[ -n "$(NEWEST_PYTHON)" ] || { echo "$@: NEWEST_PYTHON is unset: run make test-newest"; exit 2; }
	rm -rf $(NEWEST_VENV)
	PYTHON=$(NEWEST_PYTHON) S2S_TORCH=none ./install.sh $(NEWEST_VENV) deps
	S2S_TORCH=none ./install.sh $(NEWEST_VENV) project -e
	@# Only the two of the dev extra that these tests use: moto and playwright take long to install.
	./install.sh $(NEWEST_VENV) add pytest hypothesis
	echo $(NEWEST_PYTHON) > $@

FORCE:

# Both images on the debootstrap base: the full one, and the serve-only one (--target serve).
BUILD = buildah bud --isolation chroot --layers --format docker \
	    -v $(CA_BUNDLE):/run/host-ca.crt:ro --build-arg PIP_CERT=/run/host-ca.crt \
	    $(if $(wildcard $(WHEELS)),-v $(WHEELS):/run/wheels:ro --build-arg PIP_FIND_LINKS=/run/wheels) \
	    --build-arg BASE_IMAGE=$(BASE_IMAGE) --build-arg SERVE_BASE_IMAGE=$(BASE_IMAGE)

image:
	buildah images --quiet $(BASE_IMAGE) >/dev/null 2>&1 || docker/make-base $(BASE_IMAGE)
	$(BUILD) -t $(IMAGE) --build-arg TORCH_SPEC=$(CPU_TORCH) .
	$(BUILD) -t $(SERVE_IMAGE) --target serve .

image-test: install-dev image
	S2S_IMAGE=$(IMAGE) S2S_SERVE_IMAGE=$(SERVE_IMAGE) $(BIN)/python -m pytest tests/container

clean:
	rm -rf $(VENV) $(NEWEST_VENV) demo *.egg-info

# The documentation site (docs/, mkdocs.yml), served locally at http://127.0.0.1:8000 with MkDocs
# from .venv (the dev extra installs it).
.PHONY: docs graphviz
docs: $(DEV_STAMP)
	$(BIN)/mkdocs serve

# tests/test_docs.py renders docs/architecture.dot again with Graphviz's dot to compare it with
# docs/architecture.svg; installing graphviz takes root. Without it that test is skipped, with the
# reason shown.
graphviz:
	$(call apt-install,graphviz,command -v dot >/dev/null,the architecture picture's test)
