"""Toolchain images, the Docker runner's isolation, the local runner and its errors, host setup."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from offline import offline_docker_dir, refused_url
from tinyeit import containers
from tinyeit.containers import engine, images, runner
from tinyeit.errors import TinyEitError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh_runner(monkeypatch):
    """Forget the cached engine check so a test can change PATH or TINYEIT_RUNNER."""
    runner._engine_up.cache_clear()
    yield monkeypatch
    runner._engine_up.cache_clear()


def test_every_dockerfile_starts_from_bookworm_slim_and_pins_every_package():
    from tinyeit.containers.images import base_image
    for name in containers.TOOLCHAINS:
        text = containers.dockerfile_path(name).read_text()
        if base_image(name):  # built on another toolchain image, itself from bookworm-slim
            assert re.search(r"^ARG BASE\nFROM \$\{BASE\}( AS \w+)?$", text, re.M), name
            assert base_image(base_image(name)) is None
        else:
            assert re.search(r"^FROM debian:bookworm-slim$", text, re.M), name
        stages = set()  # every stage starts from the base, bookworm-slim or an earlier stage
        for source, stage in re.findall(r"^FROM (\S+)(?: AS (\w+))?$", text, re.M):
            assert source in {"${BASE}", "debian:bookworm-slim"} | stages, (name, source)
            stages.add(stage)
        install = re.search(r"apt-get install -y --no-install-recommends(.*?)&&", text, re.S).group(1)
        packages = install.replace("\\", " ").split()
        assert packages and all(re.fullmatch(r"[a-z0-9.+-]+=[A-Za-z0-9.+~:-]+", p) for p in packages), (name, packages)


def test_tag_is_the_dockerfile_hash_and_changes_with_it(tmp_path, monkeypatch):
    tag = containers.image_tag("arm")
    import hashlib
    digest = hashlib.sha256(containers.dockerfile_path("arm").read_bytes()).hexdigest()
    assert tag == f"tinyeit/arm:{digest[:12]}"
    shutil.copytree(ROOT / "docker", tmp_path / "docker")
    monkeypatch.setenv("TINYEIT_DOCKER_DIR", str(tmp_path / "docker"))
    assert containers.image_tag("arm") == tag
    with open(tmp_path / "docker/arm/Dockerfile", "a") as f:
        f.write("# changed\n")
    assert containers.image_tag("arm") != tag
    with pytest.raises(TinyEitError, match="riscv"):
        containers.image_tag("riscv")


@pytest.mark.docker
@pytest.mark.slow
def test_image_stamp_records_the_built_image(tmp_path):
    record = containers.write_stamp("arm", tmp_path / "arm.json")
    assert json.loads((tmp_path / "arm.json").read_text()) == record
    assert record["available"] is True and record["tag"] == containers.image_tag("arm")
    inspected = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", record["tag"]],
                               capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    assert record["image_id"] == inspected
    assert subprocess.run(["docker", "image", "inspect", "debian:bookworm-slim"], capture_output=True,
                          timeout=60).returncode == 0


@pytest.mark.docker
@pytest.mark.parametrize("name", ["arduino", "esp-idf"])
def test_image_whose_download_host_is_unreachable_is_recorded_unavailable(tmp_path, monkeypatch, name):
    """The download hosts are a port this test holds without listening: refused, online or not."""
    with refused_url() as url:
        monkeypatch.setenv("TINYEIT_DOCKER_DIR", str(offline_docker_dir(tmp_path / "docker", url)))
        record = containers.write_stamp(name, tmp_path / f"{name}.json")
    assert json.loads((tmp_path / f"{name}.json").read_text()) == record
    assert record["available"] is False and record["image_id"] is None and record["runner"] == "docker"
    assert record["reason"].startswith(f"toolchain image {name} downloads from {url} at build time, "
                                       "which is unreachable from this machine")


@pytest.mark.docker
@pytest.mark.slow
def test_docker_run_is_isolated(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "in.txt").write_text("hello\n")
    out = tmp_path / "out"
    script = ("id -u; id -g; ls /sys/class/net; cat " + str(src / "in.txt") + "; echo written > out.txt; "
              "touch " + str(src / "new") + " 2>/dev/null && echo src-writable || echo src-readonly")
    proc = containers.run("aarch64", ["sh", "-c", script], mounts_ro=[src], out_dir=out, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split()
    assert lines[0] == str(os.getuid()) and lines[1] == str(os.getgid())
    assert lines[2:-2] == ["lo"]  # --network none
    assert lines[-2:] == ["hello", "src-readonly"]
    assert (out / "out.txt").read_text() == "written\n"
    assert not (src / "new").exists()


def test_local_runner_runs_on_the_host(tmp_path, fresh_runner):
    fresh_runner.setenv("TINYEIT_RUNNER", "local")
    assert containers.runner_kind() == "local"
    proc = containers.run("arm", ["sh", "-c", "echo $SOURCE_DATE_EPOCH > stamp"], mounts_ro=[], out_dir=tmp_path,
                          timeout=60)
    assert proc.returncode == 0 and (tmp_path / "stamp").read_text() == "0\n"


def test_no_engine_and_no_tool_gives_one_clear_error(tmp_path, fresh_runner):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sh").symlink_to(shutil.which("sh"))
    fresh_runner.setenv("PATH", str(bin_dir))  # no docker client, no cross compiler
    fresh_runner.delenv("TINYEIT_RUNNER", raising=False)
    assert containers.engine_available() is False
    assert containers.runner_kind() == "local"
    with pytest.raises(containers.ToolUnavailable) as err:
        containers.run("arm", ["sh", "build.sh"], mounts_ro=[], out_dir=tmp_path / "out", tools=["arm-none-eabi-gcc"],
                       timeout=60)
    message = str(err.value)
    assert "no Docker engine answers" in message and "arm-none-eabi-gcc is not on the host's PATH" in message
    assert "apt-get install docker.io" in message and "gcc-arm-none-eabi" in message


def test_firmware_build_with_the_local_runner_uses_host_tools(tmp_path, fresh_runner):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.fail("host arm-none-eabi-gcc is expected on this machine (envs/debian-packages.txt)")
    import yaml
    from tinyeit.firmware import build_firmware
    from tinyeit.firmware.fixture_model import write_fixture_frames, write_fixture_model
    fresh_runner.setenv("TINYEIT_RUNNER", "local")
    write_fixture_model(tmp_path / "cg")
    write_fixture_frames(tmp_path / "frames.npz")
    board = yaml.safe_load((ROOT / "config.yaml").read_text())["boards"]["nano33ble"]
    record = build_firmware("nano33ble", board, "fixture", tmp_path / "cg", tmp_path / "frames.npz", tmp_path / "fw")
    assert record["status"] == "ok" and record["toolchain"]["runner"] == "local"
    assert record["toolchain"]["image"] is None and "12.2.1" in record["toolchain"]["compiler_version"]


@pytest.mark.docker
def test_host_ensure_with_a_running_engine_starts_nothing(tmp_path):
    env = dict(os.environ, TINYEIT_STATE_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "tinyeit.containers.host", "ensure"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0
    assert not (tmp_path / "dockerd.pid").exists() and "started dockerd" not in proc.stderr
    stop = subprocess.run([sys.executable, "-m", "tinyeit.containers.host", "stop"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert stop.returncode == 0 and "stopped" not in stop.stderr


def test_stop_only_stops_the_dockerd_we_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYEIT_STATE_DIR", str(tmp_path))
    assert engine.stop_dockerd() is False
    sleeper = subprocess.Popen(["sleep", "60"])
    (tmp_path / "dockerd.pid").write_text(f"{sleeper.pid}\n")
    assert engine.stop_dockerd() is True
    with pytest.raises(ProcessLookupError):  # terminated and reaped
        os.kill(sleeper.pid, 0)
    assert not (tmp_path / "dockerd.pid").exists()


def test_ensure_engine_without_root_says_how_to_get_one(monkeypatch):
    monkeypatch.setattr(engine, "engine_available", lambda timeout=10.0: False)
    monkeypatch.setattr(engine, "_is_root", lambda: False)
    with pytest.raises(engine.EngineUnavailable, match="apt-get install docker.io"):
        engine.ensure_engine()


@pytest.mark.docker
@pytest.mark.root
@pytest.mark.slow
def test_base_image_bootstrap_with_debootstrap_when_no_registry_answers():
    """The path taken on a fresh machine: pull fails, debootstrap minbase bookworm, docker import.
    Needs root (debootstrap) and Debian's package archive, as the project's set-up does; the
    image it makes has a test-only tag and is removed afterwards."""
    tag = "tinyeit-test/bookworm-bootstrap:latest"
    subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True, timeout=120)
    try:
        image_id = containers.images.bootstrap_base_image(tag)
        assert image_id.startswith("sha256:")
        proc = subprocess.run(["docker", "run", "--rm", "--network", "none", tag, "sh", "-c",
                               "cat /etc/debian_version; cat /etc/apt/sources.list.d/debian.sources"],
                              capture_output=True, text=True, check=True, timeout=120)
        assert proc.stdout.startswith("12.") and "bookworm-security" in proc.stdout
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True, timeout=120)


def test_make_images_without_an_engine_says_the_local_runner_will_be_used(monkeypatch, capsys):
    def no_engine(name, log=None):
        raise containers.EngineUnavailable("dockerd is not installed")

    monkeypatch.setattr(images, "ensure_image", no_engine)
    assert images.main(["arm", "aarch64"]) == 0
    out = capsys.readouterr().out
    assert "no Docker engine" in out and "local runner" in out and "dockerd is not installed" in out


def test_make_images_fails_on_an_unknown_or_unbuildable_image(monkeypatch, capsys):
    assert images.main(["arm-typo"]) == 1
    assert "unknown toolchain image 'arm-typo'" in capsys.readouterr().err

    def broken(name, log=None):
        raise images.ImageUnavailable(f"building toolchain image {name} failed: E: no space left")

    monkeypatch.setattr(images, "ensure_image", broken)
    assert images.main(["tflm-arm"]) == 1
    assert "building toolchain image tflm-arm failed: E: no space left" in capsys.readouterr().err
