"""Rules the test suite keeps, checked on its own source: a hung tool fails its test instead of
stopping the suite, and no test waits on the clock for another thread or process."""
import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
BOUNDED_CALLS = {("subprocess", "run"), ("subprocess", "check_output"), ("subprocess", "check_call"),
                 ("subprocess", "call"), ("containers", "run")}


def calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name):
            yield node, (node.func.value.id, node.func.attr)


def workflow_runners(tree: ast.AST) -> set[str]:
    """Local names of tinyeit.workflow.snakemake (it passes its keywords to subprocess.run)."""
    return {alias.asname or alias.name for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "tinyeit.workflow"
            for alias in node.names if alias.name == "snakemake"}


def unbounded(source: str) -> list[int]:
    """Lines of subprocess/containers/workflow-snakemake calls without a `timeout=`."""
    tree = ast.parse(source)
    runners = workflow_runners(tree)
    found = [node for node, name in calls(tree) if name in BOUNDED_CALLS]
    found += [node for node in ast.walk(tree) if isinstance(node, ast.Call)
              and isinstance(node.func, ast.Name) and node.func.id in runners]
    return sorted(node.lineno for node in found if not any(k.arg == "timeout" for k in node.keywords))


def sleeps(source: str) -> list[int]:
    """Lines of time.sleep calls that stand in for a handshake. A poll is allowed: a sleep in a
    `while` loop, or in a `for` loop that breaks out once its condition holds."""
    tree = ast.parse(source)
    polls = [loop for loop in ast.walk(tree) if isinstance(loop, ast.While)
             or (isinstance(loop, ast.For) and any(isinstance(n, ast.Break) for n in ast.walk(loop)))]
    polled = {id(node) for loop in polls for node in ast.walk(loop)}
    return [node.lineno for node, name in calls(tree)
            if name == ("time", "sleep") and id(node) not in polled]


@pytest.mark.parametrize("path", sorted(TESTS.glob("*.py")), ids=lambda p: p.name)
def test_every_subprocess_has_a_timeout_and_nothing_sleeps(path):
    source = path.read_text()
    assert unbounded(source) == [], f"{path.name}: subprocess without timeout= at lines {unbounded(source)}"
    assert sleeps(source) == [], f"{path.name}: time.sleep at lines {sleeps(source)}; use a handshake"


def test_the_checks_find_what_they_look_for():
    source = ("import subprocess, time\n"
              "subprocess.run(['x'])\n"
              "subprocess.run(['x'], timeout=5)\n"
              "containers.run('arm', ['x'], [], 'out')\n"
              "time.sleep(0.1)\n"
              "from tinyeit.workflow import snakemake as run_snakemake\n"
              "run_snakemake('w', 'all')\n"
              "while not done():\n"
              "    time.sleep(0.2)\n"
              "for chunk in chunks:\n"
              "    time.sleep(0.02)\n")
    assert unbounded(source) == [2, 4, 7] and sleeps(source) == [5, 11]


def test_docker_marker_fails_when_no_engine_answers(tmp_path):
    """A `docker` test on a machine without an engine fails (no skip, no host-tool fall-back)."""
    import shutil
    import subprocess
    import sys

    for helper in ("conftest.py", "offline.py"):  # what conftest imports when pytest configures
        shutil.copy(TESTS / helper, tmp_path / helper)
    (tmp_path / "test_needs_docker.py").write_text(
        "import pytest\n\n@pytest.mark.docker\ndef test_builds():\n    pass\n")
    no_docker = tmp_path / "bin"
    no_docker.mkdir()
    env = {"PATH": str(no_docker), "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "1 error" in proc.stdout and "marked `docker` but no Docker engine answers" in proc.stdout
