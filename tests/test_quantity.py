"""Tests for schedkit.quantity against upstream resource.Quantity (kubernetes v1.36).

Tables marked "upstream" are facts transcribed from
staging/src/k8s.io/apimachinery/pkg/api/resource/quantity_test.go (TestQuantityParse,
TestParseQuantityString, TestQuantityParseEmit, TestQuantityString) and the v1.36 sources
(quantity.go, suffix.go, scale_int.go, amount.go, math.go): input -> exact value.

The last section proves production (``objects.parse_node`` / ``parse_pod``) converts with this module.
"""

from __future__ import annotations

import math
import string
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schedkit import objects, quantity
from schedkit.objects import DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, parse_node, parse_pod
from schedkit.quantity import (
    ERR_FORMAT_WRONG,
    ERR_NUMERIC,
    ERR_SUFFIX,
    ERR_TOO_LARGE,
    MAX_INT64,
    MIN_INT64,
    QuantityError,
    _scan,
    cpu_millis,
    milli_value,
    parse_quantity,
    to_int_for_resource,
    value,
)

F = Fraction
KI, MI, GI, TI, PI, EI = (1024**n for n in range(1, 7))


def dec(mantissa: int, exponent: int) -> Fraction:
    """upstream's decQuantity(mantissa, exponent, _): mantissa * 10**exponent."""
    return F(mantissa) * F(10) ** exponent


