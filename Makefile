# Set-up is two commands: `make demo` and `make test`. Both install first when needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# install.sh takes the CPU wheel by default. A GPU user picks a CUDA build, for example:
#   make install TORCH_SPEC=torch==2.5.1 TORCH_INDEX=https://download.pytorch.org/whl/cu124
export TORCH_SPEC TORCH_INDEX PYTHON
# `make demo` needs the runtime alone; `make test` and `s2s aws` need the dev and aws extras too.
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev

# The image test (`make image-test`): a CPU image FROM a debootstrap base, built with buildah.
IMAGE ?= localhost/s2s:test
BASE_IMAGE ?= localhost/s2s-base:bookworm
CPU_TORCH ?= torch==2.13.0
# pip inside the build trusts this CA bundle (for TLS-intercepting proxies) and may take
# wheels from WHEELS (here, the local CPU torch wheel).
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
WHEELS ?= /opt/wheels

.PHONY: install install-dev chromium demo test image image-test clean

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP) chromium

# Re-run only when pyproject.toml, install.sh or this Makefile changes, so a second install is instant.
$(RUNTIME_STAMP): pyproject.toml Makefile install.sh
	./install.sh $(VENV) deps
	./install.sh $(VENV) project -e
	touch $@

$(DEV_STAMP): $(RUNTIME_STAMP)
	./install.sh $(VENV) deps dev,aws
	touch $@

# The browser tests (tests/browser) drive Debian's chromium through Playwright, whose own browser
# download needs the internet. Installing chromium takes root; without it those tests are skipped,
# with the reason shown.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" != 0 ]; then echo "chromium: /usr/bin/chromium is missing and installing it takes root" \
	    "(apt-get install -y chromium); the browser tests will be skipped"; \
	elif ! command -v apt-get >/dev/null; then echo "chromium: /usr/bin/chromium is missing and there is no" \
	    "apt-get to install it; the browser tests will be skipped"; \
	else apt-get update -qq && apt-get install -y chromium || echo "chromium: apt-get could not install it;" \
	    "the browser tests will be skipped"; fi

demo: install
	$(BIN)/s2s demo --workdir demo

test: install-dev
	$(BIN)/python -m pytest

image:
	buildah images --quiet $(BASE_IMAGE) >/dev/null 2>&1 || docker/make-base $(BASE_IMAGE)
	buildah bud --isolation chroot --layers --format docker -t $(IMAGE) \
	    -v $(CA_BUNDLE):/run/host-ca.crt:ro --build-arg PIP_CERT=/run/host-ca.crt \
	    $(if $(wildcard $(WHEELS)),-v $(WHEELS):/run/wheels:ro --build-arg PIP_FIND_LINKS=/run/wheels) \
	    --build-arg BASE_IMAGE=$(BASE_IMAGE) --build-arg TORCH_SPEC=$(CPU_TORCH) .

image-test: install-dev image
	S2S_IMAGE=$(IMAGE) $(BIN)/python -m pytest tests/container

clean:
	rm -rf $(VENV) demo *.egg-info

# The documentation site (docs/, mkdocs.yml), served locally at http://127.0.0.1:8000 with MkDocs
# from .venv (the dev extra installs it).
.PHONY: docs graphviz
docs: $(DEV_STAMP)
	$(BIN)/mkdocs serve

# tests/test_docs.py renders docs/architecture.dot again with Graphviz's dot to compare it with
# docs/architecture.svg; installing graphviz takes root. Without it that test is skipped, with the
# reason shown.
graphviz:
	@if command -v dot >/dev/null; then :; \
	elif [ "$$(id -u)" != 0 ]; then echo "graphviz: dot is missing and installing it takes root" \
	    "(apt-get install -y graphviz); the architecture picture's test will be skipped"; \
	elif ! command -v apt-get >/dev/null; then echo "graphviz: dot is missing and there is no" \
	    "apt-get to install it; the architecture picture's test will be skipped"; \
	else apt-get update -qq && apt-get install -y graphviz || echo "graphviz: apt-get could not install it;" \
	    "the architecture picture's test will be skipped"; fi
