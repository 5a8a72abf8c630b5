"""The study as a DAG, run by the real Snakemake on the small config.

One end-to-end run (dataset to report, with the real Docker engine and QEMU; conftest.py's
`small_study`, also test_cluster.py's local reference) is shared by the tests below; they then
ask Snakemake, in dry runs, what it would redo. A test that changes the
shared study puts back the bytes and the modification time of what it changed, so the tests
pass in any order. The images that need the internet (arduino, esp-idf) are pointed at a port
the test holds, so they are unavailable here whether or not the internet is reachable.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from small_study import SMALL, make_workdir, snakemake
from study_checks import deployment_problems
from tinyeit.config import chains

pytestmark = [pytest.mark.slow, pytest.mark.docker]


@contextmanager
def edited(path: Path, text: str):
    """`path` holds `text` inside the block; afterwards its old bytes and times are back."""
    original, times = path.read_bytes(), path.stat()
    path.write_text(text)
    try:
        yield
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))


def planned_jobs(workdir: Path, *args: str) -> set[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run would execute."""
    proc = snakemake(workdir, "--dry-run", *args)
    out = proc.stdout + proc.stderr
    parts = re.split(r"^\s*(?:local)?rule (\w+):\s*$", out, flags=re.M)
    jobs = set()
    for rule, body in zip(parts[1::2], parts[2::2]):
        wildcards = re.search(r"^\s*wildcards: (.*)$", body, flags=re.M)
        jobs.add((rule, wildcards.group(1).strip() if wildcards else ""))
    return jobs


@pytest.fixture
def study(small_study) -> Path:
    """The session's small study (conftest.py), run as a user's plain `snakemake all`."""
    return small_study


def test_summary_holds_every_variant_and_deployment(study, offline_url):
    summary = json.loads((study / "results" / "summary.json").read_text())
    config = yaml.safe_load(SMALL.read_text())
    assert [v["name"] for v in summary["variants"]] == config["variants"]
    for v in summary["variants"]:
        assert 0.0 <= v["accuracy_cv_mean"] <= 1.0 and 0.0 <= v["accuracy_test"] <= 1.0
        assert (study / v["tflite"]).is_file()
        assert v["tflite_bytes"] == (study / v["tflite"]).stat().st_size
    triples = {(d["board"], d["engine"], d["variant"]) for d in summary["deployments"]}
    assert config["engines"] == ["aot", "tflm"]
    assert triples == {(b, e, v) for b in config["boards"] for e in config["engines"] for v in config["variants"]}
    for d in summary["deployments"]:
        assert d["status"] == "ok", d
        assert d["instructions_per_inference"] > 0
        if d["engine"] == "aot":
            assert d["outputs_match_host"] is True, d
        elif chains.conversion(d["variant"]) == "ptq_int8":
            # TFLite Micro equals its own interpreter to the bit; LiteRT rounds int8
            # FULLY_CONNECTED once where TFLM rounds twice, so a few LSB may differ there.
            assert d["outputs_exact_tflm_interpreter"] is True, d
            assert d["outputs_match_host"] is True or d["outputs_max_abs_diff"] <= 3, d
        else:  # float: within the float tolerance of LiteRT, as the generated C
            assert d["outputs_match_host"] is True, d
        if d["engine"] == "tflm":
            assert d["arena_bytes"] > 0 and d["ram_static_bytes"] >= d["arena_bytes"], d
    # Every deployment through the checker that test_study_checks.py shows failing: ok (outputs
    # as above) or does_not_fit with bytes, the ESP32's too (emulated bare metal, both engines).
    not_built = {}

    def outputs_ok(d):
        if d["engine"] == "tflm" and chains.conversion(d["variant"]) == "ptq_int8":
            return d["outputs_exact_tflm_interpreter"] is True and (
                d["outputs_match_host"] is True or d["outputs_max_abs_diff"] <= 3)
        return d["outputs_match_host"] is True

    problems = deployment_problems(summary["deployments"], not_built, runner="docker",
                                   outputs_ok=outputs_ok)
    assert problems == [], "\n".join(problems)
    assert (study / "results" / "report" / "index.html").is_file()
    engines = (study / "results" / "report" / "engines.csv").read_text().splitlines()
    assert len(engines) == 1 + len(config["boards"]) * len(config["variants"])


