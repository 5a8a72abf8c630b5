"""Export: the four conversions, LiteRT accuracy and frames, metrics, byte determinism."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from test_compress_steps import run_chain, tiny_config, write_tiny_dataset  # noqa: E402

from tinyeit.errors import TinyEitError  # noqa: E402
from tinyeit.export import run_export  # noqa: E402

VARIANTS = ("baseline", "baseline+ptq_dynamic", "baseline+ptq_float16", "baseline+ptq_int8",
            "baseline+qat+ptq_int8")


def export(root, variant, out=None):
    chain = "+".join(s for s in variant.split("+")
                     if s not in ("float", "ptq_dynamic", "ptq_float16", "ptq_int8"))
    out = out or root / "tflite" / variant
    run_export(variant, tiny_config(), str(root / "dataset.npz"), str(root / chain), str(out))
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    write_tiny_dataset(root / "dataset.npz")
    run_chain(root, "baseline")
    run_chain(root, "baseline+qat")
    for variant in VARIANTS:
        export(root, variant)
    return root


def graph(path):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_path=str(path),
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    tensors = {t["index"]: t for t in it.get_tensor_details()}
    ops = it._get_ops_details()
    return it, tensors, ops


def weight_dtypes(path, op_name):
    """dtype of the weight tensor (input 1) of every `op_name` op, through any DEQUANTIZE."""
    _, tensors, ops = graph(path)
    producers = {o: op for op in ops for o in op["outputs"]}
    dtypes = []
    for op in ops:
        if op["op_name"] == op_name:
            w = op["inputs"][1]
            if w in producers and producers[w]["op_name"] == "DEQUANTIZE":
                w = producers[w]["inputs"][0]
            dtypes.append(np.dtype(tensors[w]["dtype"]))
    return dtypes


@pytest.mark.slow
@pytest.mark.parametrize("variant,io_dtype,weights,extra_ops", [
    ("baseline", np.float32, np.float32, set()),
    ("baseline+ptq_dynamic", np.float32, np.int8, set()),
    ("baseline+ptq_float16", np.float32, np.float16, {"DEQUANTIZE"}),
    ("baseline+ptq_int8", np.int8, np.int8, set()),
    ("baseline+qat+ptq_int8", np.int8, np.int8, set()),
])
def test_conversion_types_have_the_expected_ops_and_dtypes(exported, variant, io_dtype, weights,
                                                           extra_ops):
    path = exported / "tflite" / variant / "model.tflite"
    it, _, ops = graph(path)
    assert {op["op_name"] for op in ops} == {"CONV_2D", "MUL", "ADD", "MAX_POOL_2D", "RESHAPE",
                                             "FULLY_CONNECTED", "SOFTMAX"} | extra_ops
    assert np.dtype(it.get_input_details()[0]["dtype"]) == io_dtype
    assert np.dtype(it.get_output_details()[0]["dtype"]) == io_dtype
    assert tuple(it.get_input_details()[0]["shape"]) == (1, 1, 40, 1)
    fc = weight_dtypes(path, "FULLY_CONNECTED")
    assert fc[0] == np.dtype(weights)  # the big first dense layer
    if variant.endswith("ptq_dynamic"):  # dynamic range leaves tensors < 1024 weights float
        assert set(fc) <= {np.dtype(np.int8), np.dtype(np.float32)}
    else:
        assert set(fc) == {np.dtype(weights)}
    if io_dtype == np.int8:
        assert set(weight_dtypes(path, "CONV_2D")) == {np.dtype(np.int8)}
        scale, _ = it.get_input_details()[0]["quantization"]
        assert scale > 0


@pytest.mark.slow
def test_sizes_shrink_with_quantization(exported):
    size = {v: json.loads((exported / "tflite" / v / "metrics.json").read_text())["tflite_bytes"]
            for v in VARIANTS}
    assert size["baseline+ptq_int8"] < size["baseline+ptq_float16"] < size["baseline"]
    assert size["baseline+ptq_dynamic"] < size["baseline"]
    for v in VARIANTS:
        assert size[v] == (exported / "tflite" / v / "model.tflite").stat().st_size


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_frames_are_litert_outputs_of_the_first_test_frames(exported, variant):
    from tinyeit.export.litert import interpreter

    out = exported / "tflite" / variant
    frames = np.load(out / "frames.npz")
    tflite = (out / "model.tflite").read_bytes()
    it = interpreter(tflite)
    inp, outp = it.get_input_details()[0], it.get_output_details()[0]
    assert frames["input"].shape == (4, 40) and frames["input"].dtype == inp["dtype"]
    assert frames["output"].shape == (4, 4) and frames["output"].dtype == outp["dtype"]
    data = np.load(exported / "dataset.npz")
    test = np.flatnonzero(np.isin(data["trial"], [9, 10]))[:4]
    np.testing.assert_array_equal(frames["label"], data["y"][test])
    if inp["dtype"] == np.int8:
        scale, zp = inp["quantization"]
        expected = np.clip(np.round(data["X"][test] / scale) + zp, -128, 127).astype(np.int8)
        np.testing.assert_array_equal(frames["input"], expected)
    else:
        np.testing.assert_array_equal(frames["input"], data["X"][test])
    for i in range(4):
        it.set_tensor(inp["index"], frames["input"][i].reshape(inp["shape"]))
        it.invoke()
        np.testing.assert_array_equal(it.get_tensor(outp["index"]).reshape(-1), frames["output"][i])


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_accuracy_and_metrics_files(exported, variant):
    out = exported / "tflite" / variant
    acc = json.loads((out / "accuracy.json").read_text())
    assert len(acc["fold_accuracy"]) == 2
    assert acc["accuracy_cv_mean"] == pytest.approx(np.mean(acc["fold_accuracy"]))
    assert acc["accuracy_cv_std"] == pytest.approx(np.std(acc["fold_accuracy"]))
    assert 0.0 <= acc["accuracy_test"] <= 1.0 and acc["n_test_frames"] == 16
    m = json.loads((out / "metrics.json").read_text())
    # conv 38 positions x 3 taps x 8 filters; dense 19*8 -> 16 -> 12 -> 4.
    assert m["macs"] == 38 * 3 * 8 + 19 * 8 * 16 + 16 * 12 + 12 * 4
    assert m["params"] == (3 * 8 + 8) + 4 * 8 + (152 * 16 + 16) + (16 * 12 + 12) + (12 * 4 + 4)
    assert 0 < m["nonzero_params"] <= m["params"]
    assert 0 < m["tflite_gzip_bytes"] < m["tflite_bytes"]
    assert m["keras_bytes"] == (exported / variant.split("+ptq")[0] / "full.h5").stat().st_size
    assert not [k for k in m if "latency" in k]      # measured figures live elsewhere


@pytest.mark.slow
def test_float_litert_accuracy_agrees_with_keras(exported):
    acc = json.loads((exported / "tflite" / "baseline" / "accuracy.json").read_text())
    cv = json.loads((exported / "baseline" / "cv.json").read_text())
    np.testing.assert_allclose(acc["fold_accuracy"], cv["fold_accuracy"])


@pytest.mark.slow
def test_export_from_clean_twice_gives_the_same_bytes(exported, tmp_path):
    for variant in ("baseline", "baseline+ptq_int8", "baseline+qat+ptq_int8"):
        again = export(exported, variant, tmp_path / variant)
        first = exported / "tflite" / variant
        for name in ("model.tflite", "frames.npz", "accuracy.json", "metrics.json"):
            assert (again / name).read_bytes() == (first / name).read_bytes(), (variant, name)


@pytest.mark.slow
def test_quantization_aware_model_only_exports_to_int8(exported, tmp_path):
    with pytest.raises(TinyEitError, match="quantization-aware; it can only be exported with "
                                           "ptq_int8, not ptq_float16"):
        export(exported, "baseline+qat+ptq_float16", tmp_path / "q")
    assert not (tmp_path / "q").exists()


def test_missing_model_files_are_named(tmp_path):
    with pytest.raises(TinyEitError, match=r"model file\(s\) not found: .*fold0\.h5"):
        run_export("baseline+ptq_int8", tiny_config(), str(tmp_path / "d.npz"),
                   str(tmp_path / "baseline"), str(tmp_path / "out"))


def test_unknown_conversion_is_refused():
    from tinyeit.export.convert import convert

    with pytest.raises(TinyEitError, match="unknown conversion 'ptq_int4'"):
        convert(None, "ptq_int4")


def test_gzip_size_is_reproducible():
    from tinyeit.export.metrics import gzip_size

    import gzip

    data = bytes(range(256)) * 50
    # gzip at level 9 with no name and mtime 0: the stream's bytes, hence its size, are fixed
    expected = len(gzip.compress(data, compresslevel=9, mtime=0))
    assert gzip_size(data) == expected < len(data)


def test_default_study_final_variant_is_at_least_95_percent_smaller_than_float_baseline():
    """Sizes depend on the architecture only: untrained default-config models suffice."""
    from pathlib import Path

    import yaml

    from tinyeit.compress.fp import narrow_model
    from tinyeit.export.convert import convert
    from tinyeit.models import architectures as arch
    from tinyeit.models.tf_env import seed_everything

    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
    seed_everything(0)
    baseline_spec = arch.baseline_spec(config["steps"]["baseline"], 40, 10)
    baseline = arch.build_model(baseline_spec)
    student = arch.build_model(arch.student_spec(baseline_spec, config["steps"]["kd"]["student"]))
    final, _ = narrow_model(student, config["steps"]["fp"]["ratio"])
    frames = np.random.default_rng(0).normal(size=(32, 1, 40, 1)).astype(np.float32)
    float_bytes = len(convert(baseline, "float"))
    final_bytes = len(convert(final, "ptq_int8", frames))
    assert float_bytes > 70_034 * 4  # the float weights are all there
    assert final_bytes <= 0.05 * float_bytes, (final_bytes, float_bytes)
