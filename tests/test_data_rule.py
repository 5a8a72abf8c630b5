"""The dataset rule run by the real Snakemake: its output is the API's output, byte for byte."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import tinyeit.data as data

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_snakemake_dataset_rule_matches_build(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    for name in ("Snakefile", "rules", "scripts", "report"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, work / name)
        elif src.exists():
            shutil.copy(src, work / name)
    config = yaml.safe_load((ROOT / "tests" / "configs" / "small.yaml").read_text())
    config["dataset"]["synthetic"].update(n_subjects=2, n_gestures=3, n_trials=5)
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", PYTHONHASHSEED="0",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1",
                           "results/dataset/dataset.npz"], cwd=work, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]
    data.build(config["dataset"], config["splits"], config["seed"], tmp_path / "d.npz", tmp_path / "d.json")
    assert (work / "results/dataset/dataset.npz").read_bytes() == (tmp_path / "d.npz").read_bytes()
    assert (work / "results/dataset/dataset.json").read_bytes() == (tmp_path / "d.json").read_bytes()
    ds = data.load(work / "results/dataset/dataset.npz")
    assert ds.X.shape == (2 * 3 * 5, 40) and ds.n_classes == 3
