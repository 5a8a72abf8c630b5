"""The report's numbers, recommendation and errors, from the hand-made summary."""
from __future__ import annotations

import csv
import io
import json

import pytest
from test_report_data import small_host_latency, small_summary

from tinyeit import cli
from tinyeit.report import render_report
from tinyeit.report.analysis import pareto_front, size_pareto
from tinyeit.report.build import report_files
from tinyeit.report.recommend import format_recommendation, recommend
from tinyeit.report.summary import SummaryError, load_summary, parse_summary

FINAL = "baseline+kd+fp+ptq_int8"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    (root / "summary.json").write_text(json.dumps(small_summary()))
    (root / "host_latency.json").write_text(json.dumps(small_host_latency()))
    render_report(root / "summary.json", root / "out", root / "host_latency.json")
    return root / "out"


def read_csv(path):
    return list(csv.DictReader(io.StringIO(path.read_text())))


def by(rows, key):
    return {r[key]: r for r in rows}


def test_writes_every_file(rendered):
    names = ["index.html", "variants.csv", "deployments.csv", "gains.csv", "paper.csv",
             "engines.csv", "engines.png",
             "accuracy_vs_size.png", "gains.png", "latency_esp32.png", "latency_nano33ble.png",
             "latency_nicla_sense.png", "latency_rpi4.png"]
    assert sorted(p.name for p in rendered.iterdir()) == sorted(names)
    assert sorted(report_files(["esp32", "nano33ble", "nicla_sense", "rpi4"])) == sorted(names)


def test_variants_csv_gains_by_hand(rendered):
    rows = by(read_csv(rendered / "variants.csv"), "name")
    assert list(rows) == ["baseline", "baseline+prune", "baseline+ptq_int8", "baseline+kd+fp",
                          FINAL]
    final = rows[FINAL]
    assert float(final["tflite_bytes"]) == 10_000
    assert float(final["size_gain_pct"]) == pytest.approx(100 * (10_000 - 280_000) / 280_000)
    assert float(final["accuracy_drop_points"]) == pytest.approx(8.0)
    assert float(final["host_latency_gain_pct"]) == pytest.approx(-95.0)
    assert float(final["host_instructions_gain_pct"]) == pytest.approx(-95.0)
    assert float(final["host_instructions_per_invoke"]) == 20_000
    assert float(final["host_latency_ms"]) == 0.02 and final["host_latency_noisy"] == "false"
    assert final["steps"] == "baseline+kd+fp+ptq_int8"
    assert float(rows["baseline"]["size_gain_pct"]) == 0.0
    assert rows["baseline+prune"]["pareto_size_accuracy"] == "false"
    assert rows["baseline"]["pareto_size_accuracy"] == "true"


def test_gains_csv_per_board(rendered):
    rows = by(read_csv(rendered / "gains.csv"), "variant")
    assert float(rows["baseline+ptq_int8"]["nano33ble_latency_gain_pct"]) == pytest.approx(-60)
    assert float(rows[FINAL]["nano33ble_energy_gain_pct"]) == pytest.approx(-90)
    assert float(rows["baseline+kd+fp"]["size_gain_pct"]) == pytest.approx(-600 / 7)
    # The baseline does not fit the Nicla: no gain there; esp32 and rpi4 have no figures.
    assert rows[FINAL]["nicla_sense_latency_gain_pct"] == ""
    assert rows[FINAL]["esp32_latency_gain_pct"] == "" == rows[FINAL]["rpi4_energy_gain_pct"]


def test_deployments_csv_marks_absent_pairs(rendered):
    rows = read_csv(rendered / "deployments.csv")
    assert len(rows) == 5 * 4
    status = {(r["board"], r["variant"]): r["status"] for r in rows}
    assert status[("rpi4", "baseline")] == "not profiled"
    assert status[("nicla_sense", "baseline")] == "does_not_fit"
    assert status[("esp32", FINAL)] == "toolchain_unavailable"
    nano = {r["variant"]: r for r in rows if r["board"] == "nano33ble"}
    assert float(nano[FINAL]["latency_ms"]) == 2.0
    assert float(nano[FINAL]["energy_uj"]) == pytest.approx(2.0 * 9.9)
    assert float(nano[FINAL]["latency_gain_pct"]) == pytest.approx(-90)
    assert int(nano[FINAL]["cycles_per_inference"]) == 2.0 * 64_000
    assert nano[FINAL]["latency_method"].startswith("cortex-m4 cycle model")


