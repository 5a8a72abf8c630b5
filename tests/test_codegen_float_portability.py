"""Float kernels give the same bytes on x86-64 glibc, Cortex-M4F newlib and aarch64 glibc.

expf/tanhf differ between C libraries by an ulp or two; the kernels compute exp and tanh
through the double functions and round once, so the firmware's outputs (real firmware build,
QEMU) equal the host build's byte for byte, and on the study's float model LiteRT's too.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from tinyeit import containers
from litert_reference import litert_outputs

ROOT = Path(__file__).resolve().parents[1]
BOARDS = yaml.safe_load((ROOT / "config.yaml").read_text())["boards"]

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _frames(lines: str) -> list[bytes]:
    rows = [ln for ln in lines.splitlines() if ln.startswith("TINYEIT FRAME")]
    assert "TINYEIT END status=ok" in lines, lines[-2000:]
    return [bytes.fromhex(dict(kv.split("=", 1) for kv in ln.split()[2:])["out"]) for ln in rows]


@pytest.mark.parametrize("kind", ["study", "zoo"])
def test_float_outputs_are_the_same_bytes_on_cortex_m_and_aarch64(tmp_path, kind, monkeypatch):
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")
    from tinyeit.codegen import generate, run_host, sample_models
    from tinyeit.firmware import build_firmware

    stamps = tmp_path / "images"
    stamps.mkdir()
    for name in ("arm", "aarch64"):
        containers.write_stamp(name, stamps / f"{name}.json")
    builder, shape = ((sample_models.study_like_model, (1, 40, 1)) if kind == "study"
                      else (sample_models.op_zoo_model, (40, 1)))
    tflite = tmp_path / f"{kind}_float.tflite"
    tflite.write_bytes(sample_models.convert(builder(0), "float"))
    generate(str(tflite), tmp_path / "codegen")
    # wide inputs: exp/tanh see large and small arguments
    x = (sample_models.representative_inputs(shape, 8, seed=7) * 4.0).astype(np.float32)
    np.savez(tmp_path / "frames.npz", input=x.reshape(len(x), -1))
    host = run_host(str(tflite), x).reshape(len(x), -1)
    want = [row.tobytes() for row in host]
    if kind == "study":  # softmax only: equal to LiteRT too
        assert [r.tobytes() for r in litert_outputs(str(tflite), x)] == want
    for board, image in (("nano33ble", "arm"), ("rpi4", "aarch64")):
        out = tmp_path / board
        record = build_firmware(board, BOARDS[board], f"{kind}+float", tmp_path / "codegen",
                                tmp_path / "frames.npz", out, image_stamp=stamps / f"{image}.json")
        assert record["status"] == "ok", record
        assert record["toolchain"]["runner"] == "docker"
        if board == "rpi4":
            proc = containers.run("aarch64", ["qemu-aarch64", str(out / "firmware")], [out],
                                  tmp_path / "run-rpi4", timeout=300)
            text = proc.stdout
        else:
            argv = ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
                    "-semihosting-config", "enable=on,target=native", "-icount", "shift=0",
                    "-kernel", str(out / "firmware.elf")]
            proc = containers.run("arm", argv, mounts_ro=[out], out_dir=tmp_path / "run-m4",
                                  timeout=300)
            text = proc.stdout + proc.stderr  # QEMU 7.2 writes semihosting output to stderr
        assert _frames(text) == want, f"{board}: float outputs differ from the host build"
