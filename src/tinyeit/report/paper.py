"""The published figures this study is compared against, as data, with where they come from.

Only the paper's abstract is public, so only its headline figures are here; a figure the
abstract does not give is None. Gains are the paper's convention: percent change relative to
the baseline (negative = smaller/faster), accuracy change in percentage points.
"""
from __future__ import annotations

from dataclasses import dataclass

CITATION = ("Mnif, Sahnoun, Ben Saad, Fakhfakh, Kanoun, \"Combinative Model Compression Approach "
            "for Enhancing 1D CNN Efficiency for EIT-based Hand Gesture Recognition on IoT Edge "
            "Devices\", Internet of Things (Elsevier), 2024, doi 10.1016/j.iot.2024.101403 "
            "(abstract)")

PAPER_BASELINE = "baseline"
PAPER_FINAL = "baseline+kd+fp+ptq_int8"


@dataclass(frozen=True)
class PaperFigure:
    """One row of the paper's headline table.

    `metric` says which figure of this run it is compared with; `board` is set for on-board
    figures. `gain_pct` is the paper's stated gain (percent, or points for accuracy).
    """

    metric: str
    label: str
    unit: str
    baseline: float | None
    final: float | None
    gain_pct: float | None
    text: str
    board: str | None = None
    tolerance: float = 10.0   # |this run's gain - paper's gain| within which they "agree"


FIGURES: tuple[PaperFigure, ...] = (
    PaperFigure("size", "model size", "kB", 871.58, 10.42, -98.8,
                "871.58 kB -> 10.42 kB, -98.8 %", tolerance=5.0),
    PaperFigure("accuracy", "accuracy (CV mean)", "%", 80.81, 72.25, -8.56,
                "80.81 +- 1.72 % -> 72.25 +- 1.05 %, -8.56 points", tolerance=3.0),
    PaperFigure("host_latency", "PC inference time", "unit not stated", 0.3741, 0.0197, -94.73,
                "0.3741 +- 0.0228 -> 0.0197 +- 0.0012 (unit not stated), -94.73 %"),
    PaperFigure("board_latency", "ESP32 inference time", "ms", 119.0, 7.0, -94.0,
                "119 ms -> 7 ms, -94 %", board="esp32"),
    PaperFigure("board_latency", "Nano 33 BLE Sense inference time", "", None, None, -50.0,
                "about halved", tolerance=15.0, board="nano33ble"),
    PaperFigure("board_latency", "Nicla Sense ME inference time", "", None, None, -50.0,
                "about halved", tolerance=15.0, board="nicla_sense"),
    PaperFigure("board_latency", "Raspberry Pi 4 inference time", "", None, None, -50.0,
                "about halved", tolerance=15.0, board="rpi4"),
    PaperFigure("board_power", "Nano 33 BLE Sense average power", "", None, None, -52.0,
                "-52 %", board="nano33ble", tolerance=15.0),
    PaperFigure("board_power", "Raspberry Pi 4 average power", "", None, None, -34.05,
                "-34.05 %", board="rpi4", tolerance=15.0),
)

PAPER_ACCURACY_STD = {"baseline": 1.72, "final": 1.05}
