"""A board's deployment settings, read once from config.yaml's `boards.<key>`.

Rules and the CLI pass only a board key; everything else (transport, port, clock, power) comes
from the config, so a user switches a board from the emulator to real hardware in one place.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tinyeit.errors import TinyEitError

TRANSPORTS = ("emulator", "serial", "ssh")
DEFAULT_BAUDRATE = 115200


@dataclass(frozen=True)
class Board:
    key: str
    alias: str
    family: str                  # cortex_m4f | esp32 | aarch64_linux
    clock_hz: int
    flash_bytes: int
    ram_bytes: int
    active_power_mw: float
    power_source: str
    transport: str = "emulator"
    port: str | None = None      # a device path, "auto" (find by usb_ids) or None
    usb_ids: tuple[str, ...] = ()
    fqbn: str | None = None
    baudrate: int = DEFAULT_BAUDRATE
    ssh: dict = field(default_factory=dict)
    power_meter: dict | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """What the firmware may call itself in its BEGIN line."""
        return tuple(dict.fromkeys((self.key, self.alias)))


def board_from_config(config: dict, key: str) -> Board:
    """The board `key` of a (validated) config; a clear error for an unknown key or transport."""
    boards = config.get("boards") or {}
    if key not in boards:
        raise TinyEitError(f"config: boards.{key}: no such board; configured: "
                           f"{', '.join(sorted(boards)) or '(none)'}")
    b = boards[key]
    transport = b.get("transport", "emulator")
    if transport not in TRANSPORTS:
        raise TinyEitError(f"config: boards.{key}.transport: '{transport}' is not one of "
                           f"{', '.join(TRANSPORTS)}")
    if transport == "ssh" and b.get("family") != "aarch64_linux":
        raise TinyEitError(f"config: boards.{key}.transport: ssh is for Linux boards (rpi4), "
                           f"not family '{b.get('family')}'")
    if transport == "serial" and b.get("family") == "aarch64_linux":
        raise TinyEitError(f"config: boards.{key}.transport: a Linux board is reached over ssh, "
                           "not serial")
    try:
        return Board(
            key=key, alias=b.get("alias", key), family=b["family"], clock_hz=int(b["clock_hz"]),
            flash_bytes=int(b["flash_bytes"]), ram_bytes=int(b["ram_bytes"]),
            active_power_mw=float(b["active_power_mw"]), power_source=str(b["power_source"]),
            transport=transport, port=b.get("port"), usb_ids=tuple(b.get("usb_ids") or ()),
            fqbn=b.get("fqbn"), baudrate=int(b.get("baudrate") or DEFAULT_BAUDRATE),
            ssh=dict(b.get("ssh") or {}), power_meter=b.get("power_meter") or None)
    except KeyError as exc:
        raise TinyEitError(f"config: boards.{key}: missing key {exc.args[0]}") from None
