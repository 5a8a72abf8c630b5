"""The unit-pair layout of int8 fully connected weights (codegen/layout_unit_pairs.py) and its
kernels: the algebra (two units per SMLAD lane, B recovered from R - U) against a plain dot
product, the bound that keeps it exact and a case it rightly refuses, the portable reference
kernel on the host, and the Cortex-M4 kernel on the emulated nano33ble, bit for bit with LiteRT's
single-rounding FULLY_CONNECTED, with its cycles beside the packed 4x4 kernel's on the same layer.
Weights hold -128 and -127 (a second unit's -128 beside a first unit's weight >= 0, as the lanes
require), unit counts are odd and off the 4 and 6 blockings, input counts off the 4 and 16
paddings, and the first input rows are all -128 and all 127.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

import fc_harness as H
from tinyeit.codegen import layout_unit_pairs as lp

SHAPES = [(1, 3), (5, 13), (7, 101), (10, 64), (13, 40), (2, 17), (8, 475)]
# the four-pair blocks' edges (layers of at least 8,192 padded MACs): the longest row (512: the
# unrolled body from its first half step), more blocks than one call takes (17 blocks),
# 4 + 3 + 2 pairs, n % 4 of 2 and 3 (the last input word); a row too long for them (600 inputs:
# blocks of 3 and the looped kernels); the smaller SHAPES take the looped kernels too
M4_SHAPES = SHAPES + [(16, 512), (136, 64), (17, 480), (9, 600), (40, 226), (24, 339)]


@pytest.mark.parametrize("units,n", SHAPES + [(128, 475), (17, 511)])
def test_layout_algebra_equals_the_dot_product(units, n):
    L = H.layer(units, n, units + n)
    lay = lp.unit_pairs_s8(L["w"])
    assert lay.dtype == np.uint8
    assert lay.size == (units + units % 2) * lp.padded_inputs(n)
    assert lp.pairs_fit(L["w"])
    for x in H.inputs(n, 4, n):
        want = L["w"].astype(np.int64) @ x.astype(np.int64)
        assert (lp.simulate(lay, x, units, n) == want).all()


def test_worthwhile_keeps_small_and_heavily_padded_layers_packed():
    assert [n for n in (12, 24, 32, 40, 48, 64, 101, 114, 128, 228, 475) if lp.worthwhile(n)] \
        == [32, 48, 64, 101, 114, 128, 228, 475]


def test_block_sizes_never_leave_one_pair_after_a_full_block():
    assert lp.block_sizes(1) == [1]
    assert lp.block_sizes(4) == [2, 2]
    assert lp.block_sizes(5) == [3, 2]
    assert lp.block_sizes(64) == [3] * 20 + [2, 2]
    for pairs in range(1, 40):
        assert sum(lp.block_sizes(pairs)) == pairs
    # rows of at most 512 padded inputs in layers of at least 8,192 padded MACs: blocks of four
    # (the unrolled Cortex-M body); smaller layers keep the looped blocks
    assert lp.block_sizes(64, 475) == [4] * 16
    assert lp.block_sizes(5, 64) == [3, 2]
    assert lp.block_sizes(9, 480) == [4, 3, 2]
    assert lp.block_sizes(8, 512) == [4, 4]
    assert lp.block_sizes(7, 512) == [3, 2, 2]  # 7,168 MACs
    assert lp.block_sizes(9, 200) == [3, 3, 3]
    assert lp.block_sizes(64, 513) == [3] * 20 + [2, 2]
    assert lp.wide(475, 64) and lp.wide(512, 8) and not lp.wide(512, 7) and not lp.wide(513, 64)
    for pairs in range(1, 40):
        sizes = lp.block_sizes(pairs, 100)
        assert sum(sizes) == pairs and (len(sizes) < 2 or sizes[-1] > 1)


def test_pairs_fit_refuses_what_would_overflow():
    """sum |b| > 65535: with every x = -128 the B sum leaves +-2^23 and (R - U) >> 8 is wrong,
    so the layout must be refused; one unit less and it is exact again."""
    n = 520
    w = np.full((2, n), -128, np.int8)
    w[0] = 127  # lanes 127 - 32768: int16, so only the sum bound is at stake
    x = np.full(n, -128, np.int8)
    assert not lp.pairs_fit(w)
    got = lp.simulate(lp.unit_pairs_s8(w), x, 2, n)
    assert got[1] != int(w[1].astype(np.int64) @ x.astype(np.int64))
    w2 = w[:, :511]
    assert lp.pairs_fit(w2)
    assert (lp.simulate(lp.unit_pairs_s8(w2), x[:511], 2, 511)
            == w2.astype(np.int64) @ x[:511].astype(np.int64)).all()


def test_pairs_fit_refuses_a_lane_outside_int16():
    """A lane is the int16 a + 256 b: b = -128 beside a negative a (here -1 + 256 * -128) does
    not fit, its bytes read back as another lane and the sums are wrong, so the layer is refused
    (the generator keeps the packed layout); b = -128 beside a >= 0, or a = -128 beside any
    b > -128, fits and is exact. The bytes are (a & 0xff, b - (a < 0))."""
    lo, hi = lp.lane_bytes(np.array([-1, -128, 5, 0]), np.array([3, -127, -128, -1]))
    assert lo.tolist() == [0xFF, 0x80, 0x05, 0x00] and hi.tolist() == [0x02, 0x80, 0x80, 0xFF]
    assert (lp.borrow_lanes(np.array([0xFF, 0x03, 0x80, 0x81, 0x05, 0x80], np.uint8)).tolist()
            == [0xFF, 0x02, 0x80, 0x80, 0x05, 0x80])
    n = 40
    x = np.arange(-20, 20, dtype=np.int8)
    w = np.zeros((3, n), np.int8)
    w[0, 7], w[1, 7] = -1, -128
    assert not lp.pairs_fit(w)
    got = lp.simulate(lp.unit_pairs_s8(w), x, 3, n)
    assert (got != w.astype(np.int64) @ x.astype(np.int64)).any()
    for a, b in ((0, -128), (127, -128), (-128, -127), (-128, 127)):
        w[0, 7], w[1, 7], w[2, 9] = a, b, -128  # the third unit pairs with a zero unit
        assert lp.pairs_fit(w)
        assert (lp.simulate(lp.unit_pairs_s8(w), x, 3, n)
                == w.astype(np.int64) @ x.astype(np.int64)).all()


@pytest.mark.parametrize("units,n", SHAPES)
@pytest.mark.parametrize("relu", [False, True])
def test_reference_kernel_reads_the_layout_on_the_host(tmp_path, units, n, relu):
    from tinyeit.codegen.host import build_executable, run_rows

    L = H.layer(units, n, 3 * units + n, relu=relu)
    x = H.inputs(n, 5, n)
    H.folder(L, tmp_path, "pairs")
    files = {p.name: p.read_text() for p in tmp_path.iterdir()}
    exe = build_executable(files)
    got = run_rows(exe, x, np.dtype(np.int8), units)
    assert (got == H.expected(L, x)).all()


@pytest.mark.slow
@pytest.mark.parametrize("units,n", M4_SHAPES)
def test_cortex_m_kernel_bit_exact(tmp_path, units, n):
    """Odd unit counts run with a ReLU (the per-block epilogue), even ones without (the short
    epilogue, rq_fast, which every even shape here takes)."""
    L = H.layer(units, n, units * 7 + n, relu=units % 2 == 1)
    assert H._fast(L) == (units % 2 == 0)
    x = H.inputs(n, 4, n)
    out, _, _ = H.run_m4(L, x, tmp_path, "pairs")
    assert (out == H.expected(L, x)).all()


@pytest.mark.slow
@pytest.mark.parametrize("units,n", [(13, 40), (7, 101), (9, 600)])
def test_cortex_m_short_epilogue_with_an_odd_unit(tmp_path, units, n):
    """Odd unit counts on the short epilogue: the last unit has no pair (A = U alone)."""
    L = H.layer(units, n, units * 11 + n, relu=False)
    assert H._fast(L)
    x = H.inputs(n, 4, n)
    out, _, _ = H.run_m4(L, x, tmp_path, "pairs")
    assert (out == H.expected(L, x)).all()


# rq_fast layers through the four-pair kernel's own outputs (tinyeit_cm_pairs4u with an out
# pointer): units a multiple of 8 take tinyeit_fc_s8_pairs' one-call path (16 x 512: one block
# row at the longest body; 24 x 339: n % 4 of 3), the others mix fused four-pair blocks with the
# raw sums of the blocks after them (17 x 480: 4 + 3 + 2 and an odd last unit; 34 x 256: three
# fused blocks then 3 + 2; 138 x 64: a full chunk of 16 fused blocks, then 3 + 2)
FUSED = [(16, 512, -128), (24, 339, 127), (17, 480, 127), (34, 256, -128), (138, 64, 0)]


@pytest.mark.slow
@pytest.mark.parametrize("units,n,zo", FUSED)
def test_cortex_m_fused_block_outputs(tmp_path, units, n, zo):
    """Zero points at both ends of int8, and shifts at rq_fast's limits: -2 (t = 0, outputs
    saturating both ways through SSAT) on the first units, -22 on the last two (outputs at the
    zero point but for the rounding); bit for bit with LiteRT's single rounding."""
    L = H.layer(units, n, units * 5 + n, zo=zo)
    L["mult"][0], L["shift"][0] = (1 << 30) + 12345, -2
    L["mult"][1], L["shift"][1] = (1 << 31) - 1, -2
    L["mult"][-2], L["shift"][-2] = (1 << 31) - 1, -22
    L["mult"][-1], L["shift"][-1] = 1 << 30, -22
    assert H._fast(L)
    x = H.inputs(n, 4, n)
    want = H.expected(L, x)
    assert (want[:, :2] == 127).any() and (want[:, :2] == -128).any()
    out, _, _ = H.run_m4(L, x, tmp_path, "pairs")
    assert (out == want).all()


