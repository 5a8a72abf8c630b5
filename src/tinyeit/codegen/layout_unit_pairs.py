"""The unit-pair layout of int8 fully connected weights (tinyeit_fc_s8_pairs, Cortex-M DSP).

One byte per weight, like the packed 4x4 layout, but arranged so that the Cortex-M4 loop
sign-extends one unit's weights only: two units A and B share each 16-bit lane, which holds the
int16 `a + 256 * b` (bytes [a & 0xff, b - (a < 0)]: the low byte's borrow is in the high one).
One SMLAD of a raw weight word against two inputs x adds to an accumulator R

    R += sum a * x + 256 * sum b * x

and one SXTB16 of the same word gives back the lanes a exactly, whose SMLAD adds to U

    U += sum a * x.

With both started at A's bias, U is A's sum, and R - U = 256 * sum b * x exactly in 32-bit
wrap-around arithmetic: B's sum is (R - U) >> 8 whenever |sum b * x| < 2^23, which holds for
every input when sum |b| <= 65535 (inputs are at most 128 in magnitude). Per 4 weights: one
load, one SXTB16 and two SMLAD (4 MACs), where the packed layout needs two SXTB16 per word.
`pairs_fit` checks both conditions per pair: the sum bound, and every lane an int16 (b = -128
only beside a >= 0, which TFLite's symmetric int8 weights, in [-127, 127], never break); the
generator keeps the packed layout for a layer that fails them.

Layout, word aligned:
- inputs padded with zero weights to `padded_inputs(n)` (a multiple of PAIRS_IN_ALIGN), units
  to an even count with a zero unit;
- pairs (units 2i, 2i + 1) in blocks (`block_sizes`: 4 pairs each in layers that are `wide`,
  else PAIRS_BLOCK; the rest in a last block or two, never one pair alone after a full block);
- per block, per step s of 4 inputs, per half h (0: inputs 4s and 4s + 2; 1: inputs 4s + 1 and
  4s + 3), per pair of the block, one word: bytes [a(4s+h) + 128, b(4s+h), a(4s+h+2) + 128,
  b(4s+h+2)].

The kernels widen the input row the same way: per step, the word (x[4s], x[4s+2]) and the word
(x[4s+1], x[4s+3]) as int16 lanes (SXTB16 and SXTB16 ROR #8 of the input word).

Why blocks of four pairs where rows are short (at most WIDE_MAX_INPUTS padded inputs), on the
Cortex-M4 cycle model (LDR 2, 1 when pipelined after a single LDR; SMLAD, SXTB16 1): per half
step a block of P pairs costs (P + 1) loads in one back-to-back run, P + 2 cycles, and 3P ALU
instructions for 4P MACs, so (4P + 2) / 4P cycles per MAC: 1.167 for P = 3 (14 per 12), 1.125
for P = 4 (18 per 16). P = 4 needs 8 accumulators + 4 weight words + the input pair + the
weight pointer: all 14 usable registers, so its kernel (tinyeit_cm_pairs4u) reads the input
SP-relative from a copy on its stack frame, in a body unrolled over 256 half steps (17 KB of
flash), and has no loop counter. Weights pre-widened to int16 (the issue's alternative) cost
one pipelined load and one SMLAD per 2 MACs, the same 1.0 floor, but a unit then needs its own
accumulator and its own weight register: with k units per input load, (2k + 2) / 2k per MAC and
2k + 4 registers (k = 5: 1.2), and twice the weight flash. The pairs carry two units per
weight register, so they reach further at the same register count, at half the flash.
Exactness of a block does not depend on its size: every pair's sums are the two accumulators
above, whatever else runs beside them.
"""
from __future__ import annotations

import numpy as np

PAIRS_BLOCK = 3       # pairs per block: 6 units' accumulators in registers (TINYEIT_PAIRS_BLOCK)
PAIRS_BLOCK_WIDE = 4  # pairs per block where the rows are short enough for the unrolled kernel
WIDE_MAX_INPUTS = 512  # padded inputs the unrolled kernel takes (TINYEIT_PAIRS_WIDE_MAX)
# padded MACs a layer needs before it takes the unrolled kernel (TINYEIT_PAIRS_WIDE_MIN_MACS):
# its ~17 kB of code is linked into every firmware that calls it, for a gain that grows with
# the layer (nano33ble: the baseline's 64 x 128 layer 2.4k cycles, the final student's 24 x 114
# one 1.1k, which leaves that firmware at 29.8 kB instead of 47.7 kB)
WIDE_MIN_MACS = 8192
PAIRS_IN_ALIGN = 16   # inputs per loop iteration of the Cortex-M kernel (TINYEIT_PAIRS_IN_ALIGN)
B_ABS_SUM_MAX = 65535  # sum |b| bound: 128 * 65535 < 2^23