def test_pruned_and_clustered_weights_are_stored_and_run_sparse(study):
    """The pruned-then-clustered int8 variant keeps its zeros through clustering, the generator
    stores those layers block-sparse, and every board runs fewer MACs from fewer weight bytes
    than the dense int8 baseline, with outputs still equal to LiteRT's."""
    results = study / "results"
    summary = json.loads((results / "summary.json").read_text())
    variants = {v["name"]: v for v in summary["variants"]}
    pruned, dense = "baseline+prune+cluster+ptq_int8", "baseline+ptq_int8"
    assert variants[pruned]["nonzero_params"] < 0.5 * variants[pruned]["params"]
    assert variants[dense]["nonzero_params"] > 0.9 * variants[dense]["params"]
    layers = json.loads((results / "codegen" / pruned / "weights.json").read_text())["layers"]
    sparse = [layer for layer in layers if layer["weight_format"] == "block_sparse"]
    assert sparse and all(layer["macs_executed"] < layer["macs_dense"] for layer in sparse)
    aot = {(d["board"], d["variant"]): d for d in summary["deployments"] if d["engine"] == "aot"}
    for board in yaml.safe_load(SMALL.read_text())["boards"]:
        p, d = aot[(board, pruned)], aot[(board, dense)]
        assert "block_sparse" in p["weight_format"] and d["weight_format"] == "dense", (p, d)
        assert p["weight_bytes"] < 0.6 * d["weight_bytes"], (p, d)
        assert p["macs_executed"] < 0.6 * d["macs_executed"], (p, d)
        assert p["status"] == "ok" and p["outputs_match_host"] is True, p


def test_every_build_and_run_used_the_docker_runner(study):
    builds = sorted((study / "results" / "firmware").rglob("build.json"))
    assert builds
    for path in builds:
        build = json.loads(path.read_text())
        if build["status"] == "ok":
            assert build["toolchain"]["runner"] == "docker", path
            assert build["toolchain"]["image_id"].startswith("sha256:"), path
    profiles = sorted((study / "results" / "deploy").rglob("profile.json"))
    ran = [json.loads(p.read_text()) for p in profiles]
    ran = [r for r in ran if r["status"] == "ok"]
    assert ran and {r["runner"] for r in ran} == {"docker"}


def test_host_cost_files_and_where_measured_figures_live(study):
    """Instructions per invoke in summary.json (deterministic); wall-clock latencies only in
    host_latency.json files, collected into results/host_latency.json for the report."""
    config = yaml.safe_load(SMALL.read_text())
    summary = json.loads((study / "results" / "summary.json").read_text())
    assert "latency" not in json.dumps(summary["variants"])
    latency = json.loads((study / "results" / "host_latency.json").read_text())
    assert [v["name"] for v in latency["variants"]] == config["variants"]
    for v, lat in zip(summary["variants"], latency["variants"]):
        ins = json.loads((study / "results" / "tflite" / v["name"] / "host_instructions.json")
                         .read_text())
        assert v["host_instructions_per_invoke"] == ins["host_instructions_per_invoke"] > 0
        assert lat["host_latency_ms"] > 0 and lat["block_invocations"] >= 1
        metrics = (study / "results" / "tflite" / v["name"] / "metrics.json").read_text()
        assert "latency" not in metrics
    assert "host instructions" in (study / "results" / "report" / "index.html").read_text()


def test_remeasuring_host_latency_reruns_nothing_upstream(study):
    jobs = {rule for rule, _ in planned_jobs(study, "all", "--forcerun", "host_latency")}
    assert jobs == {"host_latency", "host_latency_summary", "report", "manifest", "all"}


def test_second_run_has_nothing_to_do(study):
    proc = snakemake(study, "--dry-run", "all")
    out = proc.stdout + proc.stderr
    assert "Nothing to be done" in out, out[-3000:]


def test_changing_kd_temperature_reruns_exactly_the_kd_chains(study, tmp_path):
    config_path = study / "config.yaml"
    changed = yaml.safe_load(config_path.read_text())
    changed["steps"]["kd"]["temperature"] = changed["steps"]["kd"]["temperature"] + 1.5
    with edited(config_path, yaml.safe_dump(changed, sort_keys=False)):
        jobs = planned_jobs(study, "all")
    # The small study's variants holding kd, written out (not derived with the package's own
    # chain parser): of baseline, baseline+ptq_int8, baseline+prune+cluster+ptq_int8 and
    # baseline+kd+fp+ptq_int8, only the last; its chain trains baseline+kd on the way.
    kd_variants = {"baseline+kd+fp+ptq_int8"}
    model_side = {(r, w) for r, w in jobs
                  if r in ("dataset", "baseline", "kd", "fp", "prune", "cluster", "qat", "export")}
    expected = {("kd", "chain=baseline+kd"), ("fp", "chain=baseline+kd+fp")}
    expected |= {("export", f"variant={v}") for v in kd_variants}
    assert model_side == expected
    for rule, wildcards in jobs:
        named = dict(kv.split("=", 1) for kv in wildcards.split(", ") if "=" in kv)
        chain = named.get("variant") or named.get("chain")
        if chain is not None:
            assert "kd" in chain.split("+"), (rule, wildcards)
    rerun_codegen = {w for r, w in jobs if r == "codegen"}
    assert rerun_codegen == {f"variant={v}" for v in kd_variants}


