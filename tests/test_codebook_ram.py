"""Codebook weights in flash expanded into RAM at start-up (codegen/codebook_ram.py): the
expansion (Python and the C loop) against the dense layouts' own bytes, the per-board choice,
the figures in build.json and the profile records, and clustered int8 models expanded on the
Cortex-M4 and AArch64 emulators against LiteRT, to the bit."""
from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from tinyeit.codegen import codebook_ram as cr  # noqa: E402
from tinyeit.codegen import emit  # noqa: E402
from tinyeit.codegen import layout_unit_pairs as lp  # noqa: E402
from tinyeit.codegen.host import compiler  # noqa: E402
from tinyeit.codegen.model_reader import CodegenError  # noqa: E402

SHAPES = [(64, 128), (7, 33), (5, 475), (60, 114), (3, 4), (10, 48), (4, 5), (33, 64),
          (4, 20000)]  # the last: segments of more than 0xFFFF positions, split


def _clustered(units, n, values, seed, per_unit=True):
    rng = np.random.default_rng(seed)
    table = rng.integers(-128, 128, (units if per_unit else 1, values))
    if per_unit:  # -128 in the first units of the pairs only, where the unit pairs take it
        table[1::2][table[1::2] == -128] = -127
    else:
        table[table == -128] = -127
    pick = rng.integers(0, values, (units, n))
    return np.take_along_axis(np.broadcast_to(table, (units, values)), pick, 1).astype(np.int8)


@pytest.mark.parametrize("layout", cr.LAYOUTS)
@pytest.mark.parametrize("units, n", SHAPES)
def test_expansion_equals_dense_layout(layout, units, n):
    for k, (values, per_unit) in enumerate(((16, True), (2, True), (16, False), (1, False))):
        rows = _clustered(units, n, values, 7 * units + n + k, per_unit)
        if layout == "unit_pairs" and not lp.pairs_fit(rows):  # the sum bound (4 x 20,000)
            assert n * 127 > lp.B_ABS_SUM_MAX
            continue
        enc = cr.encode(rows, layout)
        want = cr.layout_bytes(rows, layout)
        assert np.array_equal(cr.expand(enc), want)
        assert enc.size == want.size and enc.ram_bytes >= want.size
        if per_unit and values == 16 and units * n >= 4096:
            # the flash form stays about the in-loop codebook's size: half a byte per position
            assert enc.flash_bytes < 0.56 * want.size + 20 * units + 64


def test_encode_is_deterministic_and_checks_itself():
    rows = _clustered(12, 40, 16, 3)
    a, b = cr.encode(rows, "packed_4x4"), cr.encode(rows.copy(), "packed_4x4")
    for f in ("codes", "rows", "segments", "patterns"):
        assert np.array_equal(getattr(a, f), getattr(b, f))
    too_many = np.arange(12 * 40, dtype=np.int64).reshape(12, 40).astype(np.int8)
    with pytest.raises(CodegenError, match="more than 16"):
        cr.encode(too_many, "packed_4x4")
    # a corrupted flash form no longer expands to the layout
    a.codes[0] ^= 0x11
    assert not np.array_equal(cr.expand(a), cr.layout_bytes(rows, "packed_4x4"))


C_MAIN = """
#include <stdio.h>
#include "tinyeit_kernels.h"
%s
static uint8_t dst[%d];
int main(void) {
    tinyeit_cb_expand(dst, sizeof dst, codes.v, rows.v, segments.v, %du, patterns.v);
    %s
    fwrite(dst, 1, sizeof dst, stdout);
    return 0;
}
"""


