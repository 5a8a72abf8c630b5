"""Codebook weights in flash, expanded once into RAM in the board's dense layout (`codebook_ram`).

Why: the in-loop codebook kernels (tinyeit_fc_s8_cb) pay an extraction, a table load and a
multiply per weight, about 3.4x the dense int8 cycles on the Cortex-M4. Where the board has the
RAM, the generated model's tinyeit_prepare() (run once by every harness before the timed
inferences) expands the 4-bit codes into a static RAM array (.bss) holding exactly the bytes of
the layout the board's dense kernel reads (unit pairs under TINYEIT_FC_PAIRS, else the packed
4x4 layout), and the dense kernel runs on it: the flash keeps the codebook's size, the RAM pays
the dense bytes. Which layers expand is chosen per board at firmware build time (`plan`).

The flash form, one per dense layout:
- `codes`: one 4-bit code per byte of the dense layout, in the layout's byte order (position i
  in the low nibble of byte i/2 when i is even, the high one when odd);
- `rows`: uint8 tables of 16 entries; an entry is the stored byte itself, i.e. the unit's
  codebook value plus the layout's bias at that position (the unit pairs store their first
  unit's weight + 128), and padding positions use a row of the padding byte;
- `segments` (uint32, four per segment: count, pattern length, pattern offset, row base) and
  `patterns` (uint8): position i of a segment reads row base + pattern[(i - start) % length].
  The dense layouts are periodic within a block of units, so a layer needs a few segments.

The C loop (tinyeit_cb_expand, reference/tinyeit_ref_codebook.c) is `dst[i] = rows[16 *
row(i) + code(i)]`; `expand` below is the same loop in Python. The position -> (unit, bias)
map is read off the layout functions themselves (emit.packed_fc_s8, layout_unit_pairs
.unit_pairs_s8) by probing them with bit planes of the element index, so no layout is described
twice; `encode` checks the expansion against the layout's bytes and raises if they differ.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinyeit.codegen import emit
from tinyeit.codegen import layout_unit_pairs as lp
from tinyeit.codegen.model_reader import CodegenError

CODEBOOK_RAM = "codebook_ram"
LAYOUTS = ("unit_pairs", "packed_4x4")
MAX_PERIOD = 64  # longest pattern a segment repeats
PAD_CODE = 0xF0  # a pattern entry PAD_CODE + k names padding row k (absolute), others base + v
# RAM kept free beside the arena, the stack and the expansions for the harness's and the
# platform's own static data (frames are in flash; the output and line buffers, start-up code)
RAM_MARGIN_BYTES = 16384
MODES = ("auto", "expand", "inloop")


def layout_bytes(rows: np.ndarray, layout: str) -> np.ndarray:
    """The dense layout's bytes (uint8) of [units, n] int8 weights."""
    if layout == "unit_pairs":
        return np.asarray(lp.unit_pairs_s8(rows), np.uint8)
    if layout == "packed_4x4":
        return np.asarray(emit.packed_fc_s8(np.asarray(rows, np.int8))).view(np.uint8)
    raise CodegenError(f"codebook expansion: unknown dense layout {layout!r} (known: {LAYOUTS})")


def source_map(shape: tuple[int, int], layout: str) -> tuple[np.ndarray, np.ndarray]:
    """(src, bias) per byte of the layout: src the flat index unit * n + input of the weight
    stored there (-1: padding), bias the byte stored for a zero weight (the layout's offset)."""
    units, n = shape
    size = units * n
    bias = layout_bytes(np.zeros(shape, np.int8), layout).astype(np.int64)
    tag = np.arange(1, size + 1, dtype=np.int64).reshape(shape)  # 0 stands for padding
    src = np.zeros(bias.shape, np.int64)
    for bit in range(int(size).bit_length()):
        plane = ((tag >> bit) & 1).astype(np.int8)
        got = (layout_bytes(plane, layout).astype(np.int64) - bias) & 0xFF
        if np.any(got > 1):
            raise CodegenError(f"codebook expansion: the {layout} layout is not a biased "
                               "permutation of the weights")
        src |= got << bit
    return src - 1, bias


