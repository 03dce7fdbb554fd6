"""`s2s aws push` for real: the built image into a local registry (Debian's docker-registry),
with ECR's repository and token from a moto server. Run by `make image-test`."""
import json
import subprocess
import time
import urllib.request

import pytest

from launcher.push import git_revision
from serve.local import free_port
from tests.conftest import run_s2s
from tests.container.test_image import IMAGE, needs_image


@pytest.fixture
def registry(tmp_path):
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(json.dumps({"version": 0.1, "storage": {"filesystem": {"rootdirectory": str(tmp_path / "data")}},
                                  "http": {"addr": f"127.0.0.1:{port}"}}))
    process = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield f"127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=30)


@needs_image
def test_push_tags_the_revision_and_latest(aws_env, registry):
    result = run_s2s("aws", "push", "--image", IMAGE, "--tool", "buildah", "--registry", registry,
                     "--repository", "s2s-push-test")
    assert result.returncode == 0, result.stderr[-3000:]
    revision = git_revision()
    assert f"pushed {registry}/s2s-push-test:{revision}" in result.stdout
    for tag in (revision, "latest"):
        inspected = json.loads(subprocess.run(
            ["skopeo", "inspect", "--tls-verify=false", f"docker://{registry}/s2s-push-test:{tag}"],
            capture_output=True, text=True, check=True).stdout)
        assert inspected["Labels"]["com.amazonaws.sagemaker.capabilities.accept-bind-to-port"] == "true"
    import boto3

    names = [r["repositoryName"] for r in boto3.client("ecr").describe_repositories()["repositories"]]
    assert "s2s-push-test" in names
