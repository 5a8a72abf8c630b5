"""Static arena planning: buffers whose lifetimes do not overlap share memory.

Each buffer lives from the op that first writes it to the op that last reads it (inclusive).
Offsets are chosen by first-fit over several orderings (largest first, earliest first, longest
lived first, then seeded random orders until the bound is met) and the smallest arena wins. `peak_live_bytes` is the lower bound no plan can beat:
the largest sum of sizes of buffers alive at one op.
"""
from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass
class Buffer:
    key: object
    size: int
    first: int
    last: int
    align: int = 1
    offset: int = -1


def _overlaps(a: Buffer, b: Buffer) -> bool:
    return not (a.last < b.first or b.last < a.first)


def _first_fit(buffers: list[Buffer], order: list[int]) -> tuple[int, list[int]]:
    placed: list[Buffer] = []
    offsets = [0] * len(buffers)
    for i in order:
        buf = buffers[i]
        conflicts = sorted((p for p in placed if _overlaps(p, buf)), key=lambda p: p.offset)
        offset = 0
        for p in conflicts:
            aligned = -(-offset // buf.align) * buf.align
            if aligned + buf.size <= p.offset:
                break
            offset = max(offset, p.offset + p.size)
        offset = -(-offset // buf.align) * buf.align
        placed.append(Buffer(buf.key, buf.size, buf.first, buf.last, buf.align, offset))
        offsets[i] = offset
    end = max((offsets[i] + buffers[i].size for i in range(len(buffers))), default=0)
    return end, offsets


def peak_live_bytes(buffers: list[Buffer]) -> int:
    """Largest sum of sizes of buffers live at the same op: no arena can be smaller."""
    if not buffers:
        return 0
    steps = range(min(b.first for b in buffers), max(b.last for b in buffers) + 1)
    return max(sum(b.size for b in buffers if b.first <= t <= b.last) for t in steps)


def plan(buffers: list[Buffer]) -> int:
    """Set every buffer's offset; returns the arena size in bytes."""
    n = len(buffers)
    idx = list(range(n))
    orders = [
        sorted(idx, key=lambda i: (-buffers[i].size, buffers[i].first, i)),
        sorted(idx, key=lambda i: (buffers[i].first, -buffers[i].size, i)),
        sorted(idx, key=lambda i: (-(buffers[i].last - buffers[i].first), -buffers[i].size, i)),
    ]
    bound = peak_live_bytes(buffers)
    rng = random.Random(0)  # fixed seed: same model, same plan
    for _ in range(400):
        order = idx[:]
        rng.shuffle(order)
        orders.append(order)
    best = None
    for order in orders:
        end, offsets = _first_fit(buffers, order)
        if best is None or end < best[0]:
            best = (end, offsets)
        if best[0] <= bound:
            break
    end, offsets = best if best else (0, [])
    for buf, off in zip(buffers, offsets):
        buf.offset = off
    return end