@dataclass
class Expanded:
    """One layer's flash form for one dense layout (see the module doc)."""

    layout: str
    codes: np.ndarray     # uint8, two codes per byte
    rows: np.ndarray      # uint8 [rows * 16]
    segments: np.ndarray  # uint32 [segments * 4]
    patterns: np.ndarray  # uint8
    size: int             # bytes of the dense layout (the RAM array)

    @property
    def flash_bytes(self) -> int:
        words = lambda b: -(-int(b) // 4) * 4  # noqa: E731 (arrays word aligned)
        return (words(self.codes.nbytes) + int(self.rows.nbytes) + int(self.segments.nbytes)
                + int(self.patterns.nbytes))

    @property
    def ram_bytes(self) -> int:
        return -(-self.size // 4) * 4


def _segments(r: np.ndarray, pad: np.ndarray) -> tuple[list[int], list[int]]:
    """Cover the row sequence r with segments of repeated patterns (greedy: at each start, the
    period up to MAX_PERIOD that reaches furthest, the shortest on ties). A pattern holds a unit
    row as its offset from the segment's base row (< PAD_CODE) and a padding row (`pad`) as
    PAD_CODE + its row, so that blocks of units alike share one pattern."""
    segs: list[int] = []
    pats: list[int] = []
    known: dict[tuple, int] = {}
    i, total = 0, len(r)

    def form(a: int, p: int):
        pat, is_pad = r[a:a + p], pad[a:a + p]
        units = pat[~is_pad]
        base = int(units.min()) if units.size else 0
        if units.size and int(units.max()) - base >= PAD_CODE:
            return None
        return base, tuple(PAD_CODE + int(v) if q else int(v) - base for v, q in zip(pat, is_pad))

    while i < total:
        best = (0, 1)
        for p in range(1, min(MAX_PERIOD, total - i) + 1):
            if form(i, p) is None:
                break
            diff = np.flatnonzero(r[i + p:] != r[i:total - p])
            reach = p + (int(diff[0]) if diff.size else total - i - p)
            if reach > best[0]:
                best = (reach, p)
        reach, p = best
        base, key = form(i, p)
        if key not in known:
            known[key] = len(pats)
            pats.extend(key)
        segs.extend((reach, p, known[key], base))
        i += reach
    return segs, pats


def encode(rows: np.ndarray, layout: str) -> Expanded:
    """The flash form of [units, n] int8 weights with at most 16 values per unit (or per
    tensor) for `layout`; raises CodegenError if its expansion differs from the layout."""
    from tinyeit.codegen import weight_formats as wf  # noqa: PLC0415

    rows = np.asarray(rows, np.int8)
    found = wf.codebook_values(rows)
    if rows.ndim != 2 or found is None:
        raise CodegenError(f"codebook expansion: weights {rows.shape} have more than "
                           f"{wf.CODEBOOK_SIZE} values per unit")
    per_unit, tables = found
    units, n = rows.shape
    src, bias = source_map((units, n), layout)
    unit = np.where(src >= 0, src // max(n, 1), -1)
    table_of = unit if per_unit else np.where(unit >= 0, 0, -1)
    idx = np.zeros((units, n), np.int64)
    for u in range(units):
        idx[u] = np.searchsorted(tables[u if per_unit else 0], rows[u])
    codes = np.where(src >= 0, idx.reshape(-1)[np.maximum(src, 0)], 0)
    # one row per (table, bias) pair, numbered in order of first use along the layout
    # (padding rows first: patterns name them absolutely, PAD_CODE + row)
    key = (table_of + 1) * 256 + bias
    uniq, first, r = np.unique(key, return_index=True, return_inverse=True)
    order = np.lexsort((first, uniq >= 256))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    r = rank[r.reshape(-1)]
    row_list = []
    for k in uniq[order]:
        t, b = int(k) // 256 - 1, int(k) % 256
        entries = np.full(wf.CODEBOOK_SIZE, b, np.int64)
        if t >= 0:
            vals = tables[t].astype(np.int64)
            entries[:vals.size] = vals + b
        row_list.append(entries & 0xFF)
    pads = int(np.count_nonzero(uniq < 256))
    if pads > 255 - PAD_CODE:
        raise CodegenError(f"codebook expansion: {pads} padding bytes in the {layout} layout")
    segs, pats = _segments(r, r < pads)
    padded = np.zeros(len(codes) + len(codes) % 2, np.int64)
    padded[:len(codes)] = codes
    enc = Expanded(layout=layout,
                   codes=(padded[0::2] | (padded[1::2] << 4)).astype(np.uint8),
                   rows=np.concatenate(row_list).astype(np.uint8) if row_list else np.zeros(0, np.uint8),
                   segments=np.asarray(segs, np.uint32), patterns=np.asarray(pats, np.uint8),
                   size=len(src))
    if not np.array_equal(expand(enc), layout_bytes(rows, layout)):
        raise CodegenError(f"codebook expansion: internal error: the {layout} expansion of "
                           f"weights {rows.shape} differs from the dense layout")
    return enc


def expand(enc: Expanded) -> np.ndarray:
    """tinyeit_cb_expand in Python: the RAM array's bytes."""
    out = np.zeros(enc.size, np.uint8)
    segs = enc.segments.astype(np.int64).reshape(-1, 4)
    i = 0
    for count, length, off, base in segs:
        pos = np.arange(count)
        v = enc.patterns[off + pos % length].astype(np.int64)
        row = np.where(v >= PAD_CODE, v - PAD_CODE, base + v)
        k = i + pos
        code = (enc.codes[k >> 1].astype(np.int64) >> (4 * (k & 1))) & 15
        out[k] = enc.rows[16 * row + code]
        i += int(count)
    if i != enc.size:
        raise CodegenError(f"codebook expansion: segments cover {i} of {enc.size} bytes")
    return out


def macro(tensor: int) -> str:
    """The per-layer switch the firmware build sets in tinyeit_codebook.h."""
    return f"TINYEIT_CB_RAM_T{int(tensor)}"


def family_layout(family: str | None, layer: dict) -> str:
    """The dense layout a board family's build compiles for this layer."""
    from tinyeit.firmware.build import FC_PAIRS_FAMILIES  # noqa: PLC0415

    layouts = layer["codebook_ram"]["layouts"]
    if family in FC_PAIRS_FAMILIES and "unit_pairs" in layouts:
        return "unit_pairs"
    return "packed_4x4"


def plan(layers: list[dict], family: str | None, ram_bytes: int | None, arena_bytes: int,
         stack_bytes: int = 4096, mode: str = "auto", board: str = "?") -> tuple[str, list[dict]]:
    """Per board: which expandable layers (records with `codebook_ram`) expand, as the text of
    tinyeit_codebook.h, and the layer records as that build stores them.

    auto: in op order, a layer expands when the expansions so far plus its own fit the RAM
    budget, ram_bytes - arena_bytes - stack_bytes - RAM_MARGIN_BYTES (ram_bytes 0 or None: no
    limit, every layer expands); expand: every layer (the link's RAM check then says whether it
    fits); inloop: none."""
    if mode not in MODES:
        raise CodegenError(f"board {board}: codebook: {mode!r} is not one of {', '.join(MODES)}")
    limited = bool(ram_bytes)
    budget = (int(ram_bytes) - int(arena_bytes) - int(stack_bytes) - RAM_MARGIN_BYTES
              if limited else 0)
    used = 0
    lines = ["/* Generated: the codebook layers this build expands into RAM at start-up (1) or",
             " * decodes in the kernel's loop (0): tinyeit.codegen.codebook_ram.plan. */",
             "#ifndef TINYEIT_CODEBOOK_H", "#define TINYEIT_CODEBOOK_H"]
    out = []
    for layer in layers:
        rec = dict(layer)
        rec.setdefault("weight_ram_bytes", 0)
        cb = layer.get("codebook_ram")
        if cb is not None:
            layout = family_layout(family, layer)
            form = cb["layouts"][layout]
            need = int(form["ram_bytes"])
            take = (mode == "expand" or
                    (mode == "auto" and (not limited or used + need <= budget)))
            if take:
                used += need
                rec.update(weight_format=CODEBOOK_RAM, weight_bytes=int(form["flash_bytes"]),
                           weight_ram_bytes=need, macs_executed=int(layer["macs_dense"]),
                           weight_layout=layout)
            lines.append(f"#define {cb['macro']} {int(take)}")
        out.append(rec)
    lines += ["#endif", ""]
    return "\n".join(lines), out