# upstream TestQuantityParse table (input -> expected value).
UPSTREAM_PARSE_TABLE = [
    ("0", dec(0, 0)),
    ("0n", dec(0, 0)),
    ("0u", dec(0, 0)),
    ("0m", dec(0, 0)),
    ("0Ki", dec(0, 0)),
    ("0k", dec(0, 0)),
    ("0Mi", dec(0, 0)),
    ("0M", dec(0, 0)),
    ("0Gi", dec(0, 0)),
    ("0G", dec(0, 0)),
    ("0Ti", dec(0, 0)),
    ("0T", dec(0, 0)),
    # Quantity less numbers are allowed
    ("1", dec(1, 0)),
    # Binary suffixes
    ("1Ki", dec(1024, 0)),
    ("8Ki", dec(8 * 1024, 0)),
    ("7Mi", dec(7 * MI, 0)),
    ("6Gi", dec(6 * GI, 0)),
    ("5Ti", dec(5 * TI, 0)),
    ("4Pi", dec(4 * PI, 0)),
    ("3Ei", dec(3 * EI, 0)),
    ("10Ti", dec(10 * TI, 0)),
    ("100Ti", dec(100 * TI, 0)),
    # Decimal suffixes
    ("5n", dec(5, -9)),
    ("4u", dec(4, -6)),
    ("3m", dec(3, -3)),
    ("9", dec(9, 0)),
    ("8k", dec(8, 3)),
    ("50k", dec(5, 4)),
    ("7M", dec(7, 6)),
    ("6G", dec(6, 9)),
    ("5T", dec(5, 12)),
    ("40T", dec(4, 13)),
    ("300T", dec(3, 14)),
    ("2P", dec(2, 15)),
    ("1E", dec(1, 18)),
    # Decimal exponents
    ("1E-3", dec(1, -3)),
    ("1e3", dec(1, 3)),
    ("1E6", dec(1, 6)),
    ("1e9", dec(1, 9)),
    ("1E12", dec(1, 12)),
    ("1e15", dec(1, 15)),
    ("1E18", dec(1, 18)),
    # Nonstandard but still parsable
    ("1e14", dec(1, 14)),
    ("1e13", dec(1, 13)),
    ("100.035k", dec(100035, 0)),
    # Things that look like floating point
    ("0.001", dec(1, -3)),
    ("0.0005k", dec(5, -1)),
    ("0.005", dec(5, -3)),
    ("0.05", dec(5, -2)),
    ("0.5", dec(5, -1)),
    ("0.00050k", dec(5, -1)),
    ("0.00500", dec(5, -3)),
    ("0.05000", dec(5, -2)),
    ("0.50000", dec(5, -1)),
    ("0.5e0", dec(5, -1)),
    ("0.5e-1", dec(5, -2)),
    ("0.5e-2", dec(5, -3)),
    ("10.035M", dec(10035, 3)),
    ("1.2e3", dec(12, 2)),
    ("1.3E+6", dec(13, 5)),
    ("1.40e9", dec(14, 8)),
    ("1.53E12", dec(153, 10)),
    ("1.6e15", dec(16, 14)),
    ("1.7E18", dec(17, 17)),
    ("9.01", dec(901, -2)),
    ("8.1k", dec(81, 2)),
    ("7.123456M", dec(7123456, 0)),
    ("6.987654321G", dec(6987654321, 0)),
    ("5.444T", dec(5444, 9)),
    ("40.1T", dec(401, 11)),
    ("300.2T", dec(3002, 11)),
    ("2.5P", dec(25, 14)),
    ("1.01E", dec(101, 16)),
    # Things that saturate/round
    ("3.001n", dec(4, -9)),
    ("1.1E-9", dec(2, -9)),
    ("0.0000000001", dec(1, -9)),
    ("0.0000000005", dec(1, -9)),
    ("0.00000000050", dec(1, -9)),
    ("0.5e-9", dec(1, -9)),
    ("0.9n", dec(1, -9)),
    ("0.00000012345", dec(124, -9)),
    ("0.00000012354", dec(124, -9)),
    ("9Ei", F(MAX_INT64)),
    ("9223372036854775807Ki", F(MAX_INT64)),
    ("12E", dec(12, 18)),
    # We'll accept fractional binary stuff, too.
    ("100.035Ki", dec(10243584, -2)),
    ("0.5Mi", dec(MI // 2, 0)),
    ("0.05Gi", dec(536870912, -1)),
    ("0.025Ti", dec(274877906944, -1)),
    # Things written by trolls
    ("0.000000000001Ki", dec(2, -9)),
    (".001", dec(1, -3)),
    (".0001k", dec(100, -3)),
    ("1.", dec(1, 0)),
    ("1.G", dec(1, 9)),
]

# upstream TestQuantityParse "invalid" list (v1.36) plus cases from the schedkit brief, with the
# upstream error each one produces.
UPSTREAM_INVALID = [
    ("1.1.M", ERR_FORMAT_WRONG),
    ("1+1.0M", ERR_FORMAT_WRONG),
    ("0.1mi", ERR_SUFFIX),
    ("0.1am", ERR_FORMAT_WRONG),
    ("aoeu", ERR_FORMAT_WRONG),
    (".5i", ERR_SUFFIX),
    ("1i", ERR_SUFFIX),
    ("-3.01i", ERR_SUFFIX),
    ("-3.01e-", ERR_SUFFIX),
    (" 1", ERR_FORMAT_WRONG),
    ("1 ", ERR_FORMAT_WRONG),
    ("", ERR_FORMAT_WRONG),
    ("1.5.5", ERR_FORMAT_WRONG),
    ("1Gb", ERR_FORMAT_WRONG),
    ("K", ERR_SUFFIX),
    ("ki", ERR_SUFFIX),
    ("mi", ERR_SUFFIX),
    ("1ki", ERR_SUFFIX),
    ("1KI", ERR_FORMAT_WRONG),  # "I" is not a suffix letter
    ("1gi", ERR_FORMAT_WRONG),
    ("1e", ERR_SUFFIX),
    ("1E+", ERR_SUFFIX),
    ("1Ee5", ERR_SUFFIX),
    ("abc", ERR_FORMAT_WRONG),
    ("1.0.0", ERR_FORMAT_WRONG),
    ("1e3i", ERR_FORMAT_WRONG),
    ("1e5e5", ERR_FORMAT_WRONG),
    ("1_000", ERR_FORMAT_WRONG),
    ("\t1", ERR_FORMAT_WRONG),
    ("1\n", ERR_FORMAT_WRONG),
    ("１", ERR_FORMAT_WRONG),  # fullwidth digit: only ASCII digits count
    ("--1", ERR_SUFFIX),  # the scanner reads "-1" as the suffix
    ("+-1", ERR_SUFFIX),
    ("0x10", ERR_FORMAT_WRONG),
    ("Infinity", ERR_FORMAT_WRONG),
    ("1e9223372036854775808", ERR_SUFFIX),  # exponent outside int64: ParseInt range error
    # The slow (inf.Dec) path needs at least one digit.
    ("Pi", ERR_NUMERIC),
    ("Ei", ERR_NUMERIC),
    ("e-10", ERR_NUMERIC),
    ("-.e-10", ERR_NUMERIC),
]


# --------------------------------------------------------------------------------------------------
# parse tables


@pytest.mark.parametrize("text,expected", UPSTREAM_PARSE_TABLE, ids=[t for t, _ in UPSTREAM_PARSE_TABLE])
def test_upstream_parse_table(text, expected):
    got = parse_quantity(text)
    assert isinstance(got, Fraction)
    assert got == expected


@pytest.mark.parametrize("text,expected", UPSTREAM_PARSE_TABLE, ids=[t for t, _ in UPSTREAM_PARSE_TABLE])
def test_upstream_parse_table_negated_and_plus(text, expected):
    # upstream re-parses every row with a "-" and a "+" prefix.
    assert parse_quantity("-" + text) == -expected
    assert parse_quantity("+" + text) == expected


@pytest.mark.parametrize("text,reason", UPSTREAM_INVALID, ids=[repr(t) for t, _ in UPSTREAM_INVALID])
def test_upstream_invalid(text, reason):
    with pytest.raises(QuantityError) as info:
        parse_quantity(text)
    assert info.value.reason == reason
    assert info.value.text == text
    # value()/milli_value() parse the same way
    with pytest.raises(QuantityError):
        value(text)
    with pytest.raises(QuantityError):
        milli_value(text)


def test_error_message_quotes_input_and_upstream_text():
    with pytest.raises(QuantityError) as info:
        parse_quantity("1.5.0")
    assert str(info.value) == (
        'invalid quantity "1.5.0": quantities must match the regular expression '
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )
    with pytest.raises(QuantityError, match=r"^invalid quantity \"1Q\"") as info:
        parse_quantity("1Q")
    assert info.value.reason == ERR_FORMAT_WRONG
    with pytest.raises(QuantityError) as info:
        parse_quantity("1ki")
    assert str(info.value) == 'invalid quantity "1ki": unable to parse quantity\'s suffix'
    with pytest.raises(QuantityError) as info:
        parse_quantity("Pi")
    assert str(info.value) == 'invalid quantity "Pi": unable to parse numeric part of quantity'


def test_quantity_error_is_value_error():
    assert issubclass(QuantityError, ValueError)
    with pytest.raises(ValueError):
        parse_quantity("bogus")


# Brief examples (input -> exact value).
BRIEF_EXAMPLES = [
    ("1.5Gi", F(3 * GI, 2)),
    ("1e3", F(1000)),
    ("1E3", F(1000)),
    ("1E", F(10**18)),
    ("1Ei", F(EI)),
    (".5", F(1, 2)),
    ("5.", F(5)),
    ("+1", F(1)),
    ("1.G", F(10**9)),
    ("0.1m", F(1, 10000)),
    ("100m", F(1, 10)),
    ("1Ki", F(1024)),
    ("-1", F(-1)),
    ("0", F(0)),
    ("0.1n", F(1, 10**9)),  # rounded up to the minimum unit
    ("-0.1n", F(-1, 10**9)),  # ... away from zero
    ("1.5n", F(2, 10**9)),
    ("007", F(7)),
    ("-0", F(0)),
    ("-0.0", F(0)),
    ("1e+3", F(1000)),
    ("1e-3", F(1, 1000)),
    ("1E0", F(1)),
    ("2.5e-1", F(1, 4)),
    ("1e100", F(10**100)),  # decimal values are not capped
    ("-1e30", F(-(10**30))),
    ("7Ei", F(7 * EI)),  # below 2**63: not capped
    ("8Ei", F(MAX_INT64)),  # 2**63: capped to MaxInt64
    ("-9Ei", F(-MAX_INT64)),  # cap is symmetric: -MaxInt64, not MinInt64
    ("0.5Ki", F(512)),
    ("1.Ki", F(1024)),
    ("12345678901234567890", F(12345678901234567890)),  # decimal beyond int64 kept exactly
    ("0.00000000000000000000001Ki", F(1, 10**9)),
]


@pytest.mark.parametrize("text,expected", BRIEF_EXAMPLES, ids=[t for t, _ in BRIEF_EXAMPLES])
def test_examples(text, expected):
    assert parse_quantity(text) == expected


# upstream TestQuantityParseEmit inputs, and TestQuantityString canonical/alternate spellings.
EQUIVALENT_SPELLINGS = [
    (".001Ki", "1024m"),
    (".000001Ki", "1024u"),
    (".000000001Ki", "1024n"),
    (".000000000001Ki", "2n"),
    ("1024Mi", "1Gi"),
    ("1000M", "1G"),
    ("307200Ki", "300Mi"),
    ("1025024Mi", "1001Gi"),
    ("1024Gi", "1Ti"),
    ("5000m", "5"),
    ("0.5", "500m"),
    ("0.001T", "1G"),
    ("1000u", "1m"),
    ("1.08", "1080m"),
    ("1080000000n", "1080m"),
    (".001e12", "1e9"),
    ("0.001e0", "1e-3"),
    ("1000e-12", "1e-9"),
    ("00", "0"),
    ("1048576", "1Mi"),
]


@pytest.mark.parametrize("a,b", EQUIVALENT_SPELLINGS)
def test_equivalent_spellings(a, b):
    assert parse_quantity(a) == parse_quantity(b)
    assert parse_quantity("-" + a) == -parse_quantity(b)


# upstream TestParseQuantityString: the scanner's split.
@pytest.mark.parametrize(
    "text,expected",
    [
        ("0.025Ti", (True, "0.025", "0", "025", "Ti")),
        ("1.025Ti", (True, "1.025", "1", "025", "Ti")),
        ("-1.025Ti", (False, "-1.025", "1", "025", "Ti")),
        (".", (True, ".", "0", "", "")),
        ("-.", (False, "-.", "0", "", "")),
        ("1E-3", (True, "1", "1", "", "E-3")),
    ],
)
def test_upstream_scanner_split(text, expected):
    assert _scan(text) == expected


# Strings upstream's permissive scanner accepts as zero (no digits at all, fast path).
@pytest.mark.parametrize("text", [".", "-.", "+.", "-", "+", "k", "m", "n", "Ki", "Ti", "e5", "-000", "0e0"])
def test_degenerate_zero_spellings_parse_as_zero(text):
    assert parse_quantity(text) == 0
    assert value(text) == 0
    assert milli_value(text) == 0


# Sub-nano magnitudes round away from zero to 1n, however small (values as upstream pins them).
@pytest.mark.parametrize(
    "text,expected_nanos",
    [
        ("1e-2147483647", 1),
        ("-1e-2147483647", -1),
        ("1e-100", 1),
        ("-1e-100", -1),
        ("1e-10", 1),
        ("9e-10", 1),
        ("-9e-10", -1),
        ("1e-9", 1),
        ("2e-9", 2),
        ("15e-10", 2),
        ("1000000000000000000000e-30", 1),
        ("1000000000000000000001e-30", 2),
        ("999999999999999999999e-30", 1),
        ("0e-2147483647", 0),
        ("0.0e-100", 0),
        ("0." + "0" * 5000 + "1", 1),
        ("1." + "0" * 5000 + "1", 10**9 + 1),
    ],
)
def test_sub_nano_rounds_away_from_zero(text, expected_nanos):
    assert parse_quantity(text) == F(expected_nanos, 10**9)


def test_exponent_is_narrowed_to_int32_like_v1_36():
    # v1.36 parses the exponent as int64 and stores it in an int32: 2**32 + 1 -> 1.
    # (Rejected upstream only after v1.36, kubernetes#141203.)
    assert parse_quantity("1e4294967297") == 10
    assert parse_quantity("1e4294967296") == 1
    assert parse_quantity("3e-4294967294") == 300


def test_absurd_magnitudes_raise_too_large():
    for text in ["1e2000000000", "1e10001", "1" + "0" * 10_001, "-1e10001", "1.5e2147483647"]:
        with pytest.raises(QuantityError) as info:
            parse_quantity(text)
        assert info.value.reason == ERR_TOO_LARGE
        with pytest.raises(QuantityError):
            value(text)
    # just inside the limit is exact
    assert parse_quantity("1e9999") == 10**9999
    # ... and binary values never get there: they are capped first
    assert parse_quantity("9" * 20_000 + "Ki") == MAX_INT64
    # zero with any exponent is fine
    assert parse_quantity("0e2000000000") == 0


# --------------------------------------------------------------------------------------------------
# non-string inputs


def test_int_input_is_exact():
    assert parse_quantity(5) == 5
    assert parse_quantity(-3) == -3
    assert parse_quantity(10**30) == 10**30
    assert isinstance(parse_quantity(5), Fraction)


@pytest.mark.parametrize("bad", [1.5, 1.0, float("nan"), True, False, None, b"1", [1], F(1, 2)])
def test_non_string_non_int_rejected(bad):
    with pytest.raises(QuantityError):
        parse_quantity(bad)


@pytest.mark.parametrize("bad", [1.5, True, None, "1 "])
def test_value_rejects_bad_types(bad):
    with pytest.raises(QuantityError):
        value(bad)
    with pytest.raises(QuantityError):
        milli_value(bad)


# --------------------------------------------------------------------------------------------------
# Value / MilliValue


MILLI_AND_VALUE = [
    # text, milli_value, value
    ("1.5", 1500, 2),
    ("0.1m", 1, 1),
    ("0.5m", 1, 1),
    ("1m", 1, 1),
    ("100m", 100, 1),
    ("1", 1000, 1),
    ("2", 2000, 2),
    ("1Mi", 1048576000, 1048576),
    ("1e3", 1000000, 1000),
    ("1.5Gi", 1610612736000, 1610612736),
    ("1Ki", 1024000, 1024),
    ("1n", 1, 1),
    ("999999n", 1, 1),
    ("1000001n", 2, 1),
    ("0", 0, 0),
    ("0.0001", 1, 1),
    ("1.0001", 1001, 2),
    ("100.035Ki", 102435840, 102436),
    ("1.1Ki", 1126400, 1127),
    ("0.000000000001Ki", 1, 1),
    ("123456789012345678901234", MAX_INT64, MAX_INT64),  # saturates (v1.36 would wrap)
]


@pytest.mark.parametrize("text,milli,whole", MILLI_AND_VALUE, ids=[t for t, _, _ in MILLI_AND_VALUE])
def test_milli_value_and_value(text, milli, whole):
    assert milli_value(text) == milli
    assert value(text) == whole
    # the Fraction form agrees for non-negative quantities
    assert milli_value(parse_quantity(text)) == milli
    assert value(parse_quantity(text)) == whole


def test_cpu_and_memory_projection():
    assert cpu_millis("1.5") == 1500
    assert cpu_millis("250m") == 250
    assert cpu_millis("0.1m") == 1
    assert to_int_for_resource("cpu", "1.5") == 1500
    assert to_int_for_resource("cpu", "2") == 2000
    assert to_int_for_resource("memory", "1.5") == 2
    assert to_int_for_resource("memory", "1Mi") == 1048576
    assert to_int_for_resource("memory", "128974848") == 128974848
    assert to_int_for_resource("memory", "129e6") == 129000000
    assert to_int_for_resource("memory", "123Mi") == 128974848
    assert to_int_for_resource("ephemeral-storage", "1Gi") == GI
    assert to_int_for_resource("nvidia.com/gpu", "2") == 2
    assert to_int_for_resource("pods", "110") == 110
    # only the exact name "cpu" is read in millis
    assert to_int_for_resource("CPU", "1") == 1
    assert to_int_for_resource("example.com/cpu", "1") == 1
    # Fractions are accepted too
    assert to_int_for_resource("cpu", F(3, 2)) == 1500
    assert to_int_for_resource("memory", F(3, 2)) == 2


# Negative quantities: v1.36 rounds per backend (see the module docstring).
NEGATIVE_V1_36 = [
    # text, value, milli_value
    ("-1.5", -2, -1500),  # int64 backend: away from zero
    ("-1n", -1, -1),  # int64 backend: away from zero
    ("-0.5", -1, -500),
    ("-100m", -1, -100),
    ("-1.1Ki", -1125, -1126400),  # inf.Dec, small: truncate then +1 (ceil + 1)
    ("-0.0000000001", 1, 1),  # inf.Dec, small: -1n projects to +1
    ("-0.1n", 1, 1),
    ("-9.5Gi", -10200547328, -10200547328000),  # exact: no rounding involved
    ("-9.5000000001Gi", -10200547328, -10200547328107),  # inf.Dec, large: floor + 1 (ceil)
    ("-9223372036854775808", MIN_INT64, MIN_INT64),  # inf.Dec (19 digits in v1.36); milli saturates
    ("-9Ei", -MAX_INT64, MIN_INT64),  # capped at -MaxInt64; milli saturates
    ("-1e30", MIN_INT64, MIN_INT64),  # int64 backend, huge scale: saturates
]


@pytest.mark.parametrize("text,whole,milli", NEGATIVE_V1_36, ids=[t for t, _, _ in NEGATIVE_V1_36])
def test_negative_rounding_matches_v1_36_backends(text, whole, milli):
    assert value(text) == whole
    assert milli_value(text) == milli


def test_negative_fraction_rounds_away_from_zero():
    assert value(F(-3, 2)) == -2
    assert value(F(-11264, 10)) == -1127
    assert milli_value(F(-1, 10**9)) == -1
    assert value(-5) == -5
    assert milli_value(F(-1, 3)) == -334


# Overflow: saturate at the int64 rails (v1.36 wraps; see the module docstring).
OVERFLOW = [
    # text, value, milli_value
    ("9223372036854775807", MAX_INT64, MAX_INT64),  # v1.36 MilliValue: -1000
    ("9223372036854775808", MAX_INT64, MAX_INT64),
    ("18446744073709551616", MAX_INT64, MAX_INT64),  # v1.36 Value: 0
    ("1E", 10**18, MAX_INT64),  # v1.36 MilliValue: 0
    ("100E", MAX_INT64, MAX_INT64),
    ("1e100", MAX_INT64, MAX_INT64),
    ("8Ei", MAX_INT64, MAX_INT64),
    ("9223372036854775807Ki", MAX_INT64, MAX_INT64),
    ("9223372036854775n", 9223373, 9223372037),  # fits: unaffected
    ("9223372036854775807m", 9223372036854776, MAX_INT64),
    ("9223372036854775808m", 9223372036854776, MAX_INT64),
    ("9223372036854775.807", 9223372036854776, MAX_INT64),
    ("9223372036854775.808", 9223372036854776, MAX_INT64),
    # 19 digits: inf.Dec backend, large branch, so Value is ceil (not away from zero) in v1.36
    ("-9223372036854775.808", -9223372036854775, MIN_INT64),  # milli is exactly MinInt64
    ("-9223372036854775.809", -9223372036854775, MIN_INT64),  # milli saturates
    ("-100E", MIN_INT64, MIN_INT64),
]


@pytest.mark.parametrize("text,whole,milli", OVERFLOW, ids=[t for t, _, _ in OVERFLOW])
def test_overflow_saturates(text, whole, milli):
    assert value(text) == whole
    assert milli_value(text) == milli


def test_overflow_saturates_for_fractions_and_ints():
    assert value(F(10**30)) == MAX_INT64
    assert value(-(10**30)) == MIN_INT64
    assert milli_value(MAX_INT64) == MAX_INT64
    assert milli_value(F(MAX_INT64, 1000)) == MAX_INT64
    assert milli_value(F(MAX_INT64 + 1, 1000)) == MAX_INT64
    assert value(MIN_INT64) == MIN_INT64
    with pytest.raises(QuantityError):
        value(10**10_001)


# --------------------------------------------------------------------------------------------------
# properties


def _reference(sign: str, whole: str, frac: str, dot: bool, suffix: str) -> Fraction:
    """Independent model of the parse: exact decimal times the suffix, rounded up to 1n, binary cap."""
    number = F(int(whole or "0")) + (F(int(frac), 10 ** len(frac)) if frac else 0)
    binary = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
    decimal = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
    if suffix in binary:
        number *= 2 ** binary[suffix]
    elif suffix in decimal:
        number *= F(10) ** decimal[suffix]
    else:
        number *= F(10) ** int(suffix[1:])
    nanos = math.ceil(number * 10**9)
    if suffix in binary:
        nanos = min(nanos, MAX_INT64 * 10**9)
    result = F(nanos, 10**9)
    return -result if sign == "-" else result


_suffixes = st.one_of(
    st.sampled_from(["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]),
    st.builds(
        lambda e, sign, n: e + sign + str(n),
        st.sampled_from(["e", "E"]),
        st.sampled_from(["", "+", "-"]),
        st.integers(min_value=0, max_value=40),
    ),
)


@st.composite
def _quantity_strings(draw):
    sign = draw(st.sampled_from(["", "+", "-"]))
    whole = draw(st.text(alphabet="0123456789", min_size=0, max_size=25))
    dot = draw(st.booleans())
    frac = draw(st.text(alphabet="0123456789", min_size=0, max_size=25)) if dot else ""
    if not (whole or frac):
        whole = draw(st.text(alphabet="0123456789", min_size=1, max_size=3))
    suffix = draw(_suffixes)
    return sign, whole, frac, dot, suffix


@settings(max_examples=400, deadline=None)
@given(_quantity_strings())
def test_property_parse_matches_reference_model(parts):
    sign, whole, frac, dot, suffix = parts
    text = sign + whole + ("." if dot else "") + frac + suffix
    assert parse_quantity(text) == _reference(sign, whole, frac, dot, suffix)


@settings(max_examples=400, deadline=None)
@given(_quantity_strings())
def test_property_non_negative_projections_are_ceilings(parts):
    _sign, whole, frac, dot, suffix = parts
    text = whole + ("." if dot else "") + frac + suffix  # non-negative
    q = parse_quantity(text)
    expected_value = min(math.ceil(q), MAX_INT64)
    expected_milli = min(math.ceil(q * 1000), MAX_INT64)
    assert value(text) == expected_value
    assert milli_value(text) == expected_milli
    assert value(q) == expected_value
    assert milli_value(q) == expected_milli
    assert cpu_millis(text) == expected_milli
    assert to_int_for_resource("memory", text) == expected_value


@settings(max_examples=300, deadline=None)
@given(_quantity_strings())
def test_property_negation_mirrors_value_in_the_parse(parts):
    _, whole, frac, dot, suffix = parts
    body = whole + ("." if dot else "") + frac + suffix
    assert parse_quantity("-" + body) == -parse_quantity(body)
    assert parse_quantity("+" + body) == parse_quantity(body)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="0123456789.+-eEinumkKMGTP", min_size=0, max_size=6),
    st.characters(blacklist_characters="0123456789.+-eEinumkKMGTP"),
    st.text(alphabet="0123456789.+-eEinumkKMGTP", min_size=0, max_size=6),
)
def test_property_foreign_character_is_format_error(prefix, foreign, suffix):
    with pytest.raises(QuantityError) as info:
        parse_quantity(prefix + foreign + suffix)
    assert info.value.reason == ERR_FORMAT_WRONG


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.digits + ".+-eEinumkKMGTPx ", max_size=10))
def test_property_never_crashes_with_anything_but_quantity_error(text):
    try:
        q = parse_quantity(text)
    except QuantityError:
        return
    assert isinstance(q, Fraction)
    assert (q * 10**9).denominator == 1  # always a whole number of nanos
    assert isinstance(value(text), int) and MIN_INT64 <= value(text) <= MAX_INT64
    assert isinstance(milli_value(text), int) and MIN_INT64 <= milli_value(text) <= MAX_INT64