# rq_fast layers too small for the four-pair kernel: one call per block of 3, 2 or 1 pairs makes
# the block's outputs (tinyeit_cm_pairs3o/2o/1o), a last block with a padding unit goes through
# its sums (2 x 32: one fused one-pair block; 10 x 64: 3 + 2, the study's logits layer; 5 x 16:
# a three-pair block, odd; 1 x 64: one unit alone; 8 x 20: 2 + 2, n % 4 of 0 past a padded row)
SMALL_FUSED = [(2, 32, 127), (10, 64, -128), (5, 16, 0), (1, 64, -7), (8, 20, 5)]


@pytest.mark.slow
@pytest.mark.parametrize("units,n,zo", SMALL_FUSED)
def test_cortex_m_small_fused_blocks(tmp_path, units, n, zo):
    """Shifts at rq_fast's limits on the first and last units (-2: saturating both ways; -22:
    rounding near the zero point), bit for bit with LiteRT's single rounding."""
    L = H.layer(units, n, units * 3 + n, zo=zo)
    L["mult"][0], L["shift"][0] = (1 << 31) - 1, -2
    L["mult"][-1], L["shift"][-1] = 1 << 30, -22
    assert H._fast(L) and not lp.wide(n, (units + 1) // 2)
    x = H.inputs(n, 4, n)
    out, _, _ = H.run_m4(L, x, tmp_path, "pairs")
    assert (out == H.expected(L, x)).all()


@pytest.mark.slow
def test_cortex_m_pairs_against_packed_cycles():
    """The study's largest layer (475 inputs, 128 units) with both layouts on the M4 model, in
    one run: same outputs, and the pair kernel at most 0.8x the packed kernel's cycles."""
    L = H.layer(128, 475, 5, relu=True)
    x = H.inputs(475, 3, 5)
    res = {}
    for layout in ("fc4", "pairs"):
        with tempfile.TemporaryDirectory() as tmp:
            out, cycles, rec = H.run_m4(L, x, Path(tmp), layout)
        assert (out == H.expected(L, x)).all(), layout
        res[layout] = (min(cycles), rec["flash_bytes"])
    macs = 128 * 475
    print({k: (c, round(c / macs, 3), f) for k, (c, f) in res.items()})
    assert res["pairs"][0] <= 0.8 * res["fc4"][0]
    assert res["pairs"][0] / macs <= 1.5


@pytest.mark.slow
def test_build_json_records_the_layout_per_board(tmp_path):
    """One generated folder, three boards: the Cortex-M4F builds compile the unit pairs (and
    record it, with the weight bytes they hold, within the board's flash), the A72 build the
    packed layout."""
    from tinyeit import config as study_config
    from tinyeit.codegen import generate
    from tinyeit.codegen.sample_models import write_study_like
    from tinyeit.firmware.build import build_firmware

    cfg = study_config.load(str(Path(__file__).resolve().parents[1] / "config.yaml"))["boards"]
    tflite = write_study_like(str(tmp_path), "ptq_int8")
    info = generate(tflite, str(tmp_path / "code"))
    assert info["fc_pairs_layers"] == 3
    x = np.zeros((1, info["input_size"]), np.int8)
    np.savez(tmp_path / "frames.npz", input=x)
    for board, layout in (("nano33ble", "unit_pairs"), ("nicla_sense", "unit_pairs"),
                          ("rpi4", "packed_4x4")):
        rec = build_firmware(board, cfg[board], "v", tmp_path / "code", tmp_path / "frames.npz",
                             tmp_path / board, n_frames=1)
        assert rec["status"] == "ok"
        assert rec["fc_weight_layout"] == layout
        if layout == "unit_pairs":
            assert rec["fc_pairs_layers"] == 3
            assert rec["fc_pairs_wide_layers"] == info["fc_pairs_wide_layers"] >= 1
            assert rec["weights_bytes"] == info["weights_bytes_fc_pairs"]
            assert rec["flash_bytes"] <= cfg[board]["flash_bytes"]
        else:
            assert rec["weights_bytes"] == info["weights_bytes"]
            assert rec["fc_pairs_wide_layers"] == 0


@pytest.mark.slow
def test_unrolled_kernel_is_linked_only_where_a_layer_takes_it(tmp_path):
    """The study-like baseline's 128 x 475 layer takes the four-pair blocks, so its firmware
    holds tinyeit_cm_pairs4u; a student whose layers are all below WIDE_MIN_MACS is built with
    TINYEIT_PAIRS_WIDE 0 and the linker leaves the ~17 kB body out, exact all the same."""
    from tinyeit import config as study_config
    from tinyeit.codegen import generate
    from tinyeit.codegen.sample_models import convert, representative_inputs, study_like_model
    from tinyeit.deploy.elf_symbols import symbol_address
    from tinyeit.errors import TinyEitError
    from tinyeit.firmware.build import build_firmware

    cfg = study_config.load(str(Path(__file__).resolve().parents[1] / "config.yaml"))["boards"]
    flash = {}
    for name, filters, units in (("big", 25, (128, 64)), ("small", 6, (24, 12))):
        model = study_like_model(0, filters=filters, dense_units=units)
        data = convert(model, "ptq_int8", representative_inputs(tuple(model.input_shape[1:]), 32))
        tflite = tmp_path / f"{name}.tflite"
        tflite.write_bytes(data)
        info = generate(str(tflite), str(tmp_path / name))
        assert (info["fc_pairs_wide_layers"] > 0) == (name == "big")
        np.savez(tmp_path / "frames.npz", input=np.zeros((1, info["input_size"]), np.int8))
        rec = build_firmware("nano33ble", cfg["nano33ble"], name, tmp_path / name,
                             tmp_path / "frames.npz", tmp_path / f"fw-{name}", n_frames=1)
        assert rec["status"] == "ok" and rec["fc_pairs_wide_layers"] == info["fc_pairs_wide_layers"]
        elf = tmp_path / f"fw-{name}" / rec["image"]
        if name == "big":
            assert symbol_address(elf, "tinyeit_cm_pairs4u")
        else:
            with pytest.raises(TinyEitError):
                symbol_address(elf, "tinyeit_cm_pairs4u")
        flash[name] = rec["flash_bytes"]
    assert flash["small"] < flash["big"] - 17000


@pytest.mark.slow
def test_fused_small_blocks_are_linked_only_where_a_layer_takes_them(tmp_path):
    """The study-like baseline's 10 x 64 logits layer takes the short epilogue below the
    four-pair size, so its firmware holds tinyeit_cm_pairs3o/2o; a model whose only unit-pair
    layer is wide (24 units over 475 inputs; the rest packed: 16 and 10 units over 24 and 16
    inputs) is built with TINYEIT_PAIRS_SMALL_FAST 0 and the linker leaves them out."""
    from tinyeit import config as study_config
    from tinyeit.codegen import generate
    from tinyeit.codegen.sample_models import convert, representative_inputs, study_like_model
    from tinyeit.deploy.elf_symbols import symbol_address
    from tinyeit.errors import TinyEitError
    from tinyeit.firmware.build import build_firmware

    cfg = study_config.load(str(Path(__file__).resolve().parents[1] / "config.yaml"))["boards"]
    for name, units in (("logits", (128, 64)), ("wide_only", (24, 16))):
        model = study_like_model(0, filters=25, dense_units=units)
        data = convert(model, "ptq_int8", representative_inputs(tuple(model.input_shape[1:]), 32))
        tflite = tmp_path / f"{name}.tflite"
        tflite.write_bytes(data)
        info = generate(str(tflite), str(tmp_path / name))
        assert info["fc_pairs_layers"] >= 1
        assert (info["fc_pairs_small_fast_layers"] > 0) == (name == "logits")
        np.savez(tmp_path / "frames.npz", input=np.zeros((1, info["input_size"]), np.int8))
        rec = build_firmware("nano33ble", cfg["nano33ble"], name, tmp_path / name,
                             tmp_path / "frames.npz", tmp_path / f"fw-{name}", n_frames=1)
        assert rec["status"] == "ok"
        assert rec["fc_pairs_small_fast_layers"] == info["fc_pairs_small_fast_layers"]
        elf = tmp_path / f"fw-{name}" / rec["image"]
        for fn in ("tinyeit_cm_pairs3o", "tinyeit_cm_pairs2o"):
            if name == "logits":
                assert symbol_address(elf, fn)
            else:
                with pytest.raises(TinyEitError):
                    symbol_address(elf, fn)


def test_fast_requant_bound_uses_the_zero_point():
    """rq_fast's overflow bound: |floor(acc m / 2^32)| + 1 + |2^(s-1) + zo 2^s| < 2^31, at its
    limit and one past it, for the extreme zero points; shifts -2 and -22 fit, -1 and -23 not."""
    from tinyeit.codegen.ops.fully_connected import fast_requant

    m = 1 << 30
    for zo in (-128, 127):
        s = 21
        k = abs((1 << (s - 1)) + zo * (1 << s))
        bound = 4 * ((1 << 31) - 2 - k)       # (bound * m) >> 32 = bound / 4
        p = dict(single_round=1, cheap_rq=1, post_len=0, act_min=-128, act_max=127,
                 out_offset=zo)
        assert fast_requant(p, [bound], [m], [-22])
        assert not fast_requant(p, [bound + 4], [m], [-22])
    p = dict(single_round=1, cheap_rq=1, post_len=0, act_min=-128, act_max=127, out_offset=0)
    assert fast_requant(p, [1000], [m], [-2])
    assert not fast_requant(p, [1000], [m], [-1])
    assert not fast_requant(p, [1000], [m], [-23])


@pytest.mark.slow
@pytest.mark.parametrize("zo", [-128, 127, -5])
def test_cortex_m_short_epilogue_zero_point_and_shift_limits(tmp_path, zo):
    """The short epilogue (SSAT to int8 after ASR by -2 - shift) at the extreme zero points and
    the shift limits it takes (-2 and -22, saturating and rounding near zo), beside units one past
    them (-23: the per-block epilogue), in four-pair blocks (17 x 480: 8,192+ padded MACs) and
    the looped ones, an odd unit last."""
    for units, n, seed in ((17, 480, 5), (9, 101, 6)):
        L = H.layer(units, n, seed + zo + 200, zo=zo, relu=False)
        L["shift"][0], L["shift"][1], L["shift"][2] = -2, -22, -2
        L["mult"][0], L["mult"][1], L["mult"][2] = (1 << 31) - 1, 1 << 30, 1 << 30
        assert H._fast(L)
        x = H.inputs(n, 4, n)
        out, _, _ = H.run_m4(L, x, tmp_path / f"{units}", "pairs")
        assert (out == H.expected(L, x)).all()
        L["shift"][3] = -23
        assert not H._fast(L)
        out, _, _ = H.run_m4(L, x, tmp_path / f"{units}_slow", "pairs")
        assert (out == H.expected(L, x)).all()
