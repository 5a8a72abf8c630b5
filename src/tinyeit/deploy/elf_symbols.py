"""The address of a named symbol in a 32-bit little-endian ELF (the Cortex-M firmware).

The cycle-model plugin needs the address of the harness's tick function (its inference marker);
reading the symbol table here avoids a toolchain call (nm) per run. Only what that needs:
ELF32, little endian, section headers, SHT_SYMTAB with its string table.
"""
from __future__ import annotations

import struct
from pathlib import Path

from tinyeit.errors import TinyEitError

SHT_SYMTAB = 2
THUMB_BIT = 1


def symbol_address(elf: str | Path, name: str) -> int:
    """The symbol's value with the Thumb bit cleared; a clear error when it is not there."""
    data = Path(elf).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        raise TinyEitError(f"{elf}: not a 32-bit little-endian ELF file")
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x2E)
    sections = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    for sh_name, sh_type, _, _, offset, size, link, _, _, entsize in sections:
        if sh_type != SHT_SYMTAB or not entsize:
            continue
        strtab_offset = sections[link][4]
        wanted = name.encode()
        for pos in range(offset, offset + size, entsize):
            st_name, st_value = struct.unpack_from("<II", data, pos)
            end = data.index(b"\0", strtab_offset + st_name)
            if data[strtab_offset + st_name:end] == wanted:
                return st_value & ~THUMB_BIT
    raise TinyEitError(f"{elf}: no symbol '{name}' (the firmware must be linked with its "
                       "symbol table, from the project's harness)")
