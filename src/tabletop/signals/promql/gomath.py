"""Go's ``math.Log``, ``math.Exp`` and ``math.Atan2`` as Prometheus runs them on amd64, ported
operation for operation so that results agree to the last bit (C's libm rounds differently).

``log`` follows ``log_amd64.s`` (the FreeBSD algorithm, no fused operations); ``exp`` follows
``exp_amd64.s`` on a CPU with AVX2 and FMA (every x86-64 CPU since 2013), where Go uses fused
multiply-adds; ``atan2`` is Go's portable code (Cephes).
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction

NAN = math.nan
INF = math.inf
_PI = Fraction("3.14159265358979323846264338327950288419716939937510582097494459")
_HALF_PI = float(_PI / 2)
_QUARTER_PI = float(_PI / 4)
_THREE_QUARTER_PI = float(3 * _PI / 4)


def _fma(a: float, b: float, c: float) -> float:
    """``a * b + c`` rounded once (all finite)."""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


fma = getattr(math, "fma", _fma)


def _bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def _float(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits & 0xFFFFFFFFFFFFFFFF))[0]


# -- log ----------------------------------------------------------------------------------------
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_L1, _L2, _L3, _L4 = 6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01, 2.222219843214978396e-01
_L5, _L6, _L7 = 1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01
_HALF_SQRT2 = 7.07106781186547524401e-01


def log(x: float) -> float:
    bits = _bits(x)
    if bits & ~(1 << 63) == 0:
        return -INF
    if bits >> 63:
        return NAN
    if x != x or x == INF:
        return x
    f1 = _float((bits & 0x000FFFFFFFFFFFFF) | 0x3FE0000000000000)  # the assembly's Frexp
    k = float(((bits >> 52) & 0x7FF) - 0x3FE)
    if f1 < _HALF_SQRT2:
        k -= 1.0
        f1 *= 2.0
    f = f1 - 1.0
    s = f / (2.0 + f)
    s2 = s * s
    s4 = s2 * s2
    t1 = s2 * (_L1 + s4 * (_L3 + s4 * (_L5 + s4 * _L7)))
    t2 = s4 * (_L2 + s4 * (_L4 + s4 * _L6))
    r = t1 + t2
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + r) + k * _LN2_LO)) - f)


# -- exp ----------------------------------------------------------------------------------------
_LOG2E = 1.4426950408889634073599246810018920
_LN2U = 0.69314718055966295651160180568695068359375
_LN2L = 0.28235290563031577122588448175013436025525412068e-12
_OVERFLOW = 7.09782712893384e02
_TAYLOR = (2.4801587301587301587e-5, 1.9841269841269841270e-4, 1.3888888888888888889e-3,
           8.3333333333333333333e-3, 4.1666666666666666667e-2, 1.6666666666666666667e-1, 0.5, 1.0)  # fmt: skip


def _round_int32(v: float) -> int:
    """CVTSD2SL: round half to even; out of range gives the "integer indefinite" -2**31."""
    if v != v or not -(2.0**31) <= round(v) < 2.0**31:
        return -(2**31)
    return round(v)


def exp(x: float) -> float:
    if x != x or x == INF:
        return x
    if x == -INF:
        return 0.0
    if x > _OVERFLOW:
        return INF
    n = _round_int32(_LOG2E * x)
    k = float(n)
    r = fma(-_LN2U, k, x)
    r = fma(-_LN2L, k, r) * 0.0625
    p = _TAYLOR[0]
    for c in _TAYLOR[1:]:
        p = fma(p, r, c)
    y = r * p
    for _ in range(3):
        y = y * (y + 2.0)
    y = fma(y, y + 2.0, 1.0)  # (1 + r)**16, the reduction by 1/16 undone
    biased = n + 0x3FF
    if biased >= 0x7FF:
        return INF
    if biased > 0:
        return y * _float(biased << 52)
    if biased < -52:
        return 0.0
    return y * _float((biased + 0x3FE) << 52) * _float(1 << 52)


# -- atan2 --------------------------------------------------------------------------------------
_P = (-8.750608600031904122785e-01, -1.615753718733365076637e01, -7.500855792314704667340e01,
      -1.228866684490136173410e02, -6.485021904942025371773e01)  # fmt: skip
_Q = (2.485846490142306297962e01, 1.650270098316988542046e02, 4.328810604912902668951e02,
      4.853903996359136964868e02, 1.945506571482613964425e02)  # fmt: skip
_MOREBITS = 6.123233995736765886130e-17
_TAN_3PI_8 = 2.41421356237309504880


def _xatan(x: float) -> float:
    z = x * x
    z = z * ((((_P[0] * z + _P[1]) * z + _P[2]) * z + _P[3]) * z + _P[4]) / (
        ((((z + _Q[0]) * z + _Q[1]) * z + _Q[2]) * z + _Q[3]) * z + _Q[4])
    return x * z + x


def _satan(x: float) -> float:
    if x <= 0.66:
        return _xatan(x)
    if x > _TAN_3PI_8:
        return _HALF_PI - _xatan(1 / x) + _MOREBITS
    return _QUARTER_PI + _xatan((x - 1) / (x + 1)) + 0.5 * _MOREBITS


def atan(x: float) -> float:
    if x == 0 or x != x:
        return x
    return _satan(x) if x > 0 else -_satan(-x)


def atan2(y: float, x: float) -> float:
    if x != x or y != y:
        return NAN
    if y == 0:
        return math.copysign(0.0 if x >= 0 and math.copysign(1.0, x) > 0 else math.pi, y)
    if x == 0:
        return math.copysign(_HALF_PI, y)
    if math.isinf(x):
        if x > 0:
            return math.copysign(_QUARTER_PI if math.isinf(y) else 0.0, y)
        return math.copysign(_THREE_QUARTER_PI if math.isinf(y) else math.pi, y)
    if math.isinf(y):
        return math.copysign(_HALF_PI, y)
    q = atan(y / x)
    if x < 0:
        return q + math.pi if q <= 0 else q - math.pi
    return q
