"""Codebook weights in flash, expanded once into RAM in the board's dense layout (`codebook_ram`).

Why: the in-loop codebook kernels (tinyeit_fc_s8_cb) pay an extraction, a table load and a
multiply per weight, about 3.4x the dense int8 cycles on the Cortex-M4. Where the board has the
RAM, the generated model's tinyeit_prepare() (run once by every harness before the timed
inferences) expands the 4-bit codes into a static RAM array (.bss) holding exactly the bytes of
the layout the board's dense kernel reads (unit pairs under TINYEIT_FC_PAIRS, else the packed
4x4 layout), and the dense kernel runs on it: the flash keeps the codebook's size, the RAM pays
the dense bytes. Which layers expand is chosen per board at firmware build time (`plan`).

The flash form, one per dense layout:
- `codes`: one 4-bit code per weight of the dense layout, in the layout's byte order (the k-th
  code in the low nibble of byte k/2 when k is even, the high one when odd); padding
  positions take no code;
- `rows`: uint8 tables of 16 entries; an entry is the stored byte itself, i.e. the unit's
  codebook value plus the layout's bias at that position (the layouts have none today; the
  unit pairs' high bytes take their low byte's borrow after the loop, below);
- `segments` (uint16, records of four) and `patterns` (uint8): a segment record (count,
  pattern length, pattern offset, row base) covers `count` positions, position i reading row
  base + v, v = pattern[(i - start) % length], or where v >= PAD_CODE the padding byte
  patterns[v - PAD_CODE] (the patterns start with the layout's padding bytes); a group record
  (0, repeats, records, base stride) runs the next `records` segments `repeats` times, the
  r-th time with their bases + r * stride. The dense layouts are periodic within a block of
  units and alike from block to block, so a layer needs a few records.

The C loop (tinyeit_cb_expand, reference/tinyeit_ref_codebook.c) is `dst[i] = rows[16 *
(base + v) + code]` with the next code, or the padding byte; for the unit pairs, whose lane
a + 256 b has b - (a < 0) in its high byte, tinyeit_cb_pairs_borrow then takes one off each
high byte whose low byte is negative (layout_unit_pairs.borrow_lanes). `expand` below is the
same in Python. The position -> (unit, bias) map is read off the layout functions themselves
(emit.packed_fc_s8, layout_unit_pairs.unit_pairs_s8) by probing them with bit planes of the
element index, so no layout is described twice; `encode` checks the expansion against the
layout's bytes and raises if they differ.
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
    segments: np.ndarray  # uint16 [records * 4]
    patterns: np.ndarray  # uint8
    size: int             # bytes of the dense layout (the RAM array)

    @property
    def flash_bytes(self) -> int:
        words = lambda b: -(-int(b) // 4) * 4  # noqa: E731 (arrays word aligned)
        return sum(words(a.nbytes) for a in (self.codes, self.rows, self.segments, self.patterns))

    @property
    def ram_bytes(self) -> int:
        return -(-self.size // 4) * 4


def _segments(r: np.ndarray, pad: np.ndarray, pad_bytes: list[int]) -> tuple[list[int], list[int]]:
    """Cover the row sequence r with segments of repeated patterns (greedy: at each start, the
    period up to MAX_PERIOD that reaches furthest, the shortest on ties). A pattern holds a unit
    row as its offset from the segment's base row (< PAD_CODE) and a padding row (`pad`) as
    PAD_CODE + its row, so that blocks of units alike share one pattern; the patterns start with
    the padding rows' bytes (`pad_bytes`)."""
    segs: list[tuple] = []
    pats: list[int] = list(pad_bytes)
    known: dict[tuple, int] = {}
    i, total = 0, len(r)

    pads = len(pad_bytes)  # rows 0 .. pads - 1 are the padding rows

    def form(a: int, p: int):
        pat, is_pad = r[a:a + p], pad[a:a + p]
        units = pat[~is_pad]
        base = int(units.min()) if units.size else pads
        if units.size and int(units.max()) - base >= PAD_CODE:
            return None
        # bases count unit rows (the padding rows are bytes at the patterns' start)
        return base - pads, tuple(PAD_CODE + int(v) if q else int(v) - base
                                  for v, q in zip(pat, is_pad))

    while i < total:
        best = (0, 1)
        for p in range(1, min(MAX_PERIOD, total - i) + 1):
            if form(i, p) is None:
                break
            diff = np.flatnonzero(r[i + p:] != r[i:total - p])
            reach = p + (int(diff[0]) if diff.size else total - i - p)
            if reach < total - i:  # whole patterns: the next segment starts on a boundary
                reach -= reach % p
            if reach > best[0]:
                best = (reach, p)
        reach, p = best
        base, key = form(i, p)
        if key not in known:  # a pattern inside a stored one is read from there
            at = bytes(pats[len(pad_bytes):]).find(bytes(key))
            known[key] = len(pad_bytes) + at if at >= 0 else len(pats)
            if at < 0:
                pats.extend(key)
        segs.append((reach, p, known[key], base))
        i += reach
    return _grouped(_split(segs)), pats