# --------------------------------------------------------------------------------------------------
# production converts with this module (objects.py: node allocatable, pod requests, scoring defaults)

RESOURCES = ["cpu", "memory", "ephemeral-storage", "pods", "example.com/gpu", "hugepages-2Mi"]


def _pod(*containers: dict, **spec) -> dict:
    listed = [{"name": f"c{i}", "resources": {"requests": reqs}} for i, reqs in enumerate(containers)]
    return {"metadata": {"name": "p"}, "spec": {"containers": listed, **spec}}


def _node(allocatable: dict) -> dict:
    return {"metadata": {"name": "n"}, "status": {"allocatable": allocatable}}


def _check_single_request(resource: str, text: str) -> None:
    """One container asking for ``text`` of ``resource``: every integer production derives from it is
    quantity.py's conversion of that very string (the str path, which tracks upstream's backends)."""
    expected = to_int_for_resource(resource, text)
    pod = parse_pod(_pod({resource: text}))
    assert pod.requests.get(resource, 0) == expected
    assert pod.nonzero_cpu == (expected if resource == "cpu" else DEFAULT_MILLI_CPU_REQUEST)
    assert pod.nonzero_memory == (expected if resource == "memory" else DEFAULT_MEMORY_REQUEST)
    assert parse_node(_node({resource: text})).allocatable[resource] == expected


