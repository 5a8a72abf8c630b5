"""The dataset rule run by the real Snakemake: its output is the API's output, byte for byte."""
from __future__ import annotations


import pytest
import yaml

import tinyeit.data as data
from tinyeit.workflow import ROOT, copy_workflow, snakemake

pytestmark = pytest.mark.slow


def test_snakemake_dataset_rule_matches_build(tmp_path):
    config = yaml.safe_load((ROOT / "tests" / "configs" / "small.yaml").read_text())
    config["dataset"]["synthetic"].update(n_subjects=2, n_gestures=3, n_trials=5)
    work = copy_workflow(tmp_path / "work", config)
    proc = snakemake(work, "results/dataset/dataset.npz", cores=1, capture_output=True, text=True,
                     timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    data.build(config["dataset"], config["splits"], config["seed"], tmp_path / "d.npz", tmp_path / "d.json")
    assert (work / "results/dataset/dataset.npz").read_bytes() == (tmp_path / "d.npz").read_bytes()
    assert (work / "results/dataset/dataset.json").read_bytes() == (tmp_path / "d.json").read_bytes()
    ds = data.load(work / "results/dataset/dataset.npz")
    assert ds.X.shape == (2 * 3 * 5, 40) and ds.n_classes == 3
