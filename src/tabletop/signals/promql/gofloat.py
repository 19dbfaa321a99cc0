"""Go's float64 arithmetic and formatting, where Python's differs (Prometheus is written in Go).

Python raises on division by zero, domain errors and overflow, where Go returns NaN or ±Inf;
Python's ``math.floor`` returns an int; Python prints ``inf`` where Go prints ``+Inf``; logarithms
and exponentials come from ``gomath`` (C's libm rounds differently from Go's).
"""

from __future__ import annotations

import math
import re

from tabletop.signals.promql import gomath

NAN = math.nan
INF = math.inf
# Go evaluates constant expressions exactly, then rounds: 1/Ln2 and 1/Ln10 as float64.
_INV_LN2 = float("1.44269504088896340735992468100189213742664595415298593413544940693110921918118507988552662")
_INV_LN10 = float("0.43429448190325182765112891891660508229439700580366656611445378316586464920887077472922494")


def div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return NAN
        return INF if (a > 0) == (math.copysign(1.0, b) > 0) else -INF


def mod(a: float, b: float) -> float:
    try:
        return math.fmod(a, b)
    except ValueError:
        return NAN


def _odd_integer(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and math.fmod(y, 2.0) != 0


def pow_(x: float, y: float) -> float:
    """Go's ``math.Pow``, ported: its own algorithm, so results agree to the last bit."""
    if y == 0 or x == 1:
        return 1.0
    if y == 1:
        return x
    if x != x or y != y:
        return NAN
    if x == 0:
        negative_zero = math.copysign(1.0, x) < 0
        if y < 0:
            return -INF if negative_zero and _odd_integer(y) else INF
        return x if negative_zero and _odd_integer(y) else 0.0
    if math.isinf(y):
        if x == -1:
            return 1.0
        return 0.0 if (abs(x) < 1) == (y > 0) else INF
    if math.isinf(x):
        if x < 0:
            return pow_(1 / x, -y)  # Pow(-0, -y)
        return 0.0 if y < 0 else INF
    if y == 0.5:
        return math.sqrt(x) if x >= 0 else NAN
    if y == -0.5:
        return div(1.0, math.sqrt(x)) if x >= 0 else NAN
    yf, yi = math.modf(abs(y))
    if yf != 0 and x < 0:
        return NAN
    if yi >= 2.0**63:  # a huge even integer: overflow or underflow, except for x == -1
        if x == -1:
            return 1.0
        return 0.0 if (abs(x) < 1) == (y > 0) else INF
    a1 = 1.0  # the answer is a1 * 2**ae
    ae = 0
    if yf != 0:
        if yf > 0.5:
            yf -= 1
            yi += 1
        a1 = gomath.exp(yf * gomath.log(x))
    x1, xe = math.frexp(x)
    i = int(yi)
    while i != 0:
        if xe < -(1 << 12) or (1 << 12) < xe:
            ae += xe  # catastrophic overflow: let ldexp handle it
            break
        if i & 1:
            a1 *= x1
            ae += xe
        x1 *= x1
        xe <<= 1
        if x1 < 0.5:
            x1 += x1
            xe -= 1
        i >>= 1
    if y < 0:
        a1 = 1 / a1
        ae = -ae
    try:
        return math.ldexp(a1, ae)
    except OverflowError:
        return math.copysign(INF, a1)


def floor(x: float) -> float:
    if not math.isfinite(x) or x == 0:
        return x
    return float(math.floor(x))


def ceil(x: float) -> float:
    if not math.isfinite(x) or x == 0:
        return x
    result = float(math.ceil(x))
    return -0.0 if result == 0 and x < 0 else result


def sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else NAN


exp = gomath.exp
ln = gomath.log


def log2(x: float) -> float:
    if not x > 0 or math.isinf(x):
        return ln(x)
    frac, exponent = math.frexp(x)
    if frac == 0.5:  # exact powers of two give exact answers
        return float(exponent - 1)
    return ln(frac) * _INV_LN2 + exponent


def log10(x: float) -> float:
    return ln(x) * _INV_LN10


def sgn(x: float) -> float:
    if x < 0:
        return -1.0
    if x > 0:
        return 1.0
    return x


def fmax(a: float, b: float) -> float:
    """Go's ``math.Max``: NaN wins."""
    if a != a or b != b:
        return NAN
    return a if a > b else b


def fmin(a: float, b: float) -> float:
    """Go's ``math.Min``: NaN wins."""
    if a != a or b != b:
        return NAN
    return a if a < b else b


_GO_FLOAT = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)", re.IGNORECASE
)


def parse_float(text: str) -> float | None:
    """``text`` as Go's ``strconv.ParseFloat`` reads a decimal number; None if it is not one."""
    if _GO_FLOAT.fullmatch(text) is None:
        return None
    return float(text)


def _digits(x: float) -> tuple[str, int]:
    """Shortest decimal digits of ``|x|`` (finite, non-zero) and the point: ``0.DIGITS × 10**point``."""
    mantissa, _, exponent = repr(abs(x)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    significant = digits.lstrip("0")
    point -= len(digits) - len(significant)
    return significant.rstrip("0"), point


def _special(x: float) -> str | None:
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    return None


def format_f(x: float) -> str:
    """``strconv.FormatFloat(x, 'f', -1, 64)``: shortest digits, never an exponent."""
    special = _special(x)
    if special is not None:
        return special
    digits, point = _digits(x)
    if point <= 0:
        text = "0." + "0" * -point + digits
    elif point >= len(digits):
        text = digits + "0" * (point - len(digits))
    else:
        text = digits[:point] + "." + digits[point:]
    return "-" + text if x < 0 else text


def format_v(x: float) -> str:
    """Go's ``%v`` of a float64 (``strconv.FormatFloat(x, 'g', -1, 64)``), e.g. ``1e+06``, ``0.25``."""
    special = _special(x)
    if special is not None:
        return special
    digits, point = _digits(x)
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        text = f"{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    else:
        text = format_f(abs(x))
    return "-" + text if x < 0 else text


def format_verb(x: float, spec: str) -> str:
    """``x`` formatted with a printf spec such as ``.2f`` or ``.4g``; ±Inf and NaN the way Go prints them."""
    if math.isfinite(x):
        return ("%" + spec) % x
    flags = spec[: len(spec) - len(spec.lstrip("+- #0"))]
    if x != x:
        return ("+" if "+" in flags else " " if " " in flags else "") + "NaN"
    if x > 0:
        return (" " if " " in flags and "+" not in flags else "+") + "Inf"
    return "-Inf"
