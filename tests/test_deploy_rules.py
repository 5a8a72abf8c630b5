"""rules/deploy.smk with the real Snakemake: flash_<alias> targets, per-board resources, outputs."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ["baseline", "baseline+kd+fp+ptq_int8"]
ENGINES = ["aot", "tflm"]


@pytest.fixture
def workdir(tmp_path):
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    shutil.copytree(REPO / "envs", tmp_path / "envs")  # the rules name their conda env
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["variants"] = VARIANTS
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    # only the stages this test needs: the deploy rules over given firmware records
    (tmp_path / "Snakefile").write_text('configfile: "config.yaml"\n'
                                        'include: "rules/common.smk"\n'
                                        'include: "rules/deploy.smk"\n')
    for board in config["boards"]:
        for engine in ENGINES:
            for variant in VARIANTS:
                fw = tmp_path / "results" / "firmware" / board / engine / variant
                fw.mkdir(parents=True)
                (fw / "build.json").write_text(json.dumps({
                    "status": "toolchain_unavailable", "flash_bytes": None, "ram_bytes": None, "engine": engine,
                    "arena_bytes": 1234, "sha256": None, "reason": f"no toolchain for {board}"}))
    for variant in VARIANTS:
        tfl = tmp_path / "results" / "tflite" / variant
        tfl.mkdir(parents=True)
        (tfl / "model.tflite").write_bytes(b"unused: nothing runs for an unbuilt firmware")
        (tfl / "metrics.json").write_text('{"macs": 100}')
        np.savez(tfl / "frames.npz", input=np.zeros((2, 40), np.float32),
                 output=np.zeros((2, 10), np.float32), label=np.zeros(2, np.int64))
    return tmp_path


def snakemake(workdir, *args):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", *args], cwd=workdir,
                          capture_output=True, text=True, env=env, timeout=900)


def test_flash_nicla_profiles_the_named_variants_holding_its_board(workdir):
    proc = snakemake(workdir, "flash_nicla", "--config", "deploy_variants=baseline")
    assert proc.returncode == 0, proc.stderr[-2000:]
    log = proc.stdout + proc.stderr
    assert 'board_nicla_sense=Resource("board_nicla_sense", 1)' in log   # default limit: 1
    held = re.search(r"rule profile:.*?resources: ([^\n]*)", log, re.S).group(1)
    assert sorted(held.split(", ")[1:]) == ["board_esp32=0", "board_nano33ble=0",
                                            "board_nicla_sense=1", "board_rpi4=0"]
    made = sorted(p.relative_to(workdir).as_posix() for p in (workdir / "results" / "deploy").rglob("*.json"))
    assert made == [f"results/deploy/nicla_sense/{e}/baseline/profile.json" for e in ENGINES]
    for path, engine in zip(made, ENGINES):
        record = json.loads((workdir / path).read_text())
        assert record["status"] == "toolchain_unavailable" and record["arena_bytes"] == 1234
        assert record["error"] == "no toolchain for nicla_sense" and record["engine"] == engine


def test_every_board_has_a_flash_target_and_limits_can_be_raised(workdir):
    proc = snakemake(workdir, "-n", "flash_nano33ble", "flash_nicla", "flash_esp32", "flash_rpi4",
                     "--resources", "board_rpi4=2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("rule profile:") == 4 * len(ENGINES) * len(VARIANTS)
    proc = snakemake(workdir, "flash_rpi4", "--resources", "board_rpi4=2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'board_rpi4=Resource("board_rpi4", 2)' in proc.stdout + proc.stderr
    assert len(list((workdir / "results" / "deploy" / "rpi4").rglob("profile.json"))) == len(ENGINES) * len(VARIANTS)
