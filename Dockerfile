# One image for s2s: SageMaker runs `IMAGE train` for a training job and `IMAGE serve` for an
# endpoint. Not yet built in CI; the CUDA base image, layer order and a real build come later.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ARG TORCH_SPEC=torch==2.13.0
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /opt/s2s

COPY pyproject.toml README.md ./
COPY data_prep ./data_prep
COPY seq2seq ./seq2seq
COPY serve ./serve
COPY s2s_cli.py ./
RUN pip install "${TORCH_SPEC}" && pip install . && pip install --no-deps sockeye==3.1.34

COPY docker/train docker/serve /usr/local/bin/
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
EXPOSE 8080
ENTRYPOINT []
CMD ["serve"]
