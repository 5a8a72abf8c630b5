"""Block-sparse fully connected kernels against the dense ones, on the host (reference C), on
the Cortex-M4 emulator (the DSP / FPU versions) and under qemu-aarch64 (rpi4: the NEON ones).

One C "model" per element type runs every case on the same input row: the block-sparse kernel
on the encoded weights, then the dense kernel on the dense layout of the same weights; its output
is both results, case after case. int8 sums are integers (skipping zero blocks cannot change
them): the two must be equal to the bit. float: each unit's sum runs over the kept inputs in
input order, the dense kernels' order, and a skipped block only leaves out products with a zero
weight: equal too (finite inputs). Cases: random block patterns of several densities, unstructured
sparsity, all-zero unit blocks, an all-zero matrix, one nonzero weight, fully dense, shapes whose
units and inputs are not multiples of 4, fewer than 4 inputs, both requantizations.
"""
from __future__ import annotations

import numpy as np
import pytest

from tinyeit import config as study_config
from tinyeit.codegen import fixedpoint as fp
from tinyeit.codegen import layout_unit_pairs as lp
from tinyeit.codegen import weight_formats as wf
from tinyeit.codegen.emit import packed_fc_s8
from tinyeit.codegen.generator import F32_BLOCK, c_array, aligned_array, kernel_sources
from tinyeit.codegen.host import build_executable, run_rows


def pack_dense_s8(rows: np.ndarray) -> np.ndarray:
    """tinyeit_fc_s8's packed layout (tinyeit_kernels.h), as the generator writes it."""
    return packed_fc_s8(np.asarray(rows, np.int8)).astype(np.int8)


def pack_dense_f32(rows: np.ndarray) -> np.ndarray:
    """tinyeit_fc_f32's blocked layout: rows in blocks of 8 interleaved, the rest as rows."""
    full = rows.shape[0] - rows.shape[0] % F32_BLOCK
    blocks = rows[:full].reshape(-1, F32_BLOCK, rows.shape[1]).transpose(0, 2, 1)
    return np.concatenate([blocks.reshape(-1), rows[full:].reshape(-1)]).astype(np.float32)