MAX_GROUP = 8  # segments a group record repeats
RECORD_MAX = 0xFFFF  # records are uint16


def _grouped(segs: list[tuple]) -> list[int]:
    """The segment records with runs of alike segments (same counts and patterns, bases at a
    constant stride) folded into group records (greedy: the fold that covers most)."""
    out: list[int] = []
    i = 0
    while i < len(segs):
        best = (1, 1, 0)  # (segments covered, group length, repeats)
        for length in range(1, min(MAX_GROUP, len(segs) - i) + 1):
            head = segs[i:i + length]
            stride = segs[i + length][3] - head[0][3] if i + length < len(segs) else 0
            reps = 1
            while i + (reps + 1) * length <= len(segs) and all(
                    segs[i + reps * length + j][:3] == head[j][:3]
                    and segs[i + reps * length + j][3] == head[j][3] + reps * stride
                    for j in range(length)):
                reps += 1
            if reps > 1 and stride >= 0 and reps * length > best[0]:
                best = (reps * length, length, reps, stride)
        if best[0] > 1:
            _, length, reps, stride = best
            done = 0
            while done < reps:  # a group repeats at most 0xFFFF times
                now = min(reps - done, RECORD_MAX)
                out.extend((0, now, length, stride))
                for count, p, off, base in segs[i:i + length]:
                    out.extend((count, p, off, base + done * stride))
                done += now
            i += reps * length
        else:
            out.extend(segs[i])
            i += 1
    if out and max(out) > RECORD_MAX:
        raise CodegenError("codebook expansion: a record field exceeds 16 bits")
    return out


def _split(segs: list[tuple]) -> list[tuple]:
    """Segments of more than RECORD_MAX positions as several, each a whole number of its
    pattern but the last (so that each starts the pattern afresh)."""
    out = []
    for count, p, off, base in segs:
        step = (RECORD_MAX // p) * p
        while count > RECORD_MAX:
            out.append((step, p, off, base))
            count -= step
        out.append((count, p, off, base))
    return out


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
    pad_bytes = [int(row[0]) for row in row_list[:pads]]
    row_list = row_list[pads:]
    segs, pats = _segments(r, r < pads, pad_bytes)
    codes = codes[r >= pads]  # padding positions take no code
    padded = np.zeros(len(codes) + len(codes) % 2, np.int64)
    padded[:len(codes)] = codes
    enc = Expanded(layout=layout,
                   codes=(padded[0::2] | (padded[1::2] << 4)).astype(np.uint8),
                   rows=np.concatenate(row_list).astype(np.uint8) if row_list else np.zeros(0, np.uint8),
                   segments=np.asarray(segs, np.uint16), patterns=np.asarray(pats, np.uint8),
                   size=len(src))
    if not np.array_equal(expand(enc), layout_bytes(rows, layout)):
        raise CodegenError(f"codebook expansion: internal error: the {layout} expansion of "
                           f"weights {rows.shape} differs from the dense layout")
    return enc


def expand(enc: Expanded) -> np.ndarray:
    """tinyeit_cb_expand (and for the unit pairs tinyeit_cb_pairs_borrow) in Python: the RAM
    array's bytes."""
    out = np.zeros(enc.size, np.uint8)
    recs = [tuple(int(v) for v in rec) for rec in enc.segments.astype(np.int64).reshape(-1, 4)]
    runs = []  # (count, length, offset, base) in order
    s = 0
    while s < len(recs):
        if recs[s][0] == 0:
            _, reps, length, stride = recs[s]
            group = recs[s + 1:s + 1 + length]
            runs += [(c, ln, off, base + r * stride) for r in range(reps)
                     for c, ln, off, base in group]
            s += 1 + length
        else:
            runs.append(recs[s])
            s += 1
    i = c = 0
    for count, length, off, base in runs:
        pos = np.arange(count)
        v = enc.patterns[off + pos % length].astype(np.int64)
        pad = v >= PAD_CODE
        row = np.where(pad, 0, base + v)
        k = c + np.cumsum(~pad) - 1  # the code index of each non-padding position
        code = np.where(pad, 0, (enc.codes[np.maximum(k, 0) >> 1].astype(np.int64)
                                 >> (4 * (np.maximum(k, 0) & 1))) & 15)
        out[i + pos] = np.where(pad, enc.patterns[np.where(pad, v - PAD_CODE, 0)],
                                enc.rows[np.where(pad, 0, 16 * row + code)] if enc.rows.size
                                else 0)
        i += int(count)
        c += int(np.count_nonzero(~pad))
    if i != enc.size:
        raise CodegenError(f"codebook expansion: segments cover {i} of {enc.size} bytes")
    return lp.borrow_lanes(out) if enc.layout == "unit_pairs" else out


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
