"""ECR calls of `s2s aws push` against a moto server over HTTP; the push itself is in tests/container."""
import re

import boto3
import pytest

from data_prep.errors import S2SError
from launcher.push import build_tool, ensure_repository, git_revision, login_credentials
from tests.conftest import run_s2s


def test_repository_is_created_once_and_reused(aws_env):
    ecr = boto3.client("ecr")
    name = "s2s-test-repo"
    uri = ensure_repository(ecr, name)
    assert uri.endswith(f".amazonaws.com/{name}")
    assert ensure_repository(ecr, name) == uri
    assert [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]].count(name) == 1


def test_login_decodes_ecrs_token(aws_env):
    credentials = login_credentials(boto3.client("ecr"))
    assert credentials.username == "AWS" and credentials.password
    assert "://" not in credentials.registry and credentials.registry.endswith("amazonaws.com")


def test_git_revision_names_the_commit():
    assert re.fullmatch(r"[0-9a-f]{12}(-dirty)?", git_revision())


def test_no_build_tool_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(S2SError, match="neither a running Docker engine nor buildah"):
        build_tool()
    with pytest.raises(S2SError, match="docker is not installed"):
        build_tool("docker")


def test_push_cli_names_a_bad_build_arg(aws_env):
    result = run_s2s("aws", "push", "--image", "x", "--build-arg", "NOEQUALS")
    assert result.returncode == 1 and "--build-arg 'NOEQUALS': expected KEY=VALUE" in result.stderr
