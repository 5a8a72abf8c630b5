"""The report's engine comparison: aot against tflm per board and variant, the ratios, the
per-board Markdown table, and a recommendation that names the engine."""
from __future__ import annotations

import copy
import json

import pytest

from tinyeit.report.build import build_report
from tinyeit.report.recommend import format_recommendation, recommend
from tinyeit.report.summary import SummaryError, load_summary
from tinyeit.report.tables import engines_markdown, engines_table

from test_report_data import small_summary


def with_tflm(data: dict) -> dict:
    """Every nano33ble deployment again as tflm: twice the instructions, 40 kB more flash; the
    int8 final variant 1 LSB from LiteRT but equal to the TFLM interpreter."""
    data = copy.deepcopy(data)
    extra = []
    for d in data["deployments"]:
        d["engine"] = "aot"
        if d["board"] != "nano33ble":
            continue
        t = dict(d, engine="tflm")
        t["instructions_per_inference"] = 2 * d["instructions_per_inference"]
        t["latency_ms"] = 2 * d["latency_ms"]
        t["energy_uj"] = 2 * d["energy_uj"]
        t["flash_bytes"] = d["flash_bytes"] + 40_000
        if d["variant"] == "baseline+kd+fp+ptq_int8":
            t.update(outputs_match_host=False, outputs_exact=False, outputs_max_abs_diff=1.0,
                     outputs_exact_tflm_interpreter=True)
        extra.append(t)
    data["deployments"] += extra
    return data


@pytest.fixture
def summary(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(with_tflm(small_summary())))
    return load_summary(path)


def test_engine_table_has_the_ratio_per_board_and_variant(summary):
    table = engines_table(summary)
    nano = {r["variant"]: r for r in table.rows if r["board"] == "nano33ble"}
    assert len(nano) == 5
    assert all(r["cost_ratio"] == pytest.approx(0.5) and r["cost_kind"] == "instructions_per_inference"
               for r in nano.values())
    assert nano["baseline"]["flash_ratio"] == pytest.approx(300_000 / 340_000)
    nicla = {r["variant"]: r for r in table.rows if r["board"] == "nicla_sense"}
    assert nicla["baseline+ptq_int8"]["tflm_status"] == "not profiled" and nicla["baseline+ptq_int8"]["cost_ratio"] is None
    assert not any(r["board"] == "rpi4" for r in table.rows)


def test_markdown_table_per_board_shows_ratio_and_exactness(summary):
    text = engines_markdown(summary)
    assert text.count("| variant | aot instructions | tflm instructions | aot/tflm |") == 3
    assert "static RAM (arena)" in text
    row = next(ln for ln in text.splitlines() if ln.startswith("| baseline+kd+fp+ptq_int8 | 128,000 | 256,000 |"))
    assert "| 0.50 |" in row and "LiteRT ±1, = TFLM interp." in row


def test_recommendation_names_the_engine(summary):
    rec = recommend(summary, "nano33ble")
    assert rec.choice == "baseline" and rec.choice_engine == "aot"
    text = format_recommendation(rec)
    assert "recommended: baseline with engine aot" in text
    assert {c.engine for c in rec.candidates} == {"aot", "tflm"}
    # 1 LSB from LiteRT but equal to TFLM's own interpreter: eligible.
    assert rec.candidate("baseline+kd+fp+ptq_int8", "tflm").eligible


def test_where_only_tflm_ran_it_is_recommended(tmp_path):
    data = with_tflm(small_summary())
    for d in data["deployments"]:
        if d["engine"] == "aot" and d["board"] == "nano33ble":
            d["status"] = "failed"
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(data))
    rec = recommend(load_summary(path), "nano33ble")
    assert (rec.choice, rec.choice_engine) == ("baseline", "tflm")
    assert "recommended: baseline with engine tflm" in format_recommendation(rec)
    assert rec.pareto_engines and set(rec.pareto_engines) == {"tflm"}


def test_report_has_the_engines_table_and_plot(summary):
    files = build_report(summary, "0" * 64)
    assert files["engines.png"].startswith(b"\x89PNG")
    assert files["engines.csv"].decode().splitlines()[0].startswith("board,variant,aot_status")
    assert 'id="engines"' in files["index.html"].decode()


def test_a_deployment_twice_for_one_engine_is_refused(tmp_path):
    data = with_tflm(small_summary())
    data["deployments"].append(dict(data["deployments"][-1]))
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SummaryError, match=r"on board 'nano33ble' \(engine tflm\): appears twice"):
        load_summary(path)
