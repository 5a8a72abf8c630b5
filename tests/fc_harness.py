"""One int8 fully connected layer as a hand-made generated folder, for kernel tests and cycle
measurements: the same kernels, firmware build and emulators as the study, no .tflite needed.

`layer(units, n, seed)` draws weights (with -128 and -127 in them), bias, per-unit requantization
and inputs; `expected(...)` is LiteRT's single-rounding FULLY_CONNECTED in Python; `folder(...)`
writes model.h / model.c calling tinyeit_fc_s8_pairs (layout "pairs") or tinyeit_fc_s8 (layout
"fc4", the packed 4x4 layout) plus the kernels; `run_m4(...)` builds it for nano33ble and runs it
under QEMU with the Cortex-M4 cycle model.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from tinyeit.codegen import fixedpoint as fp
from tinyeit.codegen import layout_unit_pairs as lp
from tinyeit.codegen.generator import Generator, aligned_array, c_array, kernel_sources
from tinyeit.codegen.ops.fully_connected import rq_fast_shifts


def with_lanes_in_int16(rows: np.ndarray) -> np.ndarray:
    """A copy of [units, n] int8 weights where every second unit's -128 stands beside a first
    unit's weight >= 0 (a negative one there negated, -128 made 127): -128 weights that the
    unit pairs take (layout_unit_pairs.pairs_fit), for tests that want that edge in the layout."""
    w = np.array(rows, np.int8, copy=True)
    a, b = w[0:w.shape[0] - w.shape[0] % 2:2], w[1::2]
    bad = (b == -128) & (a < 0)
    a[bad] = np.where(a[bad] == -128, 127, -a[bad].astype(np.int16)).astype(np.int8)
    return w


def layer(units: int, n: int, seed: int, zo: int = 3, relu: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    w = rng.integers(-127, 128, (units, n)).astype(np.int8)
    idx = rng.choice(w.size, size=max(2, w.size // 5), replace=False)
    w.flat[idx[::2]] = -128
    w.flat[idx[1::2]] = -127
    w = with_lanes_in_int16(w)  # -128 in both units of a pair, as the lanes take it
    bias = rng.integers(-5000, 5000, units).astype(np.int64)
    scales = rng.uniform(0.3, 0.9, units) / max(1.0, np.sqrt(n) * 40)
    mult, shift = zip(*(fp.quantize_multiplier(float(s)) for s in scales))
    return dict(units=units, n=n, w=w, bias=bias, mult=list(mult), shift=list(shift), zo=zo,
                act_min=zo if relu else -128, act_max=127)


def inputs(n: int, rows: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed + 1000).integers(-128, 128, (rows, n)).astype(np.int8)
    x[0, :] = -128            # the extreme row: every product -128 x w
    if rows > 1:
        x[1, :] = 127
    return x


def expected(L: dict, x: np.ndarray) -> np.ndarray:
    acc = x.astype(np.int64) @ L["w"].astype(np.int64).T + L["bias"]
    out = np.empty(acc.shape, np.int64)
    for u in range(L["units"]):
        t = 31 - L["shift"][u]
        out[:, u] = (acc[:, u] * L["mult"][u] + (1 << (t - 1))) >> t
    return np.clip(out + L["zo"], L["act_min"], L["act_max"]).astype(np.int8)


def _cheap(L: dict) -> int:
    from tinyeit.codegen.ops.conv import cheap_requant

    bound = np.abs(L["bias"]) + np.abs(L["w"].astype(np.int64)).sum(axis=1) * 128
    return cheap_requant(bound, L["mult"], L["shift"])


def _fast(L: dict) -> bool:
    """tinyeit_fc_params.rq_fast as the generator would set it (fully_connected.fast_requant)."""
    from tinyeit.codegen.ops.fully_connected import fast_requant

    bound = np.abs(L["bias"]) + np.abs(L["w"].astype(np.int64)).sum(axis=1) * 128
    p = dict(single_round=1, cheap_rq=_cheap(L), post_len=0, act_min=L["act_min"],
             act_max=L["act_max"], out_offset=L["zo"])
    return fast_requant(p, bound, L["mult"], L["shift"])


def folder(L: dict, out: Path, layout: str) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    units, n = L["units"], L["n"]
    consts = [c_array("int32_t", "BIAS", L["bias"]), c_array("int32_t", "MULT", L["mult"]),
              c_array("int32_t", "SHIFT", L["shift"])]
    fast = _fast(L)
    if fast:
        consts.append(c_array("int8_t", "RQT", rq_fast_shifts(L["shift"])))
    prm = (f"static const tinyeit_fc_params P = {{1, {n}, {units}, 0, 0, {L['zo']}, "
           f"{L['act_min']}, {L['act_max']}, 0.0f, 0.0f, 0, 1, {_cheap(L)}, 0, "
           f"{int(int(L['w'].min()) > -128)}, {'RQT' if fast else 'NULL'}}};\n")
    if layout == "pairs":
        data = lp.unit_pairs_s8(L["w"])
        consts.append(aligned_array("uint8_t", "W", data))
        npad = lp.padded_inputs(n)
        consts.append(f"static union {{ int16_t v[{npad}]; int32_t a; }} SCRATCH;\n")
        call = "tinyeit_fc_s8_pairs(input, W.v, BIAS, MULT, SHIFT, NULL, output, &P, SCRATCH.v);"
        wbytes = data.size
    else:
        gen = Generator.__new__(Generator)
        gen.const_names, gen.const_decls, gen.weights_bytes = {}, [], 0
        name = gen.packed_fc_s8(SimpleNamespace(index=0, data=L["w"], shape=L["w"].shape))
        consts += gen.const_decls
        call = f"tinyeit_fc_s8(input, {name}, BIAS, MULT, SHIFT, NULL, output, &P);"
        wbytes = gen.weights_bytes
    (out / "model.h").write_text(
        "#ifndef TINYEIT_MODEL_H\n#define TINYEIT_MODEL_H\n#include <stdint.h>\n"
        f"#define TINYEIT_MODEL_NAME \"fc\"\n#define TINYEIT_INPUT_SIZE {n}\n"
        f"#define TINYEIT_OUTPUT_SIZE {units}\n#define TINYEIT_INPUT_TYPE int8_t\n"
        "#define TINYEIT_OUTPUT_TYPE int8_t\n#define TINYEIT_INPUT_SCALE 1.0f\n"
        "#define TINYEIT_INPUT_ZERO_POINT 0\n#define TINYEIT_OUTPUT_SCALE 1.0f\n"
        "#define TINYEIT_OUTPUT_ZERO_POINT 0\n#define TINYEIT_ARENA_BYTES 4\n"
        f"#define TINYEIT_WEIGHTS_BYTES {wbytes}\n"
        "int tinyeit_invoke(const void *input, void *output);\n#endif\n")
    (out / "model.c").write_text(
        "#include <stddef.h>\n#include <stdint.h>\n#include \"model.h\"\n"
        "#include \"tinyeit_kernels.h\"\n" + "\n".join(consts) + prm +
        "int tinyeit_invoke(const void *input, void *output)\n{\n"
        f"    {call}\n    return 0;\n}}\n")
    for name, text in kernel_sources().items():
        (out / name).write_text(text)
    return {"weights_bytes": wbytes}


def run_m4(L: dict, x: np.ndarray, work: Path, layout: str, board: str = "nano33ble"):
    """(outputs [rows, units], cycles per inference list, build record) on the M4 model."""
    from tinyeit import config as study_config
    from tinyeit.deploy import emulator, protocol
    from tinyeit.firmware.build import build_firmware

    cfg = study_config.load(str(Path(__file__).resolve().parents[1] / "config.yaml"))["boards"][board]
    folder(L, work / "code", layout)
    np.savez(work / "frames.npz", input=x)
    rec = build_firmware(board, cfg, "fc", work / "code", work / "frames.npz", work / "fw",
                         n_frames=len(x))
    assert rec["status"] == "ok", rec
    run = emulator.run_cortex_m(work / "fw" / rec["image"], emulator.timeout_for(10 ** 6, len(x)))
    parsed = protocol.parse(run.stdout, where="fc harness")
    assert parsed.status == "ok", run.stdout[-2000:]
    out = np.stack([np.frombuffer(f.output, np.int8) for f in parsed.frames])
    return out, run.cycles, rec
