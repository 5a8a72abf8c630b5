"""What the markers promise, enforced.

`docker`: the test claims the real Docker engine. The containers' `auto` runner falls back to
host tools when no engine answers, which would let such a test pass without Docker; so the test
runs with TINYEIT_RUNNER=docker (jobs it starts inherit it) and fails at once when no engine
answers. Tests then check in the records they get that the docker runner did the work.

`root`: the test needs root (it starts or stops system services); it fails, not skips, without it.

`make test` spreads the suite over one worker per core (pytest-xdist, `--dist loadfile`): each
test module goes to one worker whole (module-scoped fixtures are built once, and the workflow
tests that edit the shared study never run beside each other), the two end-to-end study runs
(test_cluster.py, test_workflow.py) are handed out first so they run side by side, and the small
study itself is run once per session whichever worker asks first (`small_study`).
"""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import ExitStack
from pathlib import Path

import pytest

# The modules that run the small study end to end, longest first; then the other `slow` modules,
# then the rest, each in file order.
STUDY_MODULES = ("test_cluster.py", "test_workflow.py")


def pytest_collection_modifyitems(config, items):
    """The order the modules are handed to the workers in (`--no-loadscope-reorder` keeps it)."""
    def rank(item) -> tuple[int, int]:
        name = item.path.name
        if name in STUDY_MODULES:
            return (0, STUDY_MODULES.index(name))
        return (1 if item.get_closest_marker("slow") else 2, 0)

    items.sort(key=rank)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if item.get_closest_marker("root") and os.geteuid() != 0:
        pytest.fail("marked `root`: this test starts system services and needs root")
    if item.get_closest_marker("docker"):
        from tinyeit.containers import engine_available, runner

        item._tinyeit_runner_env = os.environ.get("TINYEIT_RUNNER")
        os.environ["TINYEIT_RUNNER"] = "docker"
        runner._engine_up.cache_clear()
        if not engine_available():
            pytest.fail("marked `docker` but no Docker engine answers (`docker version` fails); "
                        "start one (`make host-deps`) rather than let the tests fall back to host tools")
        assert runner.runner_kind() == "docker"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield   # after the test's own fixtures (monkeypatch) have undone their changes
    if hasattr(item, "_tinyeit_runner_env"):
        if item._tinyeit_runner_env is None:
            os.environ.pop("TINYEIT_RUNNER", None)
        else:
            os.environ["TINYEIT_RUNNER"] = item._tinyeit_runner_env


@pytest.fixture
def pty_boards(monkeypatch):
    """Make fake boards on ptys; each plays its transcript when the code under test opens its port
    (tinyeit.deploy.serial_link.open_port), which is the handshake. Closed after the test."""
    from pty_board import PtyBoard
    from tinyeit.deploy import serial_link

    boards: dict[str, PtyBoard] = {}
    real_open = serial_link.open_port

    def open_then_play(board, port, variant):
        link = real_open(board, port, variant)
        if port in boards:
            boards[port].play()
        return link

    monkeypatch.setattr(serial_link, "open_port", open_then_play)

    def make(chunks) -> PtyBoard:
        fake = PtyBoard(chunks)
        boards[fake.port] = fake
        return fake

    yield make
    for fake in boards.values():
        fake.close()


@pytest.fixture
def bin_dir(tmp_path, monkeypatch):
    """A folder first on PATH, for fake executables (tests/fakes.py)."""
    d = tmp_path / "bin"
    d.mkdir()
    monkeypatch.setenv("PATH", f"{d}{os.pathsep}{os.environ['PATH']}")
    return d


OFFLINE_URL_VAR = "TINYEIT_TEST_OFFLINE_URL"
_held = ExitStack()


def pytest_configure(config):
    """The run's one refused URL (offline.py), held by the controlling process for the whole run
    and inherited by the xdist workers: every study of the run records the same unavailable
    images, so the local and the SLURM run compare byte for byte across workers."""
    if not hasattr(config, "workerinput") and OFFLINE_URL_VAR not in os.environ:
        from offline import refused_url

        os.environ[OFFLINE_URL_VAR] = _held.enter_context(refused_url())
        _held.callback(os.environ.pop, OFFLINE_URL_VAR, None)


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):
        _held.close()


@pytest.fixture(scope="session")
def offline_url() -> str:
    """A URL whose connections are refused, for the images that need the internet (offline.py)."""
    return os.environ[OFFLINE_URL_VAR]


@pytest.fixture(scope="session")
def small_study(tmp_path_factory, offline_url) -> Path:
    """The small study run end to end once per session, as a user's plain `snakemake all` (no
    PYTHONHASHSEED): the shared run of test_workflow.py, and the local run test_cluster.py
    compares the SLURM run with. Tests that change it put back what they changed.

    Under xdist the workers share it: the first to ask runs it while holding a lock in the run's
    common temporary folder, the others wait and read where it is (or the error it ended with)."""
    from small_study import make_workdir, snakemake

    def run() -> Path:
        workdir = make_workdir(tmp_path_factory.mktemp("study"), offline_url)
        snakemake(workdir, "all", environ={"PYTHONHASHSEED": None})
        return workdir

    if "PYTEST_XDIST_WORKER" not in os.environ:
        return run()
    shared = tmp_path_factory.getbasetemp().parent   # this run's folder, above every worker's
    with open(shared / "small_study.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)              # held while the study runs
        record = shared / "small_study.json"
        if not record.exists():
            try:
                record.write_text(json.dumps({"workdir": str(run())}))
            except BaseException as err:               # the waiting workers fail with the same error
                record.write_text(json.dumps({"error": f"{type(err).__name__}: {err}"}))
                raise
        done = json.loads(record.read_text())
    if "error" in done:
        raise AssertionError(f"the shared small study failed (in another test's set-up):\n{done['error']}")
    return Path(done["workdir"])
