"""The rendered report: opens in headless Chromium, is self-contained and reproducible, plots
are readable, and the Snakemake rule and `snakemake --report` work."""
from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import matplotlib
import pytest
from PIL import Image, ImageStat
from report_workflow import report_workflow, snakemake
from test_report_data import small_host_latency, small_summary

from tinyeit.report import plots, render_report
from tinyeit.report.summary import parse_summary

ROOT = Path(__file__).resolve().parents[1]
CONFIG_VARIANTS = [
    "baseline", "baseline+ptq_dynamic", "baseline+ptq_float16", "baseline+ptq_int8",
    "baseline+qat+ptq_int8", "baseline+prune", "baseline+prune+ptq_int8", "baseline+cluster",
    "baseline+cluster+ptq_int8", "baseline+fp", "baseline+fp+ptq_int8", "baseline+kd",
    "baseline+kd+ptq_int8", "baseline+kd+fp", "baseline+kd+fp+ptq_int8",
    "baseline+kd+fp+qat+ptq_int8"]


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "chromium is not installed: apt-get install -y chromium (Debian)"
    return exe


def open_in_chromium(page: Path, tmp: Path) -> tuple[Path, list[str]]:
    """Screenshot a page in headless Chromium; return the PNG and the page's console lines."""
    shot = tmp / f"{page.stem}-screenshot.png"
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp / 'chromium-profile'}",
           "--enable-logging=stderr", "--v=0", "--window-size=1400,2400",
           f"--screenshot={shot}", page.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return shot, console


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("render")
    (root / "summary.json").write_text(json.dumps(small_summary()))
    (root / "host_latency.json").write_text(json.dumps(small_host_latency(noisy=("baseline+kd+fp",))))
    render_report(root / "summary.json", root / "out", root / "host_latency.json")
    return root / "out"


def test_opens_in_chromium_without_errors(report_dir, tmp_path):
    shot, console = open_in_chromium(report_dir / "index.html", tmp_path)
    assert console == []
    image = Image.open(shot).convert("L")
    assert image.size == (1400, 2400)
    assert ImageStat.Stat(image).stddev[0] > 20, "screenshot is blank"


def test_chromium_harness_sees_errors_and_blank_pages(tmp_path):
    """The check above can fail: a page with a script error is caught, a blank one too."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>undefined_function()</script></body></html>")
    shot, console = open_in_chromium(bad, tmp_path)
    assert any("undefined_function" in line for line in console)
    assert ImageStat.Stat(Image.open(shot).convert("L")).stddev[0] < 1


def test_html_is_self_contained(report_dir):
    html = (report_dir / "index.html").read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"(?:src|href)\s*=\s*\"(?!data:|#)", html)
    assert "http://" not in html and "https://" not in html and "url(" not in html
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 3 + 4      # accuracy/size, gains, engines, one per board
    for data in images:
        Image.open(io.BytesIO(base64.b64decode(data))).verify()
    expected = (report_dir / "accuracy_vs_size.png").read_bytes()
    assert base64.b64encode(expected).decode() in html


def test_same_summary_same_bytes(report_dir, tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps(small_summary()))
    (tmp_path / "h.json").write_text(json.dumps(small_host_latency(noisy=("baseline+kd+fp",))))
    render_report(tmp_path / "summary.json", tmp_path / "again", tmp_path / "h.json")
    for path in sorted(report_dir.iterdir()):
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes(), path.name


def test_pngs_carry_no_software_or_date(report_dir):
    for png in report_dir.glob("*.png"):
        data = png.read_bytes()
        assert b"tIME" not in data and b"Software" not in data and b"matplotlib" not in data


def test_plots_have_no_overlapping_labels_with_the_full_study_names():
    """Sixteen variants with the config's longest names, every board profiled."""
    data = small_summary()
    base = data["variants"][0]
    data["variants"] = [dict(base, name=n, steps=n.split("+"),
                             tflite_bytes=280_000 // (1 + i), accuracy_cv_mean=0.8 - 0.005 * i)
                        for i, n in enumerate(CONFIG_VARIANTS)]
    data["deployments"] = [
        {"variant": n, "board": b, "status": "ok", "latency_ms": 20.0 / (1 + i),
         "latency_is_estimate": True, "energy_uj": 200.0 / (1 + i), "energy_is_estimate": True,
         "instructions_per_inference": 1_280_000 // (1 + i), "flash_bytes": 100_000,
         "ram_bytes": 20_000}
        for i, n in enumerate(CONFIG_VARIANTS) for b in data["boards"]]
    latency = {"variants": [dict(small_host_latency()["variants"][0], name=n,
                                 host_latency_ms=0.4 / (1 + i), host_latency_noisy=i == 3)
                            for i, n in enumerate(CONFIG_VARIANTS)]}
    summary = parse_summary(data, host_latency=latency)
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        figures = {"accuracy_vs_size": plots.accuracy_vs_size_figure(summary),
                   "gains": plots.gains_figure(summary)}
        figures.update({b: plots.board_latency_figure(summary, b) for b in summary.board_keys})
        for name, fig in figures.items():
            assert plots.overlapping_texts(fig) == [], name
            for ax in fig.axes:
                assert ax.get_xlabel() and ax.get_title(), name
            assert any(ax.get_legend() for ax in fig.axes), name
        for board in summary.board_keys:
            assert "ms" in figures[board].axes[0].get_xlabel()
        assert "kB" in figures["accuracy_vs_size"].axes[0].get_xlabel()
        assert "%" in figures["accuracy_vs_size"].axes[0].get_ylabel()


def test_overlap_check_can_fail():
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, "one label")
    ax.text(0.5, 0.5, "another label")
    assert ("one label", "another label") in plots.overlapping_texts(fig)


@pytest.mark.slow
def test_snakemake_rule_and_report_zip(tmp_path):
    """The real rule from rules/report.smk, in a workflow holding only it and a summary."""
    out = report_workflow(tmp_path, small_summary())
    assert (out / "index.html").is_file() and (out / "latency_nicla_sense.png").is_file()
    snakemake(tmp_path, "--report", "report.zip")
    with zipfile.ZipFile(tmp_path / "report.zip") as zf:
        names = {Path(n).name for n in zf.namelist()}
        page = zf.read(next(n for n in zf.namelist() if n.endswith("report/report.html")))
    assert {"index.html", "variants.csv", "deployments.csv", "gains.csv", "paper.csv",
            "accuracy_vs_size.png", "gains.png", "latency_nano33ble.png",
            "latency_rpi4.png"} <= names
    page = page.decode()
    for caption in ("no other variant is both smaller and more accurate",
                    "Size, latency and energy gain of every variant against the",
                    "beside the figures published in Mnif"):
        assert caption in page, caption
