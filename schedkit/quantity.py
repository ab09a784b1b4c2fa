"""Kubernetes ``resource.Quantity`` parsing, bit for bit as kube-apiserver / kube-scheduler v1.36.

Authority (kubernetes/kubernetes, ``staging/src/k8s.io/apimachinery/pkg/api/resource/``):

- ``quantity.go``  -- ``ParseQuantity``, ``parseQuantityString``, ``Value``, ``MilliValue``,
  ``ScaledValue`` and the three error texts;
- ``suffix.go``    -- the suffix table and the ``e<int>`` / ``E<int>`` exponent form;
- ``amount.go``, ``math.go``, ``scale_int.go`` -- how ``ScaledValue`` rounds on the two backends;
- ``quantity_test.go`` -- the parse tables transcribed in ``tests/test_quantity.py``.

This is an independent Python re-implementation of that behaviour (no Go code is copied).

Parsing
-------
``parse_quantity(text)`` returns the exact value as a ``Fraction``.  Like upstream:

* grammar: optional sign, digits with an optional ``.`` (``"5."``, ``".5"``, ``"1.G"`` are fine),
  then a suffix: ``n u m "" k M G T P E`` (decimal SI), ``Ki Mi Gi Ti Pi Ei`` (binary SI) or
  ``e<int64>`` / ``E<int64>`` (decimal exponent; ``"1E"`` alone is exa, ``"1e"`` is an error);
* suffixes are case sensitive (``"ki"``, ``"mi"``, ``"K"`` are errors); no whitespace anywhere;
* a non-zero value is rounded *away from zero* to a multiple of 1e-9 (``"0.1n"`` -> 1n,
  ``"-0.1n"`` -> -1n);
* a binary-SI value is capped at +/-(2**63-1) in magnitude (``"9Ei"``, ``"9223372036854775807Ki"``);
  decimal values are *not* capped (``"1e100"`` is 10**100);
* a few degenerate strings parse as zero because upstream's scanner allows an empty number:
  ``"."``, ``"-"``, ``"+"``, ``"-."``, ``"k"``, ``"m"``, ``"Ki"`` ... (but ``"Pi"``, ``"Ei"`` and
  ``"e-10"`` fail with "unable to parse numeric part", as upstream: they take the big-decimal path,
  which needs at least one digit);
* the ``e<int>`` exponent is parsed as int64 and then narrowed to int32 exactly as v1.36 does, so
  ``"1e4294967297"`` parses as 10.  (Upstream later rejects this, kubernetes#141203; that is after
  v1.36.)  An exponent outside int64 is an "unable to parse quantity's suffix" error.

Errors are ``QuantityError`` (a ``ValueError``) whose message is
``invalid quantity "<text>": <upstream error text>`` and whose ``.reason`` is one of
``ERR_FORMAT_WRONG``, ``ERR_NUMERIC``, ``ERR_SUFFIX`` (upstream's texts) or ``ERR_TOO_LARGE``.

Integer projections (``value`` = ``Quantity.Value()``, ``milli_value`` = ``Quantity.MilliValue()``)
---------------------------------------------------------------------------------------------------
For every non-negative quantity both are plain ceilings: ``value`` = ceil(q), ``milli_value`` =
ceil(q * 1000).  ``"0.1m"`` -> milli 1, memory ``"1.5"`` -> value 2.

Negative quantities: v1.36 is *not* "ceil" and not even consistent.  ``ParseQuantity`` stores a value
either as an int64 mantissa with a base-10 scale (short decimal inputs, small binary ones) or as an
``inf.Dec`` (everything else), and ``ScaledValue`` rounds differently on each:

* int64 backend (e.g. ``"-1.5"``, ``"-1n"``, ``"-100m"``): rounds away from zero
  (``value("-1.5") == -2``);
* inf.Dec backend with |unscaled nanos| < 2**63-1 (e.g. ``"-1.1Ki"``, ``"-0.0000000001"``):
  truncates toward zero and then adds 1 when inexact, i.e. ceil + 1
  (``value("-1.1Ki") == -1125``, ``value("-0.0000000001") == 1``, ``milli_value`` of it also 1);
* inf.Dec backend with larger magnitudes (e.g. ``"-9.5000000001Gi"``): floor + 1 when inexact,
  i.e. ceil (``value == -10200547328``).

For ``str`` input this module reproduces exactly that (it tracks which backend upstream would use).
A ``Fraction``/``int`` carries no backend, so for those negative values round away from zero (the
int64-backend rule, and the rule upstream settled on after v1.36 in kubernetes#138510).

Overflow (deliberate, documented deviation)
-------------------------------------------
v1.36 wraps silently when ``Value()``/``MilliValue()`` do not fit int64 (``MilliValue`` of
``"9223372036854775807"`` or ``"8Ei"`` is -1000, of ``"1E"`` or ``"1e100"`` is 0).  Garbage like that
would let an absurd request fit anywhere, so here both functions **saturate** at
``MAX_INT64`` / ``MIN_INT64`` (the sign-correct rail), which is also what upstream adopted after
v1.36 (kubernetes#141166 / #141305).  Values that fit are unaffected.

Inputs whose magnitude reaches 10**MAX_MAGNITUDE_DIGITS (e.g. ``"1e2000000000"``; upstream accepts
it) cannot be held as an exact ``Fraction`` in reasonable memory, so every function raises
``QuantityError`` with reason ``ERR_TOO_LARGE`` ("quantity too large") for them.  Magnitudes below
1n never need large numbers (they round to 1n), so ``"1e-2147483647"`` parses fine, as 1n.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "ERR_FORMAT_WRONG",
    "ERR_NUMERIC",
    "ERR_SUFFIX",
    "ERR_TOO_LARGE",
    "MAX_INT64",
    "MAX_MAGNITUDE_DIGITS",
    "MIN_INT64",
    "QuantityError",
    "cpu_millis",
    "milli_value",
    "parse_quantity",
    "to_int_for_resource",
    "value",
]

MAX_INT64 = (1 << 63) - 1
MIN_INT64 = -(1 << 63)

# Upstream's splitREString, quoted verbatim in ErrFormatWrong.
SPLIT_RE_STRING = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT_WRONG = "quantities must match the regular expression '" + SPLIT_RE_STRING + "'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"
ERR_TOO_LARGE = "quantity too large"

# |q| >= 10**MAX_MAGNITUDE_DIGITS is refused (see module docstring).
MAX_MAGNITUDE_DIGITS = 10_000

_DIGITS = frozenset("0123456789")
_SUFFIX_LETTERS = frozenset("eEinumkKMGTP")

# suffix.go: decimal SI (base 10) and binary SI (base 2) tables.
_DECIMAL_SUFFIXES = {"": 0, "n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}

_DECIMAL_SI = "DecimalSI"
_BINARY_SI = "BinarySI"
_DECIMAL_EXPONENT = "DecimalExponent"

# math.go maxInt64Factors in v1.36 (18; raised to 19 only after v1.36).
_MAX_INT64_FACTORS = 18
_NANO = -9
_NANOS_PER_UNIT = 10**9

QuantityLike = str | int | Fraction


class QuantityError(ValueError):
    """A string (or value) that upstream's ``ParseQuantity`` rejects.

    ``str(err)`` is ``invalid quantity "<text>": <reason>``; ``.text`` is the offending input and
    ``.reason`` the bare upstream error text (``ERR_FORMAT_WRONG``, ``ERR_NUMERIC``, ``ERR_SUFFIX``)
    or ``ERR_TOO_LARGE`` / a type complaint.
    """

    def __init__(self, text: object, reason: str):
        self.text = text
        self.reason = reason
        super().__init__(f"invalid quantity {_shown(text)}: {reason}")


def _shown(text: object) -> str:
    """The input as the message shows it: Go-style double quotes for strings."""
    if isinstance(text, str):
        return json.dumps(text, ensure_ascii=False)
    if isinstance(text, (int, Fraction)) and abs(text) >= 10**4000:
        return f"<{type(text).__name__} of {abs(text).numerator.bit_length()} bits>"
    return repr(text)


def _wrap32(n: int) -> int:
    """Go's int32 conversion / int32 arithmetic wrap-around."""
    return ((n + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _clamp64(n: int) -> int:
    return min(max(n, MIN_INT64), MAX_INT64)


def _digits_to_int(digits: str) -> int:
    """int() of an ASCII digit string of any length (CPython limits int(str) to 4300 digits)."""
    if len(digits) <= 4000:
        return int(digits) if digits else 0
    result = 0
    for start in range(0, len(digits), 4000):
        chunk = digits[start : start + 4000]
        result = result * 10 ** len(chunk) + int(chunk)
    return result


def _significant_digits(digits: str) -> int:
    """Number of digits of the integer spelled by ``digits`` (0 for zero)."""
    return len(digits.lstrip("0"))


def _go_parse_int64(text: str) -> int | None:
    """strconv.ParseInt(text, 10, 64): optional sign, ASCII digits, int64 range; else None."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or any(c not in _DIGITS for c in body):
        return None
    if _significant_digits(body) > 19:
        return None
    n = int(body)
    if text[:1] == "-":
        n = -n
    return n if MIN_INT64 <= n <= MAX_INT64 else None


# --------------------------------------------------------------------------------------------------
# scanner (parseQuantityString)


def _scan(text: str) -> tuple[bool, str, str, str, str]:
    """Split ``text`` into (positive, value, num, denom, suffix) the way upstream's scanner does.

    ``num`` has leading zeros stripped ("0" when empty); ``value`` is the numeric prefix as written
    (sign included), which upstream hands to inf.Dec on its slow path.
    """
    positive = True
    pos = 0
    end = len(text)
    if end and text[0] in "+-":
        positive = text[0] == "+"
        pos = 1

    i = pos
    while i < end and text[i] == "0":
        i += 1
    if i >= end:  # nothing but sign and zeros
        return positive, "0", "0", "", ""
    pos = i

    while i < end and text[i] in _DIGITS:
        i += 1
    if i >= end:
        return positive, text, text[pos:], "", ""
    num = text[pos:i] or "0"
    pos = i

    denom = ""
    if text[pos] == ".":
        pos += 1
        i = pos
        while i < end and text[i] in _DIGITS:
            i += 1
        if i >= end:
            return positive, text, num, text[pos:], ""
        denom = text[pos:i]
        pos = i
    value = text[:pos]

    suffix_start = pos
    i = pos
    while i < end and text[i] in _SUFFIX_LETTERS:
        i += 1
    if i >= end:
        return positive, value, num, denom, text[suffix_start:]
    pos = i
    if text[pos] in "+-":
        pos += 1
    i = pos
    while i < end and text[i] in _DIGITS:
        i += 1
    if i >= end:
        return positive, value, num, denom, text[suffix_start:]
    raise QuantityError(text, ERR_FORMAT_WRONG)


def _interpret(text: str, suffix: str) -> tuple[int, int, str]:
    """suffix.go interpret: (base, exponent, format)."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], _DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], _BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        parsed = _go_parse_int64(suffix[1:])
        if parsed is None:
            raise QuantityError(text, ERR_SUFFIX)
        return 10, _wrap32(parsed), _DECIMAL_EXPONENT
    raise QuantityError(text, ERR_SUFFIX)


# --------------------------------------------------------------------------------------------------
# ParseQuantity


@dataclass(frozen=True)
class _Parsed:
    """A parsed quantity and the backend upstream would hold it in.

    int64 backend: value == unscaled * 10**scale (scale is upstream's base-10 ``Scale``).
    dec backend:   value == unscaled / 10**scale (scale is the ``inf.Scale``: 9, or 0 when capped).
    """

    value: Fraction
    dec: bool
    unscaled: int
    scale: int


_ZERO = _Parsed(Fraction(0), False, 0, 0)


def _too_large(text: object) -> QuantityError:
    return QuantityError(text, ERR_TOO_LARGE)


def _parse(text: str) -> _Parsed:
    if text == "":
        raise QuantityError(text, ERR_FORMAT_WRONG)
    if text == "0":
        return _ZERO

    positive, value_str, num, denom, suffix = _scan(text)
    base, exponent, fmt = _interpret(text, suffix)
    sign = 1 if positive else -1

    # Fast path: the value fits an int64 mantissa with a base-10 scale >= -9.
    mantissa = 1
    if fmt == _BINARY_SI:
        scale = 0
        if exponent >= 0 and not denom:
            mantissa = 1 << exponent
            precision = 15 - len(num) - (exponent * 3) // 10 - 1
        else:
            precision = -1
    else:
        scale = exponent
        precision = _MAX_INT64_FACTORS - (len(num) + len(denom))

    if precision >= 0:
        scale = _wrap32(scale - len(denom))
        if scale >= _NANO:
            shifted = int(num + denom)  # at most 18 digits here: always a valid int64
            result = shifted * mantissa
            if MIN_INT64 <= result <= MAX_INT64:
                result *= sign
                if result == 0:
                    return _ZERO
                if _significant_digits(str(abs(result))) + scale > MAX_MAGNITUDE_DIGITS:
                    raise _too_large(text)
                exact = Fraction(result * 10**scale) if scale >= 0 else Fraction(result, 10**-scale)
                return _Parsed(exact, False, result, scale)

    # Slow path: arbitrary-precision decimal (inf.Dec), rounded up to nano.
    if not any(c in _DIGITS for c in value_str):
        raise QuantityError(text, ERR_NUMERIC)  # inf.Dec.SetString: "no digits read"
    digits = num + denom
    ndigits = _significant_digits(digits)
    if ndigits == 0:
        return _Parsed(Fraction(0), True, 0, 0)

    if base == 10:
        # inf.Dec scale after SetString is len(denom); the suffix shifts it (int32 arithmetic).
        exp10 = -_wrap32(len(denom) + _wrap32(-exponent))
        if ndigits + exp10 > MAX_MAGNITUDE_DIGITS:
            raise _too_large(text)
        shift = exp10 + 9  # value in nanos == digits * 10**shift
        significant = digits.lstrip("0")
        if shift >= 0:
            nanos = _digits_to_int(significant) * 10**shift
        else:
            # ceil(digits / 10**-shift): keep the whole-nano digits, round up if anything is cut off.
            keep = len(significant) + shift
            if keep <= 0:
                nanos = 1  # 0 < |value| < 1n: rounds up to the minimum unit
            else:
                nanos = _digits_to_int(significant[:keep]) + (1 if significant[keep:].strip("0") else 0)
    else:
        # binary SI: digits * 2**exponent / 10**len(denom), then capped at MaxInt64.
        if ndigits - len(denom) > 40:  # certainly above 2**63 - 1 even before the 2**exponent
            nanos = MAX_INT64 * _NANOS_PER_UNIT + 1
        else:
            numerator = _digits_to_int(digits) * (1 << exponent) * _NANOS_PER_UNIT
            nanos = -(-numerator // 10 ** len(denom))
        if nanos > MAX_INT64 * _NANOS_PER_UNIT:
            return _Parsed(Fraction(sign * MAX_INT64), True, sign * MAX_INT64, 0)

    unscaled = sign * nanos
    return _Parsed(Fraction(unscaled, _NANOS_PER_UNIT), True, unscaled, 9)


def _reject_type(value: object) -> QuantityError:
    kind = type(value).__name__
    return QuantityError(value, f"a quantity must be a string or an int, not {kind}")


def parse_quantity(text: str | int) -> Fraction:
    """The exact value of a Kubernetes quantity string, as upstream ``ParseQuantity`` computes it.

    ``int`` input is taken as exact.  ``float``, ``bool`` and anything else raise ``QuantityError``
    (a float has already lost the decimal the user wrote).  Whitespace is never accepted.
    """
    if isinstance(text, str):
        return _parse(text).value
    if isinstance(text, int) and not isinstance(text, bool):
        if abs(text) >= _MAGNITUDE_LIMIT:
            raise _too_large(text)
        return Fraction(text)
    raise _reject_type(text)


_MAGNITUDE_LIMIT = 10**MAX_MAGNITUDE_DIGITS


# --------------------------------------------------------------------------------------------------
# Value / MilliValue (ScaledValue)


def _scaled_from_parsed(parsed: _Parsed, target: int) -> int:
    """ScaledValue(target) with v1.36 rounding on the right backend, saturated to int64."""
    u = parsed.unscaled
    if u == 0:
        return 0
    if not parsed.dec:
        # int64Amount.AsScaledInt64: away from zero when scaling down, exact multiply when up.
        if parsed.scale < target:
            k = target - parsed.scale
            q = -(-abs(u) // 10**k)
            return q if u > 0 else -q
        k = parsed.scale - target
        if k >= 19:  # |u| >= 1, so |u| * 10**19 is past int64 on either side
            return MAX_INT64 if u > 0 else MIN_INT64
        return _clamp64(u * 10**k)

    # scaledValue(unscaled, scale, newScale) in scale_int.go; newScale = -target.
    dif = parsed.scale + target
    if dif == 0:
        return _clamp64(u)
    if dif < 0:
        return _clamp64(u * 10**-dif)
    divisor = 10**dif
    if abs(u) < MAX_INT64 and dif < 19:
        q = abs(u) // divisor * (1 if u > 0 else -1)  # Go's truncating division
        remainder = u - q * divisor
    else:
        q, remainder = divmod(u, divisor)  # big.Int.DivMod: Euclidean (floor for divisor > 0)
    return _clamp64(q + 1 if remainder else q)


def _scaled_from_fraction(q: Fraction, target: int) -> int:
    scaled = q * Fraction(10) ** (-target)
    magnitude = -(-abs(scaled.numerator) // scaled.denominator)
    return _clamp64(magnitude if scaled >= 0 else -magnitude)


def _scaled(quantity: QuantityLike, target: int) -> int:
    if isinstance(quantity, str):
        return _scaled_from_parsed(_parse(quantity), target)
    if isinstance(quantity, Fraction) or (isinstance(quantity, int) and not isinstance(quantity, bool)):
        if abs(quantity) >= _MAGNITUDE_LIMIT:
            raise _too_large(quantity)
        return _scaled_from_fraction(Fraction(quantity), target)
    raise _reject_type(quantity)


def value(quantity: QuantityLike) -> int:
    """``Quantity.Value()``: ceil for non-negative values; see the module docstring for negatives.

    Saturates at MAX_INT64 / MIN_INT64 instead of wrapping.
    """
    return _scaled(quantity, 0)


def milli_value(quantity: QuantityLike) -> int:
    """``Quantity.MilliValue()``: ceil(q * 1000) for non-negative values; saturating like ``value``."""
    return _scaled(quantity, -3)


def cpu_millis(quantity: QuantityLike) -> int:
    """A cpu quantity in millicores (``MilliValue``), as the scheduler reads cpu."""
    return milli_value(quantity)


def to_int_for_resource(resource_name: str, quantity: QuantityLike) -> int:
    """The integer kube-scheduler works with: millicores for ``cpu``, ``Value()`` for the rest.

    The one conversion production uses (``objects.py``: node allocatable, pod requests and their
    scoring defaults), as upstream's ``Resource.SetMaxResource`` applies it to a pod's summed requests.
    """
    if resource_name == "cpu":
        return milli_value(quantity)
    return value(quantity)