def block_sizes(pairs: int, n: int | None = None) -> list[int]:
    """Pairs per block, in order (the kernels' rule, pairs_block in tinyeit_common.h).

    Layers that are `wide` (n given): blocks of four pairs (the
    Cortex-M kernel's unrolled body, 8 accumulators: 18 cycles per 16 MACs), then the remainder
    as one block of 3 or 2, or 3 + 2 where one pair would be left alone. Other layers (or n not
    given): blocks of PAIRS_BLOCK, then the remainder; a remainder of one after at least one
    full block becomes two blocks of two (a one-pair block runs at 1.5 cycles per MAC, two-pair
    blocks at 1.25)."""
    pairs = int(pairs)
    if n is not None and wide(n, pairs):
        full, rem = divmod(pairs, PAIRS_BLOCK_WIDE)
        if rem == 1 and full > 0:
            return [PAIRS_BLOCK_WIDE] * (full - 1) + [3, 2]
        return [PAIRS_BLOCK_WIDE] * full + ([rem] if rem else [])
    full, rem = divmod(pairs, PAIRS_BLOCK)
    if rem == 1 and full > 0:
        return [PAIRS_BLOCK] * (full - 1) + [2, 2]
    return [PAIRS_BLOCK] * full + ([rem] if rem else [])


def wide(n: int, pairs: int) -> bool:
    """Whether a layer of `pairs` unit pairs over n inputs takes blocks of four pairs: rows of at
    most WIDE_MAX_INPUTS padded inputs, and at least WIDE_MIN_MACS padded MACs (pairs_wide in
    tinyeit_common.h). A model with no such layer leaves the unrolled kernel out of its
    firmware (TINYEIT_PAIRS_WIDE 0, tinyeit.firmware.build)."""
    npad = padded_inputs(n)
    return npad <= WIDE_MAX_INPUTS and 2 * int(pairs) * npad >= WIDE_MIN_MACS