def test_changing_a_boards_power_figure_reprofiles_only_that_board(study):
    """The datasheet power feeds the energy estimate: profiles change, firmware does not."""
    config_path = study / "config.yaml"
    changed = yaml.safe_load(config_path.read_text())
    changed["boards"]["nicla_sense"]["active_power_mw"] *= 2
    with edited(config_path, yaml.safe_dump(changed, sort_keys=False)):
        jobs = planned_jobs(study, "all")
    assert {rule for rule, _ in jobs} == {"profile", "summary", "report", "manifest", "all"}
    profiled = {w for rule, w in jobs if rule == "profile"}
    assert profiled == {f"board=nicla_sense, engine={e}, variant={v}" for e in ("aot", "tflm")
                        for v in changed["variants"]}


def test_changing_the_code_generator_reruns_from_codegen_on(study):
    """Generated C depends on the generator's code: an edited kernel source replans codegen and
    what follows it, and no training or export."""
    kernel = study / "pkg" / "tinyeit" / "codegen" / "kernels" / "reference" / "tinyeit_ref_conv.c"
    with edited(kernel, kernel.read_text() + "/* edited */\n"):
        jobs = planned_jobs(study, "all")
    assert {rule for rule, _ in jobs} == {"codegen", "firmware", "profile", "summary", "report",
                                          "manifest", "all"}
    config = yaml.safe_load(SMALL.read_text())
    assert {w for rule, w in jobs if rule == "codegen"} == {f"variant={v}" for v in config["variants"]}


def test_manifest_lists_every_deterministic_artifact_and_no_timing(study):
    """MANIFEST.sha256 is what a clean rebuild is checked against (`tinyeit verify`; the suite's
    clean rebuild is test_cluster.py's run on SLURM with another PYTHONHASHSEED): every artifact
    that must come out byte-equal is listed, the measured host latencies are not."""
    manifest = study / "results" / "MANIFEST.sha256"
    listed = {line.split("  ", 1)[1] for line in manifest.read_text().splitlines()}
    config = yaml.safe_load(SMALL.read_text())
    assert {"dataset/dataset.npz", "report/deployments.csv"} <= listed
    for variant in config["variants"]:
        assert {f"tflite/{variant}/model.tflite", f"codegen/{variant}/model.c",
                f"firmware/nicla_sense/aot/{variant}/build.json", f"deploy/rpi4/aot/{variant}/profile.json",
                f"firmware/esp32/tflm/{variant}/build.json"} <= listed
    for variant in config["variants"]:  # deterministic: listed; measured host latency: not
        assert {f"tflite/{variant}/metrics.json", f"tflite/{variant}/host_instructions.json"} <= listed
        assert f"tflite/{variant}/host_latency.json" not in listed
    assert "summary.json" in listed and "host_latency.json" not in listed
    proc = subprocess.run([sys.executable, "-m", "tinyeit.cli", "verify", str(manifest),
                           "--results", str(study / "results")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_invalid_config_stops_before_any_job(tmp_path, offline_url):
    workdir = make_workdir(tmp_path / "bad", offline_url)
    proc = snakemake(workdir, "--dry-run", "all", "--config", "seed=-3", check=False)
    assert proc.returncode != 0
    assert "seed: -3 is less than the minimum of 0" in proc.stdout + proc.stderr
    assert not (workdir / "results").exists()


def test_slurm_profile_plans_the_same_study_on_a_cluster(tmp_path, offline_url):
    """The cluster profile loads with the real SLURM executor plugin and plans every job,
    board jobs holding their global board resource."""
    workdir = make_workdir(tmp_path / "cluster", offline_url)
    proc = snakemake(workdir, "--profile", "profiles/slurm", "--dry-run", "all")
    out = proc.stdout + proc.stderr
    jobs = {rule for rule, _ in planned_jobs(workdir, "--profile", "profiles/slurm", "all")}
    assert {"dataset", "baseline", "kd", "fp", "export", "codegen", "firmware", "profile",
            "summary", "report"} <= jobs, out[-2000:]
    assert re.search(r"board_nicla_sense=1", out), out[-2000:]