def test_paper_table(rendered):
    rows = by(read_csv(rendered / "paper.csv"), "figure")
    size = rows["model size"]
    assert float(size["paper_gain"]) == -98.8
    assert float(size["run_baseline"]) == pytest.approx(871.58)
    assert float(size["run_final"]) == pytest.approx(10.0)
    assert float(size["run_gain"]) == pytest.approx(100 * (10_000 - 871_580) / 871_580)
    assert size["agreement"].startswith("agrees")
    acc = rows["accuracy (CV mean)"]
    assert float(acc["run_gain"]) == pytest.approx(-8.0)
    assert "not comparable" in acc["agreement"] and "synthetic" in acc["agreement"]
    nano = rows["Nano 33 BLE Sense inference time"]
    assert float(nano["run_gain"]) == pytest.approx(-90)
    assert nano["basis"].startswith("estimated: cortex-m4 cycle model")
    assert "differs" in nano["agreement"]
    assert rows["Nano 33 BLE Sense average power"]["basis"].startswith("estimated")
    assert rows["Raspberry Pi 4 inference time"]["run_text"] == "not profiled"
    pc = rows["PC inference time"]
    assert pc["basis"].startswith("measured") and float(pc["run_gain"]) == pytest.approx(-95)
    assert "instructions per invoke (callgrind): 400,000 -> 20,000, -95.0 %" in pc["agreement"]
    html = (rendered / "index.html").read_text()
    assert "data source differs" in html.lower() or "Data source differs" in html


def test_paper_table_real_data_has_no_synthetic_note(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps(small_summary(source="chemnitz_xlsx")))
    render_report(tmp_path / "s.json", tmp_path / "out")
    rows = by(read_csv(tmp_path / "out" / "paper.csv"), "figure")
    assert rows["accuracy (CV mean)"]["agreement"].startswith("agrees")
    assert "Synthetic data" not in (tmp_path / "out" / "index.html").read_text()


def test_recommend_picks_most_accurate_fitting_variant():
    summary = parse_summary(small_summary())
    nicla = recommend(summary, "nicla_sense")
    assert nicla.choice == "baseline+ptq_int8"
    assert nicla.pareto == (FINAL, "baseline+kd+fp", "baseline+ptq_int8")
    assert nicla.candidate("baseline").reasons == ("does not fit the board (deploy stage)",)
    assert recommend(summary, "nicla", max_latency_ms=6).choice == "baseline+kd+fp"
    assert recommend(summary, "nicla", max_latency_ms=1.5).choice is None
    assert recommend(summary, "nicla", max_accuracy_drop=0.03, max_latency_ms=6).choice is None
    assert recommend(summary, "nano33ble").choice == "baseline"
    assert recommend(summary, "esp32").choice is None
    assert recommend(summary, "rpi4").pareto == ()


def test_recommend_enforces_board_limits_and_drop_bound():
    data = small_summary()
    for d in data["deployments"]:
        if d["board"] == "nano33ble" and d["variant"] in ("baseline", "baseline+prune"):
            d["ram_bytes"] = 300_000          # over the Nano's 262,144 B
    summary = parse_summary(data)
    rec = recommend(summary, "nano33ble")
    assert rec.choice == "baseline+ptq_int8"
    assert "RAM 300000 B > 262144 B" in rec.candidate("baseline").reasons
    assert recommend(summary, "nano33ble", max_accuracy_drop=0.0).choice is None
    # A firmware whose outputs disagree with LiteRT is never recommended.
    for d in data["deployments"]:
        if d["board"] == "nano33ble" and d["variant"] == "baseline+ptq_int8":
            d["outputs_match_host"] = False
    rec = recommend(parse_summary(data), "nano33ble")
    assert rec.choice == "baseline+kd+fp"
    assert rec.candidate("baseline+ptq_int8").reasons == ("board outputs differ from LiteRT's",)
    # The summary's own bound applies when none is given.
    data["report"]["max_accuracy_drop"] = 0.05
    assert recommend(parse_summary(data), "nano33ble").max_accuracy_drop == 0.05


