# Two images for s2s. The full one (the last stage, built by default): SageMaker runs `IMAGE train`
# for a training job and `IMAGE serve` for an endpoint. Its default base is PyTorch's CUDA 12.4
# runtime image (Ubuntu 22.04, Python 3.11, a CUDA build of torch 2.5.1 with kernels for
# sm_80/86/90: A100, A10G and H100). For a CPU image, pass a base with Python 3.11 and venv, and
# the CPU torch:
#   buildah bud --build-arg BASE_IMAGE=localhost/s2s-base:bookworm --build-arg TORCH_SPEC=torch==2.13.0 ...
# The serve-only one (`--target serve`): the server on CTranslate2 alone, without PyTorch or
# Sockeye, for serverless endpoints; it refuses a version that has no CTranslate2 export.
ARG BASE_IMAGE=pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime
ARG SERVE_BASE_IMAGE=python:3.11-slim-bookworm

# The project's code, once, for both images. The AWS launcher's code comes along with the package; its
# SDK (the aws extra) does not.
FROM scratch AS source
COPY data_prep /s2s/data_prep
COPY documents /s2s/documents
COPY seq2seq /s2s/seq2seq
COPY serve /s2s/serve
COPY review /s2s/review
COPY launcher /s2s/launcher
COPY pipeline /s2s/pipeline
COPY s2s_cli /s2s/s2s_cli
COPY README.md /s2s/

FROM ${SERVE_BASE_IMAGE} AS serve-build
ARG PIP_CERT=
ARG PIP_FIND_LINKS=
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    S2S_INSTALLER=pip \
    S2S_TORCH=none \
    S2S_PROFILE=serve
WORKDIR /opt/s2s
SHELL ["/bin/sh", "-eu", "-c"]
# binutils to strip the wheels' debug information; it stays behind in this stage. No compiler: what needs
# one (eflomal) is training's alone (pyproject.toml's [tool.s2s] training-only).
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends binutils && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml install.sh docker/strip-debug ./
RUN python3 -m venv venv && PYTHON=python3 ./install.sh venv deps && ./strip-debug venv
COPY --from=source /s2s/ ./
# pip and setuptools install, and nothing serving imports them.
RUN ./install.sh venv project && rm -rf build ./*.egg-info strip-debug \
    && venv/bin/python -m pip uninstall -q -y pip setuptools

FROM ${SERVE_BASE_IMAGE} AS serve
ENV PYTHONUNBUFFERED=1 \
    PATH=/opt/s2s/venv/bin:$PATH \
    S2S_ENGINE=ctranslate2
WORKDIR /opt/s2s
COPY --from=serve-build /opt/s2s/ ./
COPY docker/serve /usr/local/bin/
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
EXPOSE 8080
ENTRYPOINT []
CMD ["serve"]

FROM ${BASE_IMAGE} AS full

# The torch build to install; the default is the one the CUDA base already carries.
ARG TORCH_SPEC=torch==2.5.1
ARG TORCH_INDEX=
# Behind a TLS-intercepting proxy: the path of a CA bundle (mounted into the build) for pip.
ARG PIP_CERT=
# A directory of wheels (mounted into the build) that pip may take packages from.
ARG PIP_FIND_LINKS=
# pip installs, not uv (install.sh's default): an image builds rarely, and uv's 38 MB would stay in it.
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    S2S_INSTALLER=pip \
    PATH=/opt/s2s/venv/bin:$PATH

WORKDIR /opt/s2s
SHELL ["/bin/sh", "-eu", "-c"]

# eflomal (term annotation's word aligner) is built from source: it needs a C compiler, make and Python's
# headers.
# hadolint ignore=DL3008
RUN if ! command -v gcc >/dev/null || ! command -v make >/dev/null; then \
        apt-get update && apt-get install -y --no-install-recommends gcc make libc6-dev python3-dev \
        && rm -rf /var/lib/apt/lists/*; \
    fi

# Dependencies first: this layer is rebuilt only when pyproject.toml or install.sh change.
# The venv sees the base's packages, so a base that carries torch is not downloaded again.
COPY pyproject.toml install.sh docker/strip-debug ./
RUN python3 -m venv --system-site-packages venv \
    && PYTHON=python3 TORCH_SPEC="${TORCH_SPEC}" TORCH_INDEX="${TORCH_INDEX}" ./install.sh venv deps \
    && ./strip-debug venv && rm strip-debug

COPY --from=source /s2s/ ./
RUN ./install.sh venv project && rm -rf build ./*.egg-info

COPY docker/train docker/serve /usr/local/bin/
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
EXPOSE 8080
# SageMaker passes `train` or `serve` as the command; they are the scripts above.
ENTRYPOINT []
CMD ["serve"]
