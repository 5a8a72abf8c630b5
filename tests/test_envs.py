"""The conda environment and the pip lock pin the same packages at the same versions."""
import re
from pathlib import Path

import yaml

ENVS = Path(__file__).resolve().parents[1] / "envs"


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            name, version = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)", line).groups()
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_conda_env_agrees_with_the_lock():
    lock = _pins((ENVS / "requirements.lock").read_text().splitlines())
    env = yaml.safe_load((ENVS / "tinyeit.yaml").read_text())
    (pip_section,) = [d for d in env["dependencies"] if isinstance(d, dict)]
    assert _pins(pip_section["pip"]) == lock
    assert "python=3.11" in env["dependencies"]


def test_lock_pins_the_studys_stack():
    lock = _pins((ENVS / "requirements.lock").read_text().splitlines())
    assert lock["tensorflow"] == "2.21.0" and lock["tf-keras"] == "2.21.0"
    assert lock["tensorflow-model-optimization"] == "0.8.1"
    assert lock["ai-edge-litert"] == "2.3.0" and lock["pyeit"] == "1.2.4"
    assert lock["snakemake"].startswith("9.")


def test_pyproject_pins_what_the_lock_pins():
    """A direct dependency (runtime or test, snakefmt included) pinned in pyproject.toml at
    another version than the lock would install two different stacks."""
    import tomllib

    project = tomllib.loads((ENVS.parent / "pyproject.toml").read_text())["project"]
    lock = _pins((ENVS / "requirements.lock").read_text().splitlines())
    direct = project["dependencies"] + [d for group in project["optional-dependencies"].values() for d in group]
    pinned = _pins(direct)
    assert "snakefmt" in pinned
    assert {name: lock.get(name) for name in pinned} == pinned