def test_recommend_cli_prints_the_same(tmp_path, capsys):
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(small_summary()))
    assert cli.main(["recommend", "--summary", str(path), "--board", "nicla_sense",
                     "--max-drop", "0.03"]) == 0
    out = capsys.readouterr().out
    expected = format_recommendation(recommend(load_summary(path), "nicla_sense",
                                               max_accuracy_drop=0.03))
    assert out == expected
    assert "recommended: baseline+ptq_int8" in out and "drop <= 3.00 points" in out
    assert cli.main(["recommend", "--summary", str(path), "--board", "uno"]) == 2
    assert "unknown board 'uno'" in capsys.readouterr().err


def test_pareto_front():
    pts = [(1, 0.5), (2, 0.7), (2, 0.6), (3, 0.7), (4, 0.9)]
    front = pareto_front(pts, lambda p: p[0], lambda p: p[1])
    assert front == [(1, 0.5), (2, 0.7), (4, 0.9)]
    assert size_pareto(parse_summary(small_summary())) == [
        FINAL, "baseline+kd+fp", "baseline+ptq_int8", "baseline"]


def test_without_deployments_renders_not_profiled(tmp_path):
    data = small_summary()
    del data["deployments"]
    (tmp_path / "s.json").write_text(json.dumps(data))
    render_report(tmp_path / "s.json", tmp_path / "out")
    rows = read_csv(tmp_path / "out" / "deployments.csv")
    assert {r["status"] for r in rows} == {"not profiled"}
    html = (tmp_path / "out" / "index.html").read_text()
    assert "not profiled" in html and "Recommended: none" in html


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["variants"].pop(0), "no variant named 'baseline'"),
    (lambda d: d["variants"][2].update(tflite_bytes="big"),
     "variant 'baseline+ptq_int8': key 'tflite_bytes' is 'big'"),
    (lambda d: d["variants"][1].pop("accuracy_cv_mean"),
     "variant 'baseline+prune': key 'accuracy_cv_mean' is missing"),
    (lambda d: d["deployments"][0].update(status="great"),
     "deployment of 'baseline' on board 'nano33ble' (engine aot): status 'great'"),
    (lambda d: d["deployments"][0].update(variant="nope"),
     "deployment of 'nope' on board 'nano33ble' (engine aot): variant is not in 'variants'"),
    (lambda d: d.pop("variants"), "key 'variants' is missing"),
])
def test_bad_summary_names_what_is_wrong(tmp_path, mutate, message):
    data = small_summary()
    mutate(data)
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SummaryError) as err:
        render_report(path, tmp_path / "out")
    assert message in str(err.value) and str(path) in str(err.value)
    assert not (tmp_path / "out").exists()