@settings(max_examples=300, deadline=None)
@given(_quantity_strings(), st.sampled_from(RESOURCES))
def test_property_production_integers_are_quantity_conversions(parts, resource):
    _sign, whole, frac, dot, suffix = parts
    _check_single_request(resource, whole + ("." if dot else "") + frac + suffix)  # production refuses < 0


@pytest.mark.parametrize(
    "resource,text,expected",
    [
        ("cpu", "0.5m", 1),  # MilliValue rounds up
        ("cpu", "100n", 1),
        ("cpu", "1.0001", 1001),
        ("cpu", "0.1n", 1),  # parsed as 1n first, then up to 1m
        ("memory", "1.5", 2),  # Value rounds up
        ("memory", "100n", 1),
        ("memory", "1.1Ki", 1127),  # 1126.4
        ("ephemeral-storage", "0.5", 1),
        ("example.com/gpu", "100m", 1),
        ("pods", "1e-9", 1),
        ("cpu", "0", 0),
        ("memory", "1E", 10**18),
        ("cpu", "1E", MAX_INT64),  # saturates rather than wrapping as v1.36 does
        ("memory", "1e9999", MAX_INT64),
    ],
)
def test_production_rounding_cases(resource, text, expected):
    assert to_int_for_resource(resource, text) == expected
    _check_single_request(resource, text)


