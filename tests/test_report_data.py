"""A small hand-made summary for the report tests, with round numbers so gains check by hand.

Boards: nano33ble (all variants ok), nicla_sense (baseline does not fit), esp32 (toolchain
unavailable), rpi4 (not profiled at all). `baseline+prune` is dominated by the baseline.
"""
import copy

NANO_MW, NICLA_MW = 9.9, 11.1

VARIANTS = [
    # name, tflite_bytes, keras_bytes, acc mean, acc std, host ms (instructions: 1e6 per ms)
    ("baseline", 280_000, 871_580, 0.80, 0.02, 0.40),
    ("baseline+prune", 280_000, 871_580, 0.78, 0.02, 0.40),
    ("baseline+ptq_int8", 72_000, 871_580, 0.79, 0.02, 0.10),
    ("baseline+kd+fp", 40_000, 120_000, 0.75, 0.03, 0.05),
    ("baseline+kd+fp+ptq_int8", 10_000, 120_000, 0.72, 0.01, 0.02),
]
NANO_MS = {"baseline": 20.0, "baseline+prune": 20.0, "baseline+ptq_int8": 8.0,
           "baseline+kd+fp": 5.0, "baseline+kd+fp+ptq_int8": 2.0}


def _deployment(variant, board, status, latency_ms=None, mw=None, flash=None, ram=None):
    ok = status == "ok"
    return {
        "variant": variant, "board": board, "transport": "emulator", "status": status,
        "flash_bytes": flash, "ram_bytes": ram, "arena_bytes": 4000 if ok else None,
        "instructions_per_inference": int(latency_ms * 64_000 / 1.4) if ok else None,
        "cycles_per_inference": int(latency_ms * 64_000) if ok else None,
        "latency_ms": latency_ms, "latency_is_estimate": True if ok else None,
        "latency_method": ("cortex-m4 cycle model (TRM timings, zero wait states), 64 MHz"
                           if ok else None),
        "energy_uj": latency_ms * mw if ok else None, "energy_is_estimate": True if ok else None,
        "outputs_match_host": True if ok else None,
        "firmware_sha256": ("ab" * 32) if ok else None,
    }


def small_summary(source="synthetic"):
    variants = []
    for name, tfl, keras, acc, std, host in VARIANTS:
        variants.append({
            "name": name, "steps": name.split("+"), "params": 70_034, "nonzero_params": 70_000,
            "macs": 100_000, "keras_bytes": keras, "tflite_bytes": tfl,
            "tflite_gzip_bytes": tfl // 2, "accuracy_cv_mean": acc, "accuracy_cv_std": std,
            "accuracy_test": acc - 0.01, "host_instructions_per_invoke": int(host * 1e6),
            "tflite": f"results/tflite/{name}/model.tflite"})
    deployments = []
    for name, *_ in VARIANTS:
        deployments.append(_deployment(name, "nano33ble", "ok", NANO_MS[name], NANO_MW,
                                       flash=300_000, ram=100_000))
        if name in ("baseline", "baseline+prune"):
            deployments.append(_deployment(name, "nicla_sense", "does_not_fit",
                                           flash=600_000, ram=80_000))
        else:
            deployments.append(_deployment(name, "nicla_sense", "ok", NANO_MS[name], NICLA_MW,
                                           flash=100_000, ram=30_000))
        deployments.append(_deployment(name, "esp32", "toolchain_unavailable"))
    boards = {
        "nano33ble": {"name": "Arduino Nano 33 BLE Sense", "alias": "nano33ble",
                      "flash_bytes": 1_048_576, "ram_bytes": 262_144, "clock_hz": 64_000_000},
        "nicla_sense": {"name": "Arduino Nicla Sense ME", "alias": "nicla",
                        "flash_bytes": 524_288, "ram_bytes": 65_536, "clock_hz": 64_000_000},
        "esp32": {"name": "ESP32", "alias": "esp32", "flash_bytes": 4_194_304,
                  "ram_bytes": 532_480, "clock_hz": 240_000_000},
        "rpi4": {"name": "Raspberry Pi 4", "alias": "rpi4", "flash_bytes": 0, "ram_bytes": 0,
                 "clock_hz": 1_500_000_000},
    }
    return copy.deepcopy({
        "dataset": {"source": source, "n_frames": 800, "n_features": 40, "n_classes": 10,
                    "sha256": "0" * 64},
        "variants": variants, "deployments": deployments, "boards": boards,
        "report": {"max_accuracy_drop": 0.1, "max_latency_ms": None},
    })


def small_host_latency(noisy=()):
    """host_latency.json for small_summary's variants; `noisy` names flagged measurements."""
    return copy.deepcopy({"variants": [
        {"name": name, "host_latency_ms": host, "host_latency_iqr_ms": host / 50,
         "host_latency_spread": 0.5 if name in noisy else 0.02,
         "host_latency_noisy": name in noisy, "host_latency_wall_ms": host * 1.01,
         "host_latency_wall_iqr_ms": host / 40, "attempts": 3 if name in noisy else 1,
         "block_invocations": 500, "repeats": 41, "min_block_ms": 2.0, "spread_limit": 0.2,
         "interpreter": "LiteRT default", "method": "median and IQR over 41 blocks"}
        for name, _, _, _, _, host in VARIANTS]})
