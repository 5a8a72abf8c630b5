"""rules/firmware.smk with the real Snakemake: image stamps, one build.json per (board, variant)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from offline import offline_docker_dir, refused_url
from tinyeit.firmware.fixture_model import write_fixture_frames, write_fixture_model

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_firmware_rules_build_every_board_family(tmp_path):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "envs", tmp_path / "envs")  # the rules name their conda env
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["variants"] = ["baseline"]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "Snakefile").write_text('configfile: "config.yaml"\ninclude: "rules/common.smk"\n'
                                        'include: "rules/firmware.smk"\n')
    write_fixture_model(tmp_path / "results/codegen/baseline")
    write_fixture_frames(tmp_path / "results/tflite/baseline/frames.npz")
    targets = [f"results/firmware/{b}/aot/baseline/build.json" for b in ("nicla_sense", "rpi4", "esp32")]
    snakemake = Path(sys.executable).with_name("snakemake")
    with refused_url() as url:   # the networked images are unavailable here, online or not
        docker_dir = offline_docker_dir(tmp_path / "docker", url)
        env = dict(os.environ, PATH=f"{snakemake.parent}{os.pathsep}{os.environ['PATH']}",
                   TINYEIT_DOCKER_DIR=str(docker_dir))
        proc = subprocess.run([str(snakemake), "--cores", "2", *targets], cwd=tmp_path, capture_output=True,
                              text=True, env=env, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = {b: json.loads((tmp_path / t).read_text()) for b, t in zip(("nicla_sense", "rpi4", "esp32"), targets)}
    assert records["nicla_sense"]["status"] == "ok" and records["rpi4"]["status"] == "ok"
    assert {r["engine"] for r in records.values()} == {"aot"}
    assert records["esp32"]["status"] == "ok" and records["esp32"]["image"] == "firmware.elf"
    assert records["esp32"]["esp_idf"]["status"] == "toolchain_unavailable"
    assert url in records["esp32"]["esp_idf"]["reason"]
    assert records["nicla_sense"]["arduino"]["status"] == "toolchain_unavailable"
    assert url in records["nicla_sense"]["arduino"]["reason"]
    assert {records[b]["toolchain"]["runner"] for b in ("nicla_sense", "rpi4", "esp32")} == {"docker"}
    stamps = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "results/images").glob("*.json")}
    assert set(stamps) == {"arm", "aarch64", "arduino", "esp-idf", "xtensa"}
    assert records["esp32"]["toolchain"]["image"] == stamps["xtensa"]["tag"]
    assert stamps["arm"]["available"] and records["nicla_sense"]["toolchain"]["image"] == stamps["arm"]["tag"]
    assert records["nicla_sense"]["n_frames"] == 3
    again = subprocess.run([str(snakemake), "--cores", "2", "-n", *targets], cwd=tmp_path, capture_output=True,
                           text=True, env=env, timeout=300)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