def test_requests_are_summed_exactly_then_converted_once():
    # PodRequests adds Quantities exactly; SetMaxResource converts the total: 0.5m + 0.5m is 1m, not 2m.
    pod = parse_pod(_pod({"cpu": "0.5m", "memory": "0.5"}, {"cpu": "0.5m", "memory": "0.5"}))
    assert pod.requests == {"cpu": 1, "memory": 1}
    assert (pod.nonzero_cpu, pod.nonzero_memory) == (1, 1)
    pod = parse_pod(_pod({"cpu": "0.5m"}, {"cpu": "0.7m"}, overhead={"cpu": "100n"}))
    assert pod.requests == {"cpu": to_int_for_resource("cpu", F(1, 2000) + F(7, 10000) + F(1, 10**7))} == {"cpu": 2}


def test_nonzero_defaults_go_through_the_same_conversion():
    # a container without a cpu/memory request counts as 100m / 200Mi for scoring, added before rounding
    pod = parse_pod(_pod({}, {"cpu": "0.5m", "memory": "0.5"}))
    assert pod.requests == {"cpu": 1, "memory": 1}
    assert pod.nonzero_cpu == milli_value(F(DEFAULT_MILLI_CPU_REQUEST, 1000) + F(1, 2000)) == 101
    assert pod.nonzero_memory == value(DEFAULT_MEMORY_REQUEST + F(1, 2)) == DEFAULT_MEMORY_REQUEST + 1
    empty = parse_pod(_pod({}))
    assert (empty.requests, empty.nonzero_cpu, empty.nonzero_memory) == ({}, 100, 200 * MI)


