"""The import directions the architecture page draws: import-linter checks every import of the project's
packages (function-level ones too) against the contracts in pyproject.toml."""
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_import_follows_the_layers():
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_every_package_is_in_a_layer():
    """A package added to the project but left out of the contract would escape the check."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = {name.split(".")[0] for name in project["tool"]["setuptools"]["packages"]}
    layers = project["tool"]["importlinter"]["contracts"][0]["layers"]
    in_layers = {part.strip().split(".")[0] for layer in layers for part in layer.split("|")}
    assert packages == in_layers == set(project["tool"]["importlinter"]["root_packages"])