@pytest.mark.parametrize("layout", cr.LAYOUTS)
def test_c_expansion_equals_dense_layout(tmp_path, layout):
    """tinyeit_cb_expand (reference/tinyeit_ref_codebook.c) compiled on the host, followed for
    the unit pairs by tinyeit_cb_pairs_borrow, writes the dense layout's bytes exactly (the
    weights hold negative first-unit weights, whose borrow the second pass takes)."""
    from tinyeit.codegen.generator import kernel_sources

    rows = _clustered(30, 114, 16, 11)
    enc = cr.encode(rows, layout)
    for name, text in kernel_sources().items():
        (tmp_path / name).write_text(text)
    arrays = "".join(emit.aligned_array(t, nm, v) for t, nm, v in (
        ("uint8_t", "codes", enc.codes), ("uint8_t", "rows", enc.rows),
        ("uint16_t", "segments", enc.segments), ("uint8_t", "patterns", enc.patterns)))
    borrow = "tinyeit_cb_pairs_borrow(dst, sizeof dst);" if layout == "unit_pairs" else ""
    (tmp_path / "main.c").write_text(C_MAIN % (arrays, enc.size, len(enc.segments) // 4, borrow))
    exe = tmp_path / "expand"
    subprocess.run([compiler(), "-std=c99", "-O2", "-Wall", "-Werror", "-I", str(tmp_path),
                    str(tmp_path / "main.c"), str(tmp_path / "tinyeit_kernels_stored.c"),
                    "-o", str(exe)], check=True, capture_output=True, timeout=300)
    got = np.frombuffer(subprocess.run([str(exe)], check=True, capture_output=True, timeout=60).stdout,
                        np.uint8)
    assert np.array_equal(got, cr.layout_bytes(rows, layout))


def _layer(op_index, tensor, ram, flash=100, wide=False):
    return {"op_index": op_index, "op": "FULLY_CONNECTED", "weight_format": "codebook",
            "weight_bytes": flash + 10, "macs_executed": 1000, "macs_dense": 1000,
            "codebook_ram": {"macro": cr.macro(tensor), "layouts": {
                "unit_pairs": {"flash_bytes": flash, "ram_bytes": ram + 64, "wide": wide},
                "packed_4x4": {"flash_bytes": flash, "ram_bytes": ram}}}}


DENSE = {"op_index": 0, "op": "CONV_2D", "weight_format": "dense", "weight_bytes": 40,
         "macs_executed": 500, "macs_dense": 500}


def test_plan_fits_layers_into_the_board_ram():
    layers = [DENSE, _layer(1, 5, 30000), _layer(2, 6, 2000)]
    # 64 kB (nicla_sense): the 30 kB layer does not fit beside a 20 kB arena, the small one does
    text, recs = cr.plan(layers, "cortex_m4f", 65536, 20000)
    assert "#define TINYEIT_CB_RAM_T5 0" in text and "#define TINYEIT_CB_RAM_T6 1" in text
    assert [r["weight_format"] for r in recs] == ["dense", "codebook", "codebook_ram"]
    assert recs[2]["weight_ram_bytes"] == 2064 and recs[2]["weight_layout"] == "unit_pairs"
    assert recs[2]["macs_executed"] == 1000 and recs[1]["weight_ram_bytes"] == 0
    # 256 kB (nano33ble): both
    _, recs = cr.plan(layers, "cortex_m4f", 262144, 20000)
    assert [r["weight_ram_bytes"] for r in recs] == [0, 30064, 2064]
    # the budget's edge: exactly the free RAM fits, a byte more does not
    free = 65536 - 20000 - 4096 - cr.RAM_MARGIN_BYTES
    _, recs = cr.plan([_layer(1, 5, free)], "aarch64_linux", 65536, 20000)
    assert recs[0]["weight_format"] == "codebook_ram" and recs[0]["weight_layout"] == "packed_4x4"
    _, recs = cr.plan([_layer(1, 5, free + 4)], "aarch64_linux", 65536, 20000)
    assert recs[0]["weight_format"] == "codebook"
    # no RAM limit (rpi4: ram_bytes 0): everything expands; the overrides
    _, recs = cr.plan(layers, "aarch64_linux", 0, 10 ** 9)
    assert [r["weight_format"] for r in recs[1:]] == ["codebook_ram"] * 2
    _, recs = cr.plan(layers, "cortex_m4f", 1024, 0, mode="expand")
    assert [r["weight_format"] for r in recs[1:]] == ["codebook_ram"] * 2
    _, recs = cr.plan(layers, "aarch64_linux", 0, 0, mode="inloop")
    assert [r["weight_format"] for r in recs[1:]] == ["codebook"] * 2
    with pytest.raises(CodegenError, match="board tiny: codebook: 'sometimes'"):
        cr.plan(layers, "cortex_m4f", 0, 0, mode="sometimes", board="tiny")


def test_build_figures_carry_the_ram(tmp_path):
    """build.json's weight figures as the board's build stores them, summed per model, and the
    profile record (hence summary.json) keeps weight_ram_bytes."""
    from tinyeit.codegen.weight_formats import weights_document
    from tinyeit.deploy.profile import EXTRA_KEYS
    from tinyeit.firmware.build import weight_figures
    from tinyeit.firmware.stage import codebook_plan, static_memory
    from tinyeit.report.summary import DEPLOY_OPTIONAL
    from tinyeit.report.tables import DEPLOY_FIELDS

    layers = [DENSE, _layer(1, 5, 30000, flash=16000), _layer(2, 6, 2000, flash=1100)]
    (tmp_path / "weights.json").write_text(json.dumps(weights_document(layers)))
    (tmp_path / "tinyeit_codebook.h").write_text(cr.plan(layers, None, None, 0, mode="inloop")[0])
    nano = {"family": "cortex_m4f", "ram_bytes": 262144}
    fig = weight_figures(tmp_path, "nano33ble", nano, 20000)
    assert fig["weight_format"] == "codebook_ram+dense"
    assert fig["weight_bytes"] == 40 + 16000 + 1100
    assert fig["weight_ram_bytes"] == 30064 + 2064
    assert fig["macs_executed"] == 2500
    small = {"family": "cortex_m4f", "ram_bytes": 65536}
    fig = weight_figures(tmp_path, "nicla_sense", small, 20000)
    assert fig["weight_format"] == "codebook+codebook_ram+dense"
    assert fig["weight_ram_bytes"] == 2064
    assert weight_figures(tmp_path)["weight_ram_bytes"] == 0  # the generator's own: in-loop
    # the ESP32 budgets against its static DRAM segment (180,736 B) and its 8 kB stack, not the
    # board's 520 kB of SRAM: with a 130 kB arena the 30 kB layer stays in the loop (packed 4x4 there)
    esp32 = {"family": "esp32", "ram_bytes": 532480}
    assert static_memory(esp32) == (180736, 8192) and static_memory(nano) == (262144, 4096)
    assert static_memory({"family": "aarch64_linux", "ram_bytes": 0})[0] == 0
    fig = weight_figures(tmp_path, "esp32", esp32, 130000)
    assert fig["weight_format"] == "codebook+codebook_ram+dense" and fig["weight_ram_bytes"] == 2000
    assert weight_figures(tmp_path, "esp32", esp32, 100000)["weight_ram_bytes"] == 30000 + 2000
    with pytest.raises(CodegenError, match="board b1: codebook: 'never' is not one of"):
        codebook_plan(tmp_path, "b1", dict(nano, codebook="never"), 0)
    (tmp_path / "weights.json").unlink()
    with pytest.raises(Exception, match="weights.json: missing; board b2"):
        codebook_plan(tmp_path, "b2", nano, 0)
    assert "weight_ram_bytes" in EXTRA_KEYS and "weight_ram_bytes" in DEPLOY_OPTIONAL
    assert "weight_ram_bytes" in DEPLOY_FIELDS


def test_clustered_int8_expanded_equals_litert(tmp_path):
    """A clustered int8 model: the generator's C decodes in the loop and, expanded, runs the
    dense kernels: on the host both ways, on nano33ble (unit pairs, its RAM holds the
    expansion) and rpi4 (packed, NEON), all equal to LiteRT to the bit; a board with too
    little RAM keeps the in-loop codebook and says so in build.json."""
    from test_sparse_codegen import _tflite
    from litert_reference import litert_outputs
    from tinyeit import config as study_config
    from tinyeit.codegen import run_host
    from tinyeit.codegen.generator import build
    from tinyeit.deploy.codegen_run import run_board
    from tinyeit.firmware.build import build_firmware

    path, x = _tflite(tmp_path, "cluster", "ptq_int8")
    result = build(str(path))
    expandable = [l for l in result["layers"] if "codebook_ram" in l]
    assert len(expandable) == 2 and all(l["weight_format"] == "codebook" for l in expandable)
    assert "#define TINYEIT_HAS_PREPARE 1" in result["files"]["model.h"]
    want = litert_outputs(str(path), x)
    for mode in ("inloop", "expand"):
        assert np.array_equal(run_host(str(path), x, codebook=mode).reshape(len(x), -1), want)
    boards = study_config.load("config.yaml")["boards"]
    for board in ("nano33ble", "rpi4"):
        got = run_board(str(path), x, board, boards[board]).reshape(len(x), -1)
        assert np.array_equal(got, want), board
    # the records: nano33ble expands both layers, a 24 kB board only the layer that fits
    # beside the arena, the stack and the margin, and the link sees the RAM arrays
    code = tmp_path / "code"
    code.mkdir()
    for name, text in result["files"].items():
        (code / name).write_text(text)
    from tinyeit.codegen.weight_formats import weights_document

    (code / "weights.json").write_text(json.dumps(weights_document(result["layers"])))
    np.savez(tmp_path / "frames.npz", input=x)
    records = {}
    for name, cfg in (("nano33ble", boards["nano33ble"]),
                      ("small", dict(boards["nano33ble"], ram_bytes=24576)),
                      ("forced", dict(boards["nano33ble"], ram_bytes=24576, codebook="expand"))):
        records[name] = build_firmware(name, cfg, "v", code, tmp_path / "frames.npz",
                                       tmp_path / name, n_frames=2)
    big = records["nano33ble"]
    assert big["status"] == "ok" and big["weight_format"] == "codebook_ram+dense"
    assert big["weight_ram_bytes"] == sum(
        l["codebook_ram"]["layouts"]["unit_pairs"]["ram_bytes"] for l in expandable)
    small = records["small"]  # the 64-unit layer stays in the loop, the 32-unit one expands
    layer_of = {l["op_index"]: l for l in small["weight_layers"]}
    assert small["status"] == "ok" and small["weight_format"] == "codebook+codebook_ram+dense"
    kept = [layer_of[l["op_index"]]["weight_format"] for l in expandable]
    assert sorted(kept) == ["codebook", "codebook_ram"]
    assert 0 < small["weight_ram_bytes"] < big["weight_ram_bytes"]
    # the expansion is static RAM the link counts (.bss)
    grown = big["ram_static_bytes"] - small["ram_static_bytes"]
    assert abs(grown - (big["weight_ram_bytes"] - small["weight_ram_bytes"])) <= 64
    forced = records["forced"]  # 24 kB cannot hold the expansion: the linker says so
    assert forced["status"] == "does_not_fit"