def test_unreadable_summary(tmp_path):
    with pytest.raises(SummaryError, match="cannot read"):
        load_summary(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(SummaryError, match="not valid JSON"):
        load_summary(tmp_path / "bad.json")


def test_renders_what_the_summary_stage_writes(tmp_path):
    """The contract end to end: tinyeit.summary.write's output is the report's input."""
    from tinyeit import summary as summary_stage

    def write(path, data):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
        return str(path)

    dataset = write(tmp_path / "dataset.json", {"source": "synthetic", "n_frames": 800,
                                                "n_features": 40, "n_classes": 10,
                                                "npz_sha256": "ab" * 32})
    dirs, deployments = {}, []
    for name, size, acc, instr in (("baseline", 280_000, 0.8, 900_000),
                                   (FINAL, 10_000, 0.7, 300_000)):
        d = tmp_path / "tflite" / name
        write(d / "metrics.json", {"params": 1, "nonzero_params": 1, "macs": 1,
                                   "keras_bytes": 3 * size, "tflite_bytes": size,
                                   "tflite_gzip_bytes": size})
        write(d / "host_instructions.json", {"host_instructions_per_invoke": instr // 10})
        write(d / "host_latency.json", {
            "host_latency_ms": instr / 1e8, "host_latency_iqr_ms": 1e-4,
            "host_latency_spread": 0.01, "host_latency_noisy": False,
            "host_latency_wall_ms": instr / 1e8, "host_latency_wall_iqr_ms": 1e-4,
            "attempts": 1, "interpreter": "LiteRT default",
            "timing": {"block_invocations": 200, "repeats": 41, "min_block_ms": 2.0,
                       "spread_limit": 0.2, "method": "median and IQR over 41 blocks"}})
        write(d / "accuracy.json", {"accuracy_cv_mean": acc, "accuracy_cv_std": 0.01,
                                    "accuracy_test": acc})
        dirs[name] = str(d)
        dep = {k: None for k in summary_stage.DEPLOYMENT_KEYS}
        dep.update(variant=name, board="nicla_sense", transport="emulator", status="ok",
                   instructions_per_inference=instr, flash_bytes=size, ram_bytes=10_000)
        deployments.append(write(tmp_path / "deploy" / name / "profile.json", dep))
    config = {"boards": {"nicla_sense": {"alias": "nicla", "clock_hz": 64_000_000,
                                         "flash_bytes": 524_288, "ram_bytes": 65_536}},
              "report": {"max_accuracy_drop": 0.2, "max_latency_ms": None}}
    summary_stage.write(config, dataset, dirs, deployments, tmp_path / "summary.json")
    summary_stage.write_host_latency(dirs, tmp_path / "host_latency.json")
    render_report(tmp_path / "summary.json", tmp_path / "out", tmp_path / "host_latency.json")
    gains = by(read_csv(tmp_path / "out" / "gains.csv"), "variant")
    assert float(gains[FINAL]["host_instructions_gain_pct"]) == pytest.approx(-200 / 3)
    assert float(gains[FINAL]["host_latency_gain_pct"]) == pytest.approx(-200 / 3)
    # No latency in these deployments: the board gain is on instructions.
    assert float(gains[FINAL]["nicla_sense_latency_gain_pct"]) == pytest.approx(-200 / 3)
    rec = recommend(load_summary(tmp_path / "summary.json"), "nicla")
    assert rec.choice == "baseline" and rec.pareto == (FINAL, "baseline")
    assert "300,000 instructions" in (tmp_path / "out" / "index.html").read_text()


def test_study_without_the_papers_final_chain(tmp_path):
    data = small_summary()
    data["variants"] = [v for v in data["variants"] if v["name"] != FINAL]
    data["deployments"] = [d for d in data["deployments"] if d["variant"] != FINAL]
    (tmp_path / "s.json").write_text(json.dumps(data))
    render_report(tmp_path / "s.json", tmp_path / "out")
    rows = read_csv(tmp_path / "out" / "paper.csv")
    assert all(r["basis"] == f"variant {FINAL} not in this study" for r in rows)
    assert all(r["agreement"] == "cannot compare" for r in rows)


def test_noisy_host_latency_is_flagged_not_plotted(tmp_path):
    """A measurement over the spread limit gives no gain anywhere; the plot leaves it out."""
    from tinyeit.report.plots import gains_figure

    (tmp_path / "s.json").write_text(json.dumps(small_summary()))
    (tmp_path / "h.json").write_text(json.dumps(small_host_latency(noisy=(FINAL,))))
    render_report(tmp_path / "s.json", tmp_path / "out", tmp_path / "h.json")
    gains = by(read_csv(tmp_path / "out" / "gains.csv"), "variant")
    assert gains[FINAL]["host_latency_gain_pct"] == "" and gains[FINAL]["host_latency_noisy"] == "true"
    assert float(gains[FINAL]["host_instructions_gain_pct"]) == pytest.approx(-95)
    assert float(gains["baseline+ptq_int8"]["host_latency_gain_pct"]) == pytest.approx(-75)
    pc = by(read_csv(tmp_path / "out" / "paper.csv"), "figure")["PC inference time"]
    assert pc["run_gain"] == "" and "noisy" in pc["agreement"]
    fig = gains_figure(load_summary(tmp_path / "s.json", tmp_path / "h.json"))
    labels = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().texts]
    assert "host latency (LiteRT), 1 noisy not drawn" in labels
    # A noisy baseline leaves no host latency gain at all.
    (tmp_path / "h2.json").write_text(json.dumps(small_host_latency(noisy=("baseline",))))
    render_report(tmp_path / "s.json", tmp_path / "out2", tmp_path / "h2.json")
    gains = read_csv(tmp_path / "out2" / "gains.csv")
    assert {r["host_latency_gain_pct"] for r in gains} == {""}


def test_report_without_host_latency_shows_instructions_only(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps(small_summary()))
    render_report(tmp_path / "s.json", tmp_path / "out")
    rows = by(read_csv(tmp_path / "out" / "variants.csv"), "name")
    assert rows[FINAL]["host_latency_ms"] == "" and rows[FINAL]["host_latency_gain_pct"] == ""
    assert float(rows[FINAL]["host_instructions_gain_pct"]) == pytest.approx(-95)
    assert "no host latency measurement given" in (tmp_path / "out" / "index.html").read_text()


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["variants"][0].update(name="baseline+nope"),
     "variant 'baseline+nope': not a variant of the summary"),
    (lambda d: d["variants"][1].update(host_latency_ms=None),
     "variant 'baseline+prune': key 'host_latency_ms' is missing or null"),
    (lambda d: d["variants"][2].update(host_latency_noisy="maybe"),
     "variant 'baseline+ptq_int8': key 'host_latency_noisy' must be true or false"),
    (lambda d: d.pop("variants"), "must be an object with a 'variants' list"),
])
def test_bad_host_latency_file_names_what_is_wrong(tmp_path, mutate, message):
    data = small_host_latency()
    mutate(data)
    (tmp_path / "s.json").write_text(json.dumps(small_summary()))
    (tmp_path / "h.json").write_text(json.dumps(data))
    with pytest.raises(SummaryError) as err:
        render_report(tmp_path / "s.json", tmp_path / "out", tmp_path / "h.json")
    assert message in str(err.value) and "h.json" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_weight_figures_beside_the_file_sizes(tmp_path):
    """The generated C's weight bytes, format and executed MACs of each variant (from its aot
    deployments) in the variants table, beside the .tflite and gzip sizes, and per deployment;
    blank where no deployment has them."""
    data = small_summary()
    for d in data["deployments"]:
        if d["variant"] == "baseline+prune" and d["board"] == "nano33ble":
            d.update(weight_format="block_sparse+dense", weight_bytes=116_430, macs_executed=30_994)
    (tmp_path / "summary.json").write_text(json.dumps(data))
    render_report(tmp_path / "summary.json", tmp_path / "out")
    header = next(csv.reader(io.StringIO((tmp_path / "out" / "variants.csv").read_text())))
    assert header.index("weight_bytes") == header.index("tflite_gzip_bytes") + 1
    rows = by(read_csv(tmp_path / "out" / "variants.csv"), "name")
    assert float(rows["baseline+prune"]["weight_bytes"]) == 116_430
    assert rows["baseline+prune"]["weight_format"] == "block_sparse+dense"
    assert float(rows["baseline+prune"]["macs_executed"]) == 30_994
    assert rows["baseline"]["weight_bytes"] == ""
    deps = [r for r in read_csv(tmp_path / "out" / "deployments.csv")
            if r["variant"] == "baseline+prune" and r["board"] == "nano33ble"]
    assert float(deps[0]["weight_bytes"]) == 116_430
    html = (tmp_path / "out" / "index.html").read_text()
    assert "C weights in flash (kB)" in html and "116.43" in html