def padded_inputs(n: int) -> int:
    return -(-int(n) // PAIRS_IN_ALIGN) * PAIRS_IN_ALIGN


def worthwhile(n: int) -> bool:
    """Whether a layer of n inputs gains from the layout: at least 32 inputs and at most an
    eighth of them added as padding (the study's 12- and 24-input layers run slower padded to
    16 and 32 than on the packed kernel; 32, 48, 114, 128, 228, 475 inputs run faster)."""
    return n >= 32 and padded_inputs(n) - n <= n // 8


def scratch_bytes(n: int) -> int:
    """Bytes of the widened input row the kernel needs (int16 per padded input)."""
    return 2 * padded_inputs(n)


def pairs_fit(rows: np.ndarray) -> bool:
    """True when every lane a + 256 b is an int16 (never b = -128 beside a negative a at the
    same input) and every pair's B unit (odd unit) keeps |sum b * x| < 2^23 for all int8 x."""
    rows = np.asarray(rows, np.int64).reshape(rows.shape[0], -1)
    b = rows[1::2]
    if b.size == 0:
        return True
    lane = rows[0::2][:b.shape[0]] + 256 * b
    return bool(lane.min() >= -32768 and np.abs(b).sum(axis=1).max() <= B_ABS_SUM_MAX)


def lanes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The lanes a + 256 b as their 16 bits (two's complement int16, in int64)."""
    return (np.asarray(a, np.int64) + 256 * np.asarray(b, np.int64)) & 0xFFFF


def lane_bytes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (low, high) uint8 bytes of the lanes a + 256 b."""
    lane = lanes(a, b)
    return (lane & 0xFF).astype(np.uint8), (lane >> 8).astype(np.uint8)


def borrow_lanes(data: np.ndarray) -> np.ndarray:
    """Bytes holding (a & 0xff, b & 0xff) per lane -> the lanes a + 256 b: the high byte of each
    lane whose low byte is negative less one (codebook_ram's expansion writes a lane's two
    bytes from two codes apart; tinyeit_cb_pairs_borrow is this in C)."""
    out = np.asarray(data, np.uint8).copy()
    lo, hi = out[0::2], out[1::2]
    hi -= (lo[:hi.size] >= 128).astype(np.uint8)
    return out


def unit_pairs_s8(rows: np.ndarray) -> np.ndarray:
    """int8 weights [units, n] in the unit-pair layout, as uint8 bytes (see the module doc)."""
    rows = np.asarray(rows).astype(np.int16).reshape(rows.shape[0], -1)
    units, n = rows.shape
    npad, upad = padded_inputs(n), units + (units & 1)
    w = np.zeros((upad, npad), np.int16)
    w[:units, :n] = rows
    a, b = lane_bytes(w[0::2], w[1::2])            # [pairs, npad] each
    pairs, steps = upad // 2, npad // 4
    # word bytes per (pair, step, half): lane (4s+h), lane (4s+h+2), each (low, high)
    a4, b4 = a.reshape(pairs, steps, 2, 2), b.reshape(pairs, steps, 2, 2)  # [.., hi2, h]
    words = np.stack([a4[:, :, 0, :], b4[:, :, 0, :], a4[:, :, 1, :], b4[:, :, 1, :]],
                     axis=-1)                      # [pairs, steps, half, 4]
    parts, q = [], 0
    for p_n in block_sizes(pairs, n):
        blk = words[q:q + p_n]                     # [P, steps, half, 4]
        parts.append(blk.transpose(1, 2, 0, 3).reshape(-1))
        q += p_n
    return np.concatenate(parts) if parts else np.zeros(0, np.uint8)


def widened_input(x: np.ndarray) -> np.ndarray:
    """One int8 input row as the kernels widen it: int16 lanes, per step (x0, x2), (x1, x3)."""
    x = np.asarray(x, np.int16).reshape(-1)
    xp = np.zeros(padded_inputs(len(x)), np.int16)
    xp[:len(x)] = x
    return xp.reshape(-1, 2, 2).transpose(0, 2, 1).reshape(-1)


def simulate(layout: np.ndarray, x: np.ndarray, units: int, n: int) -> np.ndarray:
    """The Cortex-M kernel's arithmetic on the layout (32-bit wrap-around, SMLAD on raw and
    SXTB16 words, A = U, B = (R - U) >> 8): the int32 dot products per unit.
    Used by the tests to hold the layout and the kernel's algebra to a plain dot product."""
    npad, upad = padded_inputs(n), units + (units & 1)
    pairs, steps = upad // 2, npad // 4
    xw = widened_input(x).astype(np.int64).reshape(steps, 2, 2)  # [step, half, lane]
    wb = np.asarray(layout, np.uint8)
    out = np.zeros(upad, np.int64)
    off = q = 0
    for p_n in block_sizes(pairs, n):
        blk = wb[off:off + steps * 2 * p_n * 4].reshape(steps, 2, p_n, 4).astype(np.int64)
        off += blk.size
        raw = np.stack([blk[..., 0] + 256 * blk[..., 1], blk[..., 2] + 256 * blk[..., 3]], -1)
        raw = np.where(raw >= 32768, raw - 65536, raw)          # lanes as signed int16
        low = np.stack([blk[..., 0], blk[..., 2]], -1)
        low = np.where(low >= 128, low - 256, low)               # SXTB16
        for p in range(p_n):
            r = u = 0
            r = _wrap(r + int((raw[:, :, p, :] * xw).sum()))
            u = _wrap(u + int((low[:, :, p, :] * xw).sum()))
            out[2 * (q + p)] = u
            out[2 * (q + p) + 1] = _wrap(r - u) >> 8
        q += p_n
    return out[:units]


def _wrap(v: int) -> int:
    return ((int(v) + (1 << 31)) % (1 << 32)) - (1 << 31)


# ---- block-sparse unit pairs (tinyeit_fc_s8_bsr_pairs, Cortex-M DSP) --------------------------
# The pruned 4 x 4 blocks of weight_formats' block-sparse layout, each as two unit pairs, in the
# dense layout's lanes a + 256 b (module doc): U is A's sum and (R - U) >> 8 B's.
BSR_GROUP = 4
BSR_UNITS = 4


def bsr_pairs_fit(rows: np.ndarray) -> bool:
    """True when tinyeit_fc_s8_bsr_pairs is exact for these [units, n] int8 weights: every lane
    a + 256 b is an int16 (never b = -128 beside a negative a, at the same input) and every B
    unit keeps sum |b| <= B_ABS_SUM_MAX (pairs_fit); n between 4 and 65,535 (the index is a
    uint16 byte offset). Else the generator keeps weight_formats' block-sparse layout."""
    rows = np.asarray(rows, np.int64)
    if rows.ndim != 2 or not BSR_GROUP <= rows.shape[1] <= 0xFFFF:
        return False
    return pairs_fit(rows)


def _bsr_padded(rows: np.ndarray) -> np.ndarray:
    units = rows.shape[0]
    w = np.zeros((-(-units // BSR_UNITS) * BSR_UNITS, rows.shape[1]), np.int64)
    w[:units] = rows
    return w


def bsr_pairs_blocks(rows: np.ndarray) -> list[list[int]]:
    """Per block of 4 units (the last one padded with zero units), the byte offsets of its kept
    4-input blocks, increasing: 4g for each group g of weight_formats.group_mask that holds a
    nonzero weight, then, where n % 4 != 0, n - 4 when the last n % 4 inputs hold one (that
    block overlaps the group before it; its weights there are stored as zeros, so that no input
    is read past the row)."""
    w = _bsr_padded(np.asarray(rows, np.int64))
    n = w.shape[1]
    g = n // BSR_GROUP
    nz = w.reshape(-1, BSR_UNITS, n) != 0
    full = nz[:, :, :g * BSR_GROUP].reshape(nz.shape[0], BSR_UNITS, g, BSR_GROUP).any(axis=(1, 3))
    tail = nz[:, :, g * BSR_GROUP:].any(axis=(1, 2))
    out = []
    for blk in range(nz.shape[0]):
        offs = [BSR_GROUP * int(k) for k in np.flatnonzero(full[blk])]
        if n % BSR_GROUP and tail[blk]:
            offs.append(n - BSR_GROUP)
        out.append(offs)
    return out


def encode_bsr_pairs(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index uint16, words uint32) of [units, n] int8 weights in the block-sparse unit-pair
    layout (tinyeit_kernels.h, tinyeit_fc_s8_bsr_pairs):
    - index: per block of 4 units, the count c of its kept blocks, then their byte offsets o
      (bsr_pairs_blocks);
    - words: per block of 4 units, per kept block at o, four words: units (0, 1) at inputs
      (o, o + 2), units (2, 3) at (o, o + 2), units (0, 1) at (o + 1, o + 3), units (2, 3) at
      (o + 1, o + 3); lane 0 (low half) the first input, each lane int16 a + 256 b (a the pair's
      first unit's weight, b the second's). Check bsr_pairs_fit first."""
    w = _bsr_padded(np.asarray(rows, np.int64))
    n = w.shape[1]
    n4 = n - n % BSR_GROUP
    index: list[int] = []
    words: list[np.ndarray] = []
    for blk, offs in enumerate(bsr_pairs_blocks(rows)):
        index.append(len(offs))
        index.extend(offs)
        ub = w[BSR_UNITS * blk:BSR_UNITS * (blk + 1)]
        for o in offs:
            cols = ub[:, o:o + BSR_GROUP].copy()
            if o % BSR_GROUP:          # the tail block: its inputs below n4 belong to a group
                cols[:, :n4 - o] = 0
            lane = lanes(cols[0::2], cols[1::2])                  # [pair, input]
            word = lane[:, 0:2] | (lane[:, 2:4] << 16)            # [pair, half h]: o+h, o+h+2
            words.append(word.T.reshape(-1))                      # half-major: h0p0 h0p1 h1p0 h1p1
    data = np.concatenate(words).astype(np.uint32) if words else np.zeros(0, np.uint32)
    return np.asarray(index, np.uint16), data


def bsr_pairs_bytes(index: np.ndarray, words: np.ndarray) -> int:
    """Flash bytes of the layout: the words and the index (as weight_formats counts them)."""
    return int(words.nbytes) + int(index.nbytes)


def bsr_pairs_macs(index: np.ndarray, units: int, batches: int = 1) -> int:
    """MACs the kernel executes: 16 per kept block (the units' padding included)."""
    kept = len(index) - -(-int(units) // BSR_UNITS)
    return batches * 16 * kept


def simulate_bsr_pairs(index: np.ndarray, words: np.ndarray, x: np.ndarray, units: int) -> np.ndarray:
    """The Cortex-M kernel's arithmetic on the layout (32-bit wrap-around; SMLAD of the raw
    words into R, of their SXTB16 into U; A = U, B = (R - U) >> 8): the int32 dot products per
    unit, for the tests."""
    x = np.asarray(x, np.int64).reshape(-1)
    wv = np.asarray(words, np.uint32).astype(np.int64)
    blocks = -(-int(units) // BSR_UNITS)
    out = np.zeros(blocks * BSR_UNITS, np.int64)
    i = k = 0
    idx = [int(v) for v in index]

    def s16(v):
        v &= 0xFFFF
        return v - 65536 if v >= 32768 else v

    def s8(v):
        v &= 0xFF
        return v - 256 if v >= 128 else v

    for blk in range(blocks):
        count, i = idx[i], i + 1
        acc = [0, 0, 0, 0]           # R01 U01 R23 U23
        for o in idx[i:i + count]:
            xa = (x[o], x[o + 2])
            xb = (x[o + 1], x[o + 3])
            for h, xv in ((0, xa), (1, xb)):
                for p in range(2):
                    word = int(wv[k + 2 * h + p])
                    raw = (s16(word), s16(word >> 16))
                    low = (s8(word), s8(word >> 16))
                    acc[2 * p] = _wrap(acc[2 * p] + raw[0] * xv[0] + raw[1] * xv[1])
                    acc[2 * p + 1] = _wrap(acc[2 * p + 1] + low[0] * xv[0] + low[1] * xv[1])
            k += 4
        i += count
        for p in range(2):
            out[BSR_UNITS * blk + 2 * p] = acc[2 * p + 1]
            out[BSR_UNITS * blk + 2 * p + 1] = _wrap(acc[2 * p] - acc[2 * p + 1]) >> 8
    return out[:units]
