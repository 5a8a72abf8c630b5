"""Generation-time integer math that must equal TFLite's reference kernels bit for bit.

Everything here runs in Python at generation time; its results become constants in the C.
The rules follow TFLite's published quantization specification: real = scale * (q - zero
point); multipliers are stored as a Q31 mantissa and a power-of-two shift (QuantizeMultiplier);
requantization uses gemmlowp's double rounding. gemmlowp's fixed-point exp, logistic and tanh
are emulated here exactly (Python integers) so that elementwise int8 ops become 256-entry
tables and softmax needs only a per-row reciprocal on the board.
"""
from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def _round_half_away(x: float) -> int:
    """std::round / TfLiteRound: halves go away from zero (Python's round() does not)."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """(Q31 multiplier, shift) with real == m * 2**(shift-31), as TFLite's QuantizeMultiplier."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = _round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return int(q_fixed), int(shift)


def quantize_multiplier_greater_than_one(real: float) -> tuple[int, int]:
    """QuantizeMultiplierGreaterThanOne: same as QuantizeMultiplier, shift is a left shift."""
    m, s = quantize_multiplier(real)
    return m, s


def f32(x) -> float:
    return float(np.float32(x))


def activation_range(act: str, scale: float, zero_point: int,
                     qmin: int = -128, qmax: int = 127) -> tuple[int, int]:
    """CalculateActivationRangeQuantized: fused activation bounds in the output's int domain."""
    def quant(f: float) -> int:
        return zero_point + _round_half_away(f32(f32(f) / f32(scale)))

    if act == "NONE":
        return qmin, qmax
    if act == "RELU":
        return max(qmin, quant(0.0)), qmax
    if act == "RELU6":
        return max(qmin, quant(0.0)), min(qmax, quant(6.0))
    if act == "RELU_N1_TO_1":
        return max(qmin, quant(-1.0)), min(qmax, quant(1.0))
    raise ValueError(act)


# ---- gemmlowp fixed point, emulated on Python ints (int32 wrap-around where C wraps) ----

def _wrap32(x: int) -> int:
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def srdhm(a: int, b: int) -> int:
    """SaturatingRoundingDoublingHighMul."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    v = ab + nudge
    q = abs(v) >> 31  # C division truncates toward zero
    return q if v >= 0 else -q


def rdbpot(x: int, exponent: int) -> int:
    """RoundingDivideByPOT."""
    if exponent == 0:
        return x
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def mbqm(x: int, multiplier: int, shift: int) -> int:
    """MultiplyByQuantizedMultiplier with double rounding."""
    left = shift if shift > 0 else 0
    right = 0 if shift > 0 else -shift
    return rdbpot(srdhm(_wrap32(x * (1 << left)), multiplier), right)


def _sat_shift_left(x: int, e: int) -> int:
    """SaturatingRoundingMultiplyByPOT with positive exponent."""
    v = x * (1 << e)
    return max(INT32_MIN, min(INT32_MAX, v))


def _mul_pot(x: int, e: int) -> int:
    return _sat_shift_left(x, e) if e > 0 else rdbpot(x, -e)


def _exp_quarter(a: int) -> int:
    """exp(x) for x in [-1/4, 0), Q0.31 in and out."""
    constant_term = 1895147668
    one_third = 715827883
    x = _wrap32(a + (1 << 28))
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rdbpot(x4, 2)
    inner = rdbpot(_wrap32(srdhm(_wrap32(x4_over_4 + x3), one_third) + x2), 1)
    return _wrap32(constant_term + srdhm(constant_term, _wrap32(x + inner)))


def exp_on_negative_values(a: int, integer_bits: int) -> int:
    """gemmlowp exp_on_negative_values for a FixedPoint<int32, integer_bits>; returns Q0.31."""
    frac = 31 - integer_bits
    one_quarter = 1 << (frac - 2)
    mask = one_quarter - 1
    a_mod = _wrap32((a & mask) - one_quarter)
    result = _exp_quarter(_mul_pot(a_mod, integer_bits))
    remainder = _wrap32(a_mod - a)
    for exponent, mult in ((-2, 1672461947), (-1, 1302514674), (0, 790015084),
                           (1, 290630308), (2, 39332535), (3, 720401), (4, 242)):
        if integer_bits > exponent:
            if remainder & (1 << (frac + exponent)):
                result = srdhm(result, mult)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))
        if a < clamp:
            result = 0
    if a == 0:
        result = INT32_MAX
    return result


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, diff_min) as TFLite's reference softmax Prepare."""
    integer_bits = 5
    real = min(beta * input_scale * (1 << (31 - integer_bits)), float((1 << 31) - 1))
    mult, shift = quantize_multiplier_greater_than_one(real)
    radius = math.floor(((1 << integer_bits) - 1) * (1 << (31 - integer_bits)) / (1 << shift))
    return mult, shift, -radius


def softmax_exp_table(beta: float, input_scale: float) -> tuple[list[int], list[int], int]:
    """For diff = 0, -1, ..., -255: exp in Q0.31 and its Q12.19 rescale (0 below diff_min)."""
    mult, shift, diff_min = softmax_params(beta, input_scale)
    exps, accs = [], []
    for d in range(256):
        diff = -d
        if diff >= diff_min:
            scaled = srdhm(_wrap32(diff * (1 << shift)), mult)
            e = exp_on_negative_values(scaled, 5)
            exps.append(e)
            accs.append(rdbpot(e, 12))
        else:
            exps.append(0)
            accs.append(0)
    return exps, accs, diff_min
