# One image for s2s: SageMaker runs `IMAGE train` for a training job and `IMAGE serve` for an
# endpoint. The default base is PyTorch's CUDA 12.4 runtime image (Ubuntu 22.04, Python 3.11,
# a CUDA build of torch 2.5.1 with kernels for sm_80/86/90: A100, A10G and H100). For a CPU
# image, pass a base with Python 3.11 and venv, and the CPU torch:
#   buildah bud --build-arg BASE_IMAGE=localhost/s2s-base:bookworm --build-arg TORCH_SPEC=torch==2.13.0 ...
ARG BASE_IMAGE=pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime
FROM ${BASE_IMAGE}

# The torch build to install; the default is the one the CUDA base already carries.
ARG TORCH_SPEC=torch==2.5.1
ARG TORCH_INDEX=
# Behind a TLS-intercepting proxy: the path of a CA bundle (mounted into the build) for pip.
ARG PIP_CERT=
# A directory of wheels (mounted into the build) that pip may take packages from.
ARG PIP_FIND_LINKS=
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/s2s/venv/bin:$PATH

WORKDIR /opt/s2s
SHELL ["/bin/sh", "-eu", "-c"]

# eflomal (term annotation's word aligner) is built from source: it needs a C compiler and Python's headers.
# hadolint ignore=DL3008
RUN if ! command -v gcc >/dev/null; then \
        apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev python3-dev \
        && rm -rf /var/lib/apt/lists/*; \
    fi

# Dependencies first: this layer is rebuilt only when pyproject.toml or install.sh change.
# The venv sees the base's packages, so a base that carries torch is not downloaded again.
COPY pyproject.toml install.sh ./
RUN python3 -m venv --system-site-packages venv \
    && PYTHON=python3 TORCH_SPEC="${TORCH_SPEC}" TORCH_INDEX="${TORCH_INDEX}" ./install.sh venv deps

COPY data_prep ./data_prep
COPY documents ./documents
COPY seq2seq ./seq2seq
COPY serve ./serve
COPY review ./review
# The AWS launcher's code comes along with the package; its SDK (the aws extra) does not.
COPY launcher ./launcher
COPY pipeline ./pipeline
COPY s2s_cli ./s2s_cli
COPY README.md ./
RUN ./install.sh venv project && rm -rf build ./*.egg-info

COPY docker/train docker/serve /usr/local/bin/
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
EXPOSE 8080
# SageMaker passes `train` or `serve` as the command; they are the scripts above.
ENTRYPOINT []
CMD ["serve"]
