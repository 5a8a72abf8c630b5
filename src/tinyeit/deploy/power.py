"""Measured energy per inference from a Nordic Power Profiler Kit II (ppk2-api), when configured.

config.yaml: `boards.<key>.power_meter: {type: ppk2, port: <device or null for the first PPK2>,
voltage_mv: <supply in source-meter mode; omit to use ampere-meter mode>}`.
The meter samples the board's current in the background while the result lines are read;
energy per inference = mean power over the run x the measured latency of one inference
(mW x ms = uJ). The run is almost all inference, so the mean power is the inference's power.
"""
from __future__ import annotations

import statistics
import threading

from tinyeit.errors import TinyEitError

POLL_S = 0.01


class PowerMeterError(TinyEitError):
    """The configured power meter could not be used."""


class Ppk2Meter:
    """Background sampler: `with Ppk2Meter(cfg, board_key) as m: ...; m.mean_power_mw()`."""

    def __init__(self, config: dict, board_key: str, api_factory=None):
        self.config = dict(config)
        self.board_key = board_key
        self._factory = api_factory
        self._samples_ua: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ppk2 = None
        self.voltage_mv = self.config.get("voltage_mv")

    def _open(self):
        if self._factory is not None:
            return self._factory(self.config.get("port"))
        try:
            from ppk2_api.ppk2_api import PPK2_API
        except ImportError:
            raise PowerMeterError("power meter ppk2 configured but ppk2-api is not installed "
                                  "(pip install ppk2-api)") from None
        port = self.config.get("port")
        if not port:
            found = PPK2_API.list_devices()
            if not found:
                raise PowerMeterError(f"board {self.board_key}: power_meter ppk2 configured but "
                                      "no PPK2 is connected")
            port = found[0]
        return PPK2_API(port, timeout=1, write_timeout=1, exclusive=True)

    def __enter__(self):
        try:
            ppk2 = self._open()
            ppk2.get_modifiers()
            if self.voltage_mv:
                ppk2.use_source_meter()
                ppk2.set_source_voltage(int(self.voltage_mv))
                ppk2.toggle_DUT_power("ON")
            else:
                ppk2.use_ampere_meter()
                # in ampere-meter mode the voltage only scales the conversion; the board's supply
                self.voltage_mv = 3000
                ppk2.set_source_voltage(self.voltage_mv)
            ppk2.start_measuring()
        except PowerMeterError:
            raise
        except Exception as exc:  # the API raises bare Exceptions and serial errors
            raise PowerMeterError(f"board {self.board_key}: PPK2 on "
                                  f"{self.config.get('port') or 'auto'}: {exc}") from None
        self._ppk2 = ppk2
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self):
        # One last read after the stop request: what the meter buffered until then counts too,
        # so even a run shorter than one poll interval has its samples.
        while True:
            stopping = self._stop.is_set()
            data = self._ppk2.get_data()
            if data:
                samples, _ = self._ppk2.get_samples(data)
                self._samples_ua.extend(samples)
            if stopping:
                return
            self._stop.wait(POLL_S)

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self._ppk2.stop_measuring()
        except Exception:
            pass
        return False

    def mean_power_mw(self) -> float:
        if not self._samples_ua:
            raise PowerMeterError(f"board {self.board_key}: the PPK2 returned no samples")
        mean_ua = statistics.fmean(self._samples_ua)
        return mean_ua * 1e-3 * self.voltage_mv * 1e-3   # mA x V = mW

    @property
    def source(self) -> str:
        return f"Nordic PPK2 measurement, {len(self._samples_ua)} samples at {self.voltage_mv} mV"


def energy_uj(mean_power_mw: float, latency_ms: float) -> float:
    return mean_power_mw * latency_ms