def block_pattern(rng, units, n, density):
    """Weights whose 4 x 4 blocks are kept with probability `density` (nonzero inside, some
    zeros too, as after block pruning and int8 rounding)."""
    keep = rng.random((-(-units // 4), -(-n // 4))) < density
    mask = np.kron(keep, np.ones((4, 4), bool))[:units, :n]
    return mask & (rng.random((units, n)) < 0.9)


def cases(rng, dtype):
    shapes = [(16, 40, "blocks 0.4", 0.4), (12, 23, "blocks 0.6, n % 4 = 3", 0.6),
              (10, 64, "units % 4 = 2", 0.3), (7, 9, "units and n odd", 0.5),
              (8, 3, "fewer than 4 inputs", 0.5), (8, 32, "fully dense", 1.0),
              (128, 475, "study dense1 shape, 0.4", 0.4)]
    out = []
    for units, n, name, density in shapes:
        out.append((name, units, n, block_pattern(rng, units, n, density)))
    out.append(("unstructured 0.6 zeros", 12, 36, rng.random((12, 36)) < 0.4))
    m = block_pattern(rng, 16, 32, 0.7)
    m[4:8] = False
    m[12:16] = False
    out.append(("all-zero unit blocks", 16, 32, m))
    out.append(("all-zero matrix", 8, 16, np.zeros((8, 16), bool)))
    one = np.zeros((8, 20), bool)
    one[5, 13] = True
    out.append(("one nonzero", 8, 20, one))
    result = []
    for name, units, n, mask in out:
        if dtype == np.int8:
            w = rng.integers(-128, 128, (units, n))
            w[w == 0] = 1
        else:
            w = rng.normal(0, 0.3, (units, n))
        result.append((name, (w * mask).astype(dtype)))
    return result + codebook_cases(rng, dtype)


def codebook_cases(rng, dtype):
    """Clustered weights: 2..16 values (int8: per unit, as after per-channel quantization; float:
    per tensor, as tfmot leaves them), odd and even input counts, the extremes -128 and 127."""
    result = []
    for k, (units, n) in zip(range(2, 17), [(16, 40), (10, 23), (7, 9), (4, 1), (12, 36)] * 3):
        if dtype == np.int8:
            table = rng.integers(-128, 128, (units, k))
            table[:, 0], table[:, -1] = -128, 127
        else:
            table = np.repeat(rng.normal(0, 0.3, (1, k)), units, axis=0)
        w = np.take_along_axis(table, rng.integers(0, k, (units, n)), axis=1).astype(dtype)
        result.append((f"codebook {k} values {units}x{n}", w))
    return result


def _c_model(dtype, case_list, rng, single_round=1):
    """model.h / model.c running every case's sparse and dense kernel on one input row."""
    int8 = dtype == np.int8
    ctype = "int8_t" if int8 else "float"
    n_max = max(w.shape[1] for _, w in case_list)
    out_size = 2 * sum(w.shape[0] for _, w in case_list)
    decls, body, offset = [], [], 0
    for k, (name, w) in enumerate(case_list):
        units, n = w.shape
        codebook = name.startswith("codebook")
        if codebook:
            enc = wf.encode_codebook(w)
            assert (wf.decode_codebook(enc) == w).all()
            decls.append(aligned_array("uint8_t", f"idx{k}", enc.codes))
            stride = wf.CODEBOOK_SIZE if enc.per_unit else 0
        else:
            enc = wf.encode_block_sparse(w)
            assert (wf.decode_block_sparse(enc) == w).all()
            decls.append(c_array("uint16_t", f"idx{k}", enc.index))
        if int8:
            decls.append(aligned_array("int8_t", f"ws{k}", enc.table if codebook else enc.values))
            decls.append(aligned_array("int8_t", f"wd{k}", pack_dense_s8(w)))
            bias = rng.integers(-2000, 2000, units)
            scales = rng.uniform(0.2, 1.0, units) / (128.0 * max(n, 1) ** 0.5)
            mults, shifts = zip(*(fp.quantize_multiplier(float(s)) for s in scales))
            bound = np.abs(bias) + np.abs(w.astype(np.int64)).sum(axis=1) * 128
            cheap = int(all(int(b) * int(m) < (1 << 60) for b, m in zip(bound, mults))) if k % 2 else 0
            decls.append(c_array("int32_t", f"bias{k}", bias))
            decls.append(c_array("int32_t", f"mult{k}", mults))
            decls.append(c_array("int32_t", f"shift{k}", shifts))
            decls.append(f"static const tinyeit_fc_params p{k} = {{ .batches = 1, .in_dim = {n}, "
                         f".units = {units}, .in_offset = 0, .w_offset = 0, .out_offset = -3, "
                         f".act_min = -128, .act_max = 127, .single_round = {single_round}, "
                         f".cheap_rq = {cheap}, .post_len = 0, .w_no_min = {int(w.min() > -128)} }};\n")
            body.append(f"    tinyeit_fc_s8_cb(x, idx{k}.v, ws{k}.v, {stride}, bias{k}, mult{k}, "
                        f"shift{k}, NULL, o + {offset}, &p{k});" if codebook else
                        f"    tinyeit_fc_s8_bsr(x, ws{k}.v, idx{k}, bias{k}, mult{k}, shift{k}, NULL, "
                        f"o + {offset}, &p{k});")
            body.append(f"    tinyeit_fc_s8(x, wd{k}.v, bias{k}, mult{k}, shift{k}, NULL, "
                        f"o + {offset + units}, &p{k});")
        else:
            decls.append(c_array("float", f"ws{k}", enc.table if codebook else enc.values))
            decls.append(c_array("float", f"wd{k}", pack_dense_f32(w)))
            decls.append(c_array("float", f"bias{k}", rng.normal(0, 0.1, units)))
            decls.append(f"static const tinyeit_fc_params p{k} = {{ .batches = 1, .in_dim = {n}, "
                         f".units = {units}, .f_min = -INFINITY, .f_max = INFINITY }};\n")
            body.append(f"    tinyeit_fc_f32_cb(x, idx{k}.v, ws{k}, {stride}, bias{k}, o + {offset}, "
                        f"&p{k});" if codebook else
                        f"    tinyeit_fc_f32_bsr(x, ws{k}, idx{k}, bias{k}, o + {offset}, &p{k});")
            body.append(f"    tinyeit_fc_f32(x, wd{k}, bias{k}, o + {offset + units}, &p{k});")
        offset += 2 * units
    header = (f"#ifndef TINYEIT_MODEL_H\n#define TINYEIT_MODEL_H\n#include <stdint.h>\n"
              f"#define TINYEIT_INPUT_SIZE {n_max}\n#define TINYEIT_OUTPUT_SIZE {out_size}\n"
              f"#define TINYEIT_INPUT_TYPE {ctype}\n#define TINYEIT_OUTPUT_TYPE {ctype}\n"
              f"#define TINYEIT_ARENA_BYTES 4\n#define TINYEIT_WEIGHTS_BYTES 4\n"
              "int tinyeit_invoke(const void *input, void *output);\n#endif\n")
    source = ("#include <math.h>\n#include <stddef.h>\n#include \"model.h\"\n"
              "#include \"tinyeit_kernels.h\"\n\n" + "".join(decls) +
              "\nint tinyeit_invoke(const void *input, void *output)\n{\n"
              f"    const {ctype} *x = (const {ctype} *)input;\n    {ctype} *o = ({ctype} *)output;\n"
              + "\n".join(body) + "\n    return 0;\n}\n")
    return {"model.h": header, "model.c": source, **kernel_sources()}, n_max, out_size


def _inputs(rng, dtype, n, rows=3):
    if dtype == np.int8:
        x = rng.integers(-128, 128, (rows, n)).astype(np.int8)
        x[0, :] = -128  # the extreme product -128 x -128
        return x
    return rng.normal(0, 1.0, (rows, n)).astype(np.float32)


def _split(out: np.ndarray, case_list):
    """(name, sparse, dense) per case from the output rows."""
    offset = 0
    for name, w in case_list:
        units = w.shape[0]
        yield name, out[:, offset:offset + units], out[:, offset + units:offset + 2 * units]
        offset += 2 * units


PARAMS = [(np.int8, 1), (np.int8, 0), (np.float32, 1)]


def _setup(dtype, single_round):
    rng = np.random.default_rng(1234 + single_round)
    case_list = cases(rng, dtype)
    files, n, out_size = _c_model(dtype, case_list, rng, single_round)
    return case_list, files, _inputs(rng, dtype, n), out_size


@pytest.mark.parametrize("dtype, single_round", PARAMS)
def test_sparse_equals_dense_on_the_host(dtype, single_round):
    case_list, files, x, out_size = _setup(dtype, single_round)
    out = run_rows(build_executable(files), x, np.dtype(dtype), out_size)
    for name, sparse, dense in _split(out, case_list):
        assert np.array_equal(sparse, dense), name


def _on_board(tmp_path, board, dtype, single_round):
    """Every case's sparse and dense outputs from the board's firmware build on its emulator,
    checked against each other and against the host's reference C."""
    from tinyeit.deploy import emulator, protocol
    from tinyeit.firmware.build import build_firmware

    case_list, files, x, out_size = _setup(dtype, single_round)
    code = tmp_path / "code"
    code.mkdir()
    for name, text in files.items():
        (code / name).write_text(text)
    np.savez(tmp_path / "frames.npz", input=x)
    board_cfg = study_config.load("config.yaml")["boards"][board]
    record = build_firmware(board, board_cfg, "sparse-kernels", code, tmp_path / "frames.npz",
                            tmp_path / "fw", n_frames=len(x))
    assert record["status"] == "ok"
    image = tmp_path / "fw" / record["image"]
    run = (emulator.run_cortex_m(image, 120) if board_cfg["family"] == "cortex_m4f"
           else emulator.run_aarch64(image, 120))
    parsed = protocol.parse(run.stdout, where=f"sparse kernels on {board}")
    assert parsed.status == "ok" and len(parsed.frames) == len(x)
    out = np.stack([np.frombuffer(f.output, dtype=np.dtype(dtype).newbyteorder("<"))
                    for f in parsed.frames]).astype(dtype)
    host = run_rows(build_executable(files), x, np.dtype(dtype), out_size)
    for (name, sparse, dense), (_, hs, _) in zip(_split(out, case_list), _split(host, case_list)):
        assert np.array_equal(sparse, dense), name
        assert np.array_equal(sparse, hs), f"{name}: {board} differs from the host reference"


@pytest.mark.parametrize("dtype, single_round", PARAMS)
def test_sparse_equals_dense_on_the_cortex_m4(tmp_path, dtype, single_round):
    _on_board(tmp_path, "nano33ble", dtype, single_round)


@pytest.mark.parametrize("dtype, single_round", PARAMS)
def test_sparse_equals_dense_on_the_rpi4(tmp_path, dtype, single_round):
    """The NEON block-sparse kernels (aarch64/tinyeit_a64_sparse.c) under qemu-aarch64 against
    the NEON dense ones and the host's reference."""
    _on_board(tmp_path, "rpi4", dtype, single_round)


def test_encoder_round_trip_and_figures():
    rng = np.random.default_rng(7)
    for units, n in [(4, 4), (7, 9), (128, 475), (10, 64), (3, 5), (8, 3), (1, 1)]:
        for dtype in (np.int8, np.float32):
            w = (rng.integers(-5, 5, (units, n)) * (rng.random((units, n)) < 0.3)).astype(dtype)
            enc = wf.encode_block_sparse(w)
            assert np.array_equal(wf.decode_block_sparse(enc), w)
            assert enc.values.dtype == dtype and enc.index.dtype == np.uint16
            mask = wf.group_mask(w)
            assert enc.kept_groups == int(mask.sum())
            assert len(enc.index) == units // 4 + enc.kept_groups
            assert enc.macs() == (enc.kept_groups * 16 + (units // 4) * 4 * (n % 4)
                                  + (units % 4) * n)
    w = np.zeros((16, 40), np.int8)
    assert wf.choose_format(w) == wf.BLOCK_SPARSE
    dense = rng.integers(1, 128, (16, 40)).astype(np.int8)
    assert wf.choose_format(dense) == wf.DENSE
    assert wf.choose_format(np.ones((16, 40), np.int8)) == wf.CODEBOOK  # one value: 4-bit codes
    assert wf.choose_format(np.ones((16, 40), np.float32)) == wf.CODEBOOK
    unstructured = ((rng.random((128, 475)) < 0.4) * rng.integers(1, 128, (128, 475))).astype(np.int8)
    assert wf.block_density(unstructured) > 0.99 and wf.choose_format(unstructured) == wf.DENSE


def test_encoder_refuses_bad_input():
    from tinyeit.codegen.model_reader import CodegenError

    with pytest.raises(CodegenError, match="2D"):
        wf.encode_block_sparse(np.zeros((2, 3, 4), np.int8))
    with pytest.raises(CodegenError, match="int8 or float32"):
        wf.encode_block_sparse(np.zeros((4, 4), np.int16))


# ---- block-sparse unit pairs (tinyeit_fc_s8_bsr_pairs: the Cortex-M layout) -------------------

def pairs_cases(rng):
    """(name, weights) for the block-sparse unit-pair kernel: random block patterns (odd sizes,
    n % 4 of 0..3, units % 4 of 0..3), all-zero rows and unit blocks, one nonzero block, a block
    only in the last n % 4 inputs, the extremes -128 / -127 / 127 wherever a lane still fits
    (b = -128 beside a >= 0; a = -128 beside any b), B units at sum |b| = 65,535 (the limit)."""
    out = []
    for units, n, density in [(16, 40, 0.4), (12, 23, 0.6), (10, 64, 0.3), (7, 9, 0.5),
                              (13, 22, 0.5), (9, 5, 0.7), (4, 4, 1.0), (128, 475, 0.4),
                              (64, 128, 0.4), (24, 114, 0.45), (11, 12, 0.6)]:
        out.append((f"blocks {density} {units}x{n}", block_pattern(rng, units, n, density)))
    m = block_pattern(rng, 16, 33, 0.7)
    m[4:8] = False                 # an all-zero unit block
    m[13] = False                  # an all-zero row
    m[:, 32] = False               # nothing in the tail
    out.append(("all-zero unit block, row and tail", m))
    one = np.zeros((8, 20), bool)
    one[4:8, 12:16] = True
    out.append(("one nonzero block", one))
    tail = np.zeros((6, 19), bool)
    tail[:, 16:] = True
    out.append(("only the last n % 4 inputs", tail))
    out.append(("all-zero matrix", np.zeros((8, 16), bool)))
    result = []
    for name, mask in out:
        units, n = mask.shape
        w = rng.choice([-128, -127, 127, -1, 1, 5, -60], size=(units, n))
        w[1::2][w[1::2] == -128] = -127        # b = -128 only where a >= 0 (below)
        result.append((name, (w * mask).astype(np.int8)))
    x = np.zeros((4, 24), np.int64)
    x[0::2] = rng.choice([0, 1, 127], size=(2, 24))
    x[1::2] = -128
    x[1::2, ::3] = rng.choice([0, 5, 127], size=(2, 8))
    x[0::2, ::3] = -128                          # a = -128 beside b >= 0
    result.append(("b = -128 beside a >= 0", x.astype(np.int8)))
    lim = np.zeros((8, 528), np.int64)
    lim[1::2, :516] = 127
    lim[1, 516] = 3                              # 516 * 127 + 3 = 65,535
    lim[3, :516] = -127
    lim[3, 516] = -3
    lim[5, :520] = rng.choice([-127, 127], size=520)
    lim[5, 515:520] = 0
    lim[5, 515] = 65535 - 515 * 127               # 100
    lim[0::2] = rng.integers(-128, 128, (4, 528))
    lim[:, 520:524] = 0                          # a skipped group
    result.append(("sum |b| = 65,535", lim.astype(np.int8)))
    for name, w in result:
        assert lp.bsr_pairs_fit(w), name
    return result


def _c_model_pairs(case_list, rng, single_round):
    """model.h / model.c running, per case, tinyeit_fc_s8_bsr_pairs and the dense packed kernel
    on the same row (each case's requantization proven short, rq_fast, where it is)."""
    from tinyeit.codegen.ops.conv import cheap_requant
    from tinyeit.codegen.ops.fully_connected import fast_requant, rq_fast_shifts

    n_max = max(w.shape[1] for _, w in case_list)
    out_size = 2 * sum(w.shape[0] for _, w in case_list)
    decls, body, offset = [], [], 0
    for k, (name, w) in enumerate(case_list):
        units, n = w.shape
        idx, words = lp.encode_bsr_pairs(w)
        decls.append(c_array("uint16_t", f"idx{k}", idx))
        decls.append(aligned_array("uint8_t", f"ws{k}", words.astype("<u4").view(np.uint8)))
        decls.append(aligned_array("int8_t", f"wd{k}", pack_dense_s8(w)))
        bias = rng.integers(-2000, 2000, units)
        scales = rng.uniform(0.2, 1.0, units) / (128.0 * max(n, 1) ** 0.5)
        mults, shifts = zip(*(fp.quantize_multiplier(float(s)) for s in scales))
        bound = np.abs(bias) + np.abs(w.astype(np.int64)).sum(axis=1) * 128
        cheap = cheap_requant(bound, mults, shifts) if k % 3 else 0
        zo, lo = (-3, -128) if k % 4 else (5, 5)
        prm = dict(single_round=single_round, cheap_rq=cheap, post_len=0, act_min=lo,
                   act_max=127, out_offset=zo)
        fast = "NULL"
        if fast_requant(prm, bound, mults, shifts):
            fast = f"rqt{k}"
            decls.append(c_array("int8_t", fast, rq_fast_shifts(shifts)))
        decls.append(c_array("int32_t", f"bias{k}", bias))
        decls.append(c_array("int32_t", f"mult{k}", mults))
        decls.append(c_array("int32_t", f"shift{k}", shifts))
        decls.append(f"static const tinyeit_fc_params p{k} = {{ .batches = 1, .in_dim = {n}, "
                     f".units = {units}, .in_offset = 0, .w_offset = 0, .out_offset = {zo}, "
                     f".act_min = {lo}, .act_max = 127, .single_round = {single_round}, "
                     f".cheap_rq = {cheap}, .post_len = 0, .rq_fast = {fast} }};\n")
        body.append(f"    tinyeit_fc_s8_bsr_pairs(x, ws{k}.v, idx{k}, bias{k}, mult{k}, shift{k}, "
                    f"NULL, o + {offset}, &p{k});")
        body.append(f"    tinyeit_fc_s8(x, wd{k}.v, bias{k}, mult{k}, shift{k}, NULL, "
                    f"o + {offset + units}, &p{k});")
        offset += 2 * units
    header = (f"#ifndef TINYEIT_MODEL_H\n#define TINYEIT_MODEL_H\n#include <stdint.h>\n"
              f"#define TINYEIT_INPUT_SIZE {n_max}\n#define TINYEIT_OUTPUT_SIZE {out_size}\n"
              f"#define TINYEIT_INPUT_TYPE int8_t\n#define TINYEIT_OUTPUT_TYPE int8_t\n"
              f"#define TINYEIT_ARENA_BYTES 4\n#define TINYEIT_WEIGHTS_BYTES 4\n"
              "int tinyeit_invoke(const void *input, void *output);\n#endif\n")
    source = ("#include <stddef.h>\n#include \"model.h\"\n#include \"tinyeit_kernels.h\"\n\n"
              + "".join(decls) + "\nint tinyeit_invoke(const void *input, void *output)\n{\n"
              "    const int8_t *x = (const int8_t *)input;\n    int8_t *o = (int8_t *)output;\n"
              + "\n".join(body) + "\n    return 0;\n}\n")
    return {"model.h": header, "model.c": source, **kernel_sources()}, n_max, out_size


def _setup_pairs(single_round):
    rng = np.random.default_rng(99 + single_round)
    case_list = pairs_cases(rng)
    files, n, out_size = _c_model_pairs(case_list, rng, single_round)
    x = _inputs(rng, np.int8, n, rows=4)
    x[1, :] = 127
    return case_list, files, x, out_size


def test_bsr_pairs_layout_round_trip():
    """The layout's algebra (simulate_bsr_pairs: the kernel's SMLAD / SXTB16 arithmetic in 32-bit
    wrap-around) equals the plain dot product on every case and on extreme rows."""
    rng = np.random.default_rng(5)
    for name, w in pairs_cases(rng):
        units, n = w.shape
        idx, words = lp.encode_bsr_pairs(w)
        assert len(idx) == -(-units // 4) + len(lp.bsr_pairs_blocks(w)) * 0 + sum(
            len(b) for b in lp.bsr_pairs_blocks(w)), name
        for x in (np.full(n, -128), np.full(n, 127), rng.integers(-128, 128, n)):
            want = w.astype(np.int64) @ x
            assert np.array_equal(lp.simulate_bsr_pairs(idx, words, x, units), want), name
    # the block-sparse records' bytes: 16 per kept block + 2 per index entry
    w = pairs_cases(np.random.default_rng(6))[7][1]   # 128 x 475
    idx, words = lp.encode_bsr_pairs(w)
    assert lp.bsr_pairs_bytes(idx, words) == words.nbytes + idx.nbytes == 16 * (
        len(idx) - 32) + 2 * len(idx)


def test_bsr_pairs_fit_limits():
    """bsr_pairs_fit: the lane a + 256 b must be an int16 (b = -128 only beside a >= 0) and
    sum |b| <= 65,535 per B unit; one over either refuses, and the generator then keeps the
    portable block-sparse layout (test_bsr_pairs_fallback_in_the_generator)."""
    w = np.zeros((4, 8), np.int8)
    w[1, 3], w[0, 3] = -128, 0
    assert lp.bsr_pairs_fit(w)
    w[0, 3] = -1
    assert not lp.bsr_pairs_fit(w)
    w[0, 3], w[2, 5], w[3, 5] = 127, -128, 127    # a = -128 beside b = 127: 32,640 - 128 fits
    assert lp.bsr_pairs_fit(w)
    lim = np.zeros((2, 600), np.int64)
    lim[1, :516], lim[1, 516] = 127, 3
    assert lp.bsr_pairs_fit(lim.astype(np.int8))
    lim[1, 516] = 4
    assert not lp.bsr_pairs_fit(lim.astype(np.int8))
    # the first unit of a pair has no such bound
    lim[0, :600], lim[1, 516] = -128, 3
    assert lp.bsr_pairs_fit(lim.astype(np.int8))
    assert not lp.bsr_pairs_fit(np.ones((4, 3), np.int8))     # fewer than 4 inputs


@pytest.mark.parametrize("single_round", [1, 0])
def test_bsr_pairs_equal_dense_on_the_host(single_round):
    """The portable reference of the unit-pair block-sparse layout (weights read back from their
    lanes) against the dense kernel."""
    case_list, files, x, out_size = _setup_pairs(single_round)
    out = run_rows(build_executable(files), x, np.dtype(np.int8), out_size)
    for name, sparse, dense in _split(out, case_list):
        assert np.array_equal(sparse, dense), name


@pytest.mark.parametrize("single_round", [1, 0])
def test_bsr_pairs_equal_dense_on_the_cortex_m4(tmp_path, single_round):
    """The Cortex-M assembly kernel against the dense kernel on the M4 emulator, and against the
    host's reference."""
    from tinyeit.deploy import emulator, protocol
    from tinyeit.firmware.build import build_firmware

    case_list, files, x, out_size = _setup_pairs(single_round)
    code = tmp_path / "code"
    code.mkdir()
    for name, text in files.items():
        (code / name).write_text(text)
    np.savez(tmp_path / "frames.npz", input=x)
    board_cfg = study_config.load("config.yaml")["boards"]["nano33ble"]
    record = build_firmware("nano33ble", board_cfg, "bsr-pairs", code, tmp_path / "frames.npz",
                            tmp_path / "fw", n_frames=len(x))
    assert record["status"] == "ok"
    run = emulator.run_cortex_m(tmp_path / "fw" / record["image"], 120)
    parsed = protocol.parse(run.stdout, where="block-sparse unit pairs on the M4")
    assert parsed.status == "ok" and len(parsed.frames) == len(x)
    out = np.stack([np.frombuffer(f.output, np.int8) for f in parsed.frames])
    host = run_rows(build_executable(files), x, np.dtype(np.int8), out_size)
    for (name, sparse, dense), (_, hs, _) in zip(_split(out, case_list), _split(host, case_list)):
        assert np.array_equal(sparse, dense), name
        assert np.array_equal(sparse, hs), f"{name}: the M4 differs from the host reference"
