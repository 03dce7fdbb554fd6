"""`s2s aws push`: build the image and push it to an ECR repository.

Runs on a user's machine, never in the image. The repository is created when missing, the
login uses ECR's authorization token, and the image is tagged with the git revision and
`latest`. Docker is used when its engine answers, buildah otherwise.
"""
import base64
import logging
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from data_prep.errors import S2SError

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PushConfig:
    repository: str = "s2s"
    # A local image to push instead of building one.
    image: str | None = None
    build_args: dict[str, str] = field(default_factory=dict)
    # "docker" or "buildah"; None picks docker when its engine answers, else buildah.
    tool: str | None = None
    # Push to this registry host instead of the repository's own (a mirror, or a local test registry).
    registry: str | None = None


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    registry: str


def git_revision(path: Path = REPO) -> str:
    """The commit the image is built from, marked -dirty when the tree has uncommitted changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, check=True).stdout

    try:
        revision = git("rev-parse", "--short=12", "HEAD").strip()
        return revision + ("-dirty" if git("status", "--porcelain", "--untracked-files=no").strip() else "")
    except (OSError, subprocess.CalledProcessError) as e:
        raise S2SError(f"{path}: cannot read the git revision to tag the image with ({e})") from e


def build_tool(choice: str | None = None) -> str:
    if choice:
        if not shutil.which(choice):
            raise S2SError(f"{choice} is not installed")
        return choice
    if shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True).returncode == 0:
        return "docker"
    if shutil.which("buildah"):
        return "buildah"
    raise S2SError("neither a running Docker engine nor buildah was found; install one to build the image")


def ensure_repository(ecr, name: str) -> str:
    """The repository's URI, creating the repository when it is missing."""
    try:
        (repository,) = ecr.describe_repositories(repositoryNames=[name])["repositories"]
    except ecr.exceptions.RepositoryNotFoundException:
        logger.info("creating ECR repository %s", name)
        repository = ecr.create_repository(repositoryName=name, imageScanningConfiguration={"scanOnPush": True})[
            "repository"]
    return repository["repositoryUri"]


def login_credentials(ecr) -> Credentials:
    """ECR's authorization token is base64 "AWS:password", valid for 12 hours."""
    (data,) = ecr.get_authorization_token()["authorizationData"]
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return Credentials(username, password, data["proxyEndpoint"].removeprefix("https://"))


def _run(command: list[str], secret: str | None = None) -> None:
    logger.info("%s", " ".join(command))
    result = subprocess.run(command, input=secret, text=True, capture_output=True)
    if result.returncode != 0:
        raise S2SError(f"{command[0]} {command[1]} failed:\n{result.stderr.strip()[-2000:]}")


def build(tool: str, tag: str, build_args: dict[str, str]) -> None:
    args = [a for key, value in build_args.items() for a in ("--build-arg", f"{key}={value}")]
    if tool == "docker":
        _run(["docker", "build", "-t", tag, *args, str(REPO)])
    else:
        _run(["buildah", "bud", "--isolation", "chroot", "--layers", "--format", "docker", "-t", tag, *args, str(REPO)])


def push_image(tool: str, local: str, remote: str, credentials: Credentials, tls_verify: bool) -> None:
    if tool == "docker":
        _run(["docker", "login", "--username", credentials.username, "--password-stdin", credentials.registry],
             secret=credentials.password)
        _run(["docker", "tag", local, remote])
        _run(["docker", "push", remote])
    else:
        _run(["buildah", "push", f"--tls-verify={str(tls_verify).lower()}", "--creds",
              f"{credentials.username}:{credentials.password}", local, f"docker://{remote}"])


def push(config: PushConfig, ecr) -> list[str]:
    """Builds (unless given an image), then pushes it as :REVISION and :latest; returns both references."""
    tool = build_tool(config.tool)
    revision = git_revision()
    local = config.image or f"localhost/{config.repository}:{revision}"
    if not config.image:
        build(tool, local, config.build_args)
    uri = ensure_repository(ecr, config.repository)
    credentials = login_credentials(ecr)
    if config.registry:
        uri = f"{config.registry}/{uri.split('/', 1)[1]}"
        credentials = Credentials(credentials.username, credentials.password, config.registry)
    pushed = []
    for tag in (revision, "latest"):
        remote = f"{uri}:{tag}"
        # Only a registry on this machine may go without TLS.
        push_image(tool, local, remote, credentials, tls_verify=not uri.startswith(("127.0.0.1", "localhost")))
        pushed.append(remote)
    return pushed
