"""The generated C against LiteRT (BUILTIN_REF) and TFLite Micro, on real converted models."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from tinyeit.codegen import CodegenError, generate, run_host  # noqa: E402
from tinyeit.codegen.generator import build  # noqa: E402
from litert_reference import litert_outputs

MODES = ("float", "ptq_dynamic", "ptq_float16", "ptq_int8")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from tinyeit.codegen import sample_models as sm

    out = tmp_path_factory.mktemp("models")
    paths = {}
    for kind, builder, shape in (("study", sm.study_like_model, (1, 40, 1)),
                                 ("zoo", sm.op_zoo_model, (40, 1))):
        model = builder(0)
        rep = sm.representative_inputs(shape, 64, 0)
        for mode in MODES:
            path = out / f"{kind}_{mode}.tflite"
            path.write_bytes(sm.convert(model, mode, rep))
            paths[kind, mode] = str(path)
    return paths


def _inputs(path: str, n: int = 60) -> np.ndarray:
    info = build(path)
    shape = info["input_shape"][1:]
    rng = np.random.default_rng(1)
    if info["input_dtype"] == "int8":
        return rng.integers(-128, 128, (n, *shape)).astype(np.int8)
    return rng.normal(0.0, 1.0, (n, *shape)).astype(np.float32)


def _tflm(path: str, x: np.ndarray) -> np.ndarray:
    from tflite_micro import runtime

    it = runtime.Interpreter.from_file(path)
    out = []
    for row in x:
        it.set_input(row[None], 0)
        it.invoke()
        out.append(it.get_output(0).reshape(-1).copy())
    return np.array(out)


def _assert_matches(path: str, got: np.ndarray, want: np.ndarray) -> None:
    if got.dtype == np.int8:
        assert np.array_equal(got, want), f"{path}: {int((got != want).sum())} int8 mismatches"
    else:
        span = float(np.ptp(want)) or 1.0
        assert float(np.abs(got - want).max()) <= 1e-5 * span, path


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["study", "zoo"])
@pytest.mark.parametrize("mode", MODES)
def test_generated_c_equals_litert(models, kind, mode):
    path = models[kind, mode]
    x = _inputs(path)
    got = run_host(path, x).reshape(len(x), -1)
    _assert_matches(path, got, litert_outputs(path, x))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["study"])  # zoo: TFLM's fixed-point LOGISTIC/TANH not yet matched
def test_tflm_flavor_equals_tflite_micro(models, kind):
    path = models[kind, "ptq_int8"]
    x = _inputs(path)
    got = run_host(path, x, flavor="tflm").reshape(len(x), -1)
    _assert_matches(path, got, _tflm(path, x))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["study", "zoo"])
@pytest.mark.parametrize("mode", ["float", "ptq_int8"])
def test_arena_is_planned_to_the_live_bound(models, kind, mode):
    info = build(models[kind, mode])
    assert info["arena_bytes"] <= max(4, -(-info["arena_lower_bound"] // 4) * 4)
    # the plan shares memory: far below the sum of all intermediate tensors
    assert info["arena_bytes"] > 0


@pytest.mark.slow
def test_generate_writes_api_and_is_deterministic(models, tmp_path):
    path = models["study", "ptq_int8"]
    a = generate(path, tmp_path / "a")
    generate(path, tmp_path / "b")
    assert a["sources"] == ["model.c", "model.h", "tinyeit_a64_f32.h", "tinyeit_a64_s8.h",
                            "tinyeit_cm_dot.h", "tinyeit_common.h", "tinyeit_kernels.c",
                            "tinyeit_kernels.h", "tinyeit_kernels_hybrid.c", "tinyeit_kernels_stored.c"]
    # the codegen rule declares every file the generator writes (Snakemake tracks and cleans them)
    rule = (Path(__file__).parents[1] / "rules" / "codegen.smk").read_text()
    declared = set(re.findall(r'"results/codegen/\{variant\}/([^"]+)"', rule))
    assert set(a["sources"]) <= declared, set(a["sources"]) - declared
    for name in a["sources"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    header = (tmp_path / "a" / "model.h").read_text()
    for define in ("TINYEIT_INPUT_SIZE 40", "TINYEIT_OUTPUT_SIZE 10", "TINYEIT_INPUT_TYPE int8_t",
                   "TINYEIT_OUTPUT_TYPE int8_t", "TINYEIT_INPUT_SCALE", "TINYEIT_INPUT_ZERO_POINT",
                   "TINYEIT_OUTPUT_SCALE", "TINYEIT_OUTPUT_ZERO_POINT -128",
                   f"TINYEIT_ARENA_BYTES {a['arena_bytes']}",
                   f"TINYEIT_WEIGHTS_BYTES {a['weights_bytes']}", "TINYEIT_MODEL_NAME",
                   "int tinyeit_invoke(const void *input, void *output);"):
        assert define in header
    assert a["input_dtype"] == "int8" and a["output_size"] == 10


CROSS = {
    "arm-none-eabi-gcc": ["-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"],
    "aarch64-linux-gnu-gcc": [],
    "gcc": [],
}


@pytest.mark.slow
@pytest.mark.parametrize("cc", sorted(CROSS))
@pytest.mark.parametrize("mode", ["float", "ptq_int8"])
def test_compiles_warning_free_for_every_target(models, tmp_path, cc, mode):
    if shutil.which(cc) is None:
        pytest.fail(f"{cc} is not on PATH: install gcc-arm-none-eabi, libnewlib-arm-none-eabi "
                    "and gcc-aarch64-linux-gnu (Debian packages)")
    generate(models["zoo", mode], tmp_path)
    for src in ("model.c", "tinyeit_kernels.c", "tinyeit_kernels_stored.c",
                "tinyeit_kernels_hybrid.c"):
        cmd = [cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", *CROSS[cc], "-I",
               str(tmp_path), "-c", str(tmp_path / src), "-o", str(tmp_path / (src + ".o"))]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr


def test_unsupported_op_is_a_clear_error(tmp_path):
    """A hand-built one-op model (SUB) must be refused naming the op and the model."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s

    def tensor(shape):
        t = s.TensorT()
        t.shape, t.type, t.buffer, t.name = shape, s.TensorType.FLOAT32, 0, "t"
        return t

    op = s.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0, 1], [2]
    sub = s.SubGraphT()
    sub.tensors = [tensor([1, 4]), tensor([1, 4]), tensor([1, 4])]
    sub.inputs, sub.outputs, sub.operators = [0, 1], [2], [op]
    code = s.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = s.BuiltinOperator.SUB
    model = s.ModelT()
    model.version, model.operatorCodes, model.subgraphs = 3, [code], [sub]
    model.buffers = [s.BufferT()]
    b = flatbuffers.Builder(0)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    path = tmp_path / "sub_model.tflite"
    path.write_bytes(bytes(b.Output()))
    with pytest.raises(CodegenError, match=r"sub_model\.tflite.*(SUB|one input)"):
        build(str(path))


def test_not_a_tflite_file_is_a_clear_error(tmp_path):
    path = tmp_path / "junk.tflite"
    path.write_bytes(b"not a model at all")
    with pytest.raises(CodegenError, match="junk.tflite"):
        build(str(path))
