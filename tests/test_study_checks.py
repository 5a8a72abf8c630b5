"""The end-to-end test's deployment checker fails the studies it must fail."""
import pytest

from study_checks import deployment_problems

ESP32 = {"esp32": ("toolchain_unavailable", "ESP-IDF toolchain image unavailable")}


def ok(board="nicla_sense", variant="baseline", **changes):
    record = {"board": board, "variant": variant, "transport": "emulator", "status": "ok",
              "flash_bytes": 52_000, "ram_bytes": 9_000, "instructions_per_inference": 81_234,
              "latency_ms": 1.27, "outputs_match_host": True, "firmware_sha256": "ab" * 32,
              "runner": "docker", "error": None}
    record.update(changes)
    return record


def esp32(**changes):
    record = {"board": "esp32", "variant": "baseline", "transport": "emulator",
              "status": "toolchain_unavailable", "flash_bytes": None, "ram_bytes": None,
              "runner": None, "error": "ESP-IDF toolchain image unavailable: toolchain image "
                                       "esp-idf downloads from http://127.0.0.1:9, which is unreachable"}
    record.update(changes)
    return record


def test_a_good_study_passes():
    too_big = ok(variant="baseline+kd", status="does_not_fit", flash_bytes=700_000, ram_bytes=9_000,
                 error="flash: needs 700000 bytes, nicla_sense has 524288", instructions_per_inference=None,
                 latency_ms=None, outputs_match_host=None, runner=None)
    no_kernel = ok(engine="tflm", variant="baseline+ptq_dynamic", status="unsupported",
                   error="TFLite Micro cannot run this model: Hybrid models are not supported on TFLite Micro.",
                   instructions_per_inference=None, latency_ms=None, outputs_match_host=None, runner=None)
    assert deployment_problems([ok(), ok(board="rpi4"), too_big, esp32(), no_kernel], ESP32) == []


@pytest.mark.parametrize("record,why", [
    (ok(status="failed", error="hung: killed after 60 s", instructions_per_inference=None),
     "nicla_sense/baseline: failed: hung"),
    (ok(status="failed", error="no TINYEIT BEGIN; QEMU exit code 1, stderr: crash"), "QEMU exit code 1"),
    (ok(outputs_match_host=False), "outputs differ"),
    (ok(instructions_per_inference=0), "without an instruction count"),
    (ok(runner="local"), "ran with the 'local' runner"),
    (ok(latency_ms=None), "without a latency"),
    (ok(status="does_not_fit", error="does not fit"), "without the byte figures"),
    (ok(status="toolchain_unavailable", error="no image"), "toolchain_unavailable: no image"),
    (ok(engine="tflm", status="unsupported", error="crashed"), "unsupported without the engine's own message"),
    (ok(engine="aot", status="unsupported", error="TFLite Micro cannot run this model: x"),
     "nicla_sense/aot/baseline: unsupported"),
    (esp32(status="failed", error="no emulator"), "status 'failed', expected 'toolchain_unavailable'"),
    (esp32(error="something else"), "without the expected reason"),
], ids=["hang", "crash", "wrong-outputs", "no-count", "local-runner", "no-latency",
        "does-not-fit-without-bytes", "unexpected-unavailable", "tflm-unsupported-unexplained",
        "aot-unsupported", "esp32-failed", "esp32-other-reason"])
def test_each_shortfall_is_reported(record, why):
    problems = deployment_problems([ok(board="rpi4"), record], ESP32)
    assert len(problems) == 1 and why in problems[0], problems


def test_a_study_where_every_firmware_crashed_fails():
    crashed = [ok(board=b, variant=v, status="failed", error="QEMU exit code -11 (SIGSEGV)",
                  instructions_per_inference=None, latency_ms=None, outputs_match_host=None)
               for b in ("nicla_sense", "rpi4") for v in ("baseline", "baseline+ptq_int8")]
    assert len(deployment_problems(crashed + [esp32()], ESP32)) == 4