def test_huge_sums_saturate_instead_of_passing_the_magnitude_limit():
    # each request parses (just under 10**10000), their sum does not fit quantity.py's limit: the total
    # is capped first, which gives the same rail Value()/MilliValue() give any total past int64
    pod = parse_pod(_pod({"cpu": "9e9999", "memory": "9e9999"}, {"cpu": "9e9999", "memory": "9e9999"}))
    assert pod.requests == {"cpu": MAX_INT64, "memory": MAX_INT64}
    assert (pod.nonzero_cpu, pod.nonzero_memory) == (MAX_INT64, MAX_INT64)


def test_production_calls_quantity_conversions(monkeypatch):
    """objects.py has no converter of its own: stub quantity.py's and production's integers follow."""
    calls = []

    def spy(name, real):
        def wrapped(q):
            calls.append((name, q))
            return real(q) + 7  # a mark no other conversion would produce
        return wrapped

    monkeypatch.setattr(quantity, "milli_value", spy("milli_value", quantity.milli_value))
    monkeypatch.setattr(quantity, "value", spy("value", quantity.value))
    assert not hasattr(objects, "to_units")

    node = parse_node(_node({"cpu": "2", "memory": "1Ki", "pods": "110"}))
    assert node.allocatable == {"cpu": 2007, "memory": 1031, "pods": 117}
    assert sorted(calls) == [("milli_value", 2), ("value", 110), ("value", 1024)]

    calls.clear()
    pod = parse_pod(_pod({"cpu": "0.5m", "memory": "1.5", "example.com/gpu": "1"}))
    assert pod.requests == {"cpu": 8, "memory": 9, "example.com/gpu": 8}
    assert (pod.nonzero_cpu, pod.nonzero_memory) == (8, 9)
    assert sorted(calls) == [("milli_value", F(1, 2000))] * 2 + [("value", 1), ("value", F(3, 2)), ("value", F(3, 2))]
