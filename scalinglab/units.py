"""Units and human-readable quantities: "7B" parameters, "1.4T" tokens, PF-days.

The course writes sizes the way papers do (70B parameters, 1.4T tokens,
5.76e23 FLOPs). :func:`parse_quantity` reads them and :func:`format_quantity`
writes them back.
"""

from __future__ import annotations

import math
import numbers
import re
from decimal import Decimal, InvalidOperation

import numpy as np

from ._errors import ScalingLabError

SECONDS_PER_DAY = 86_400
SECONDS_PER_HOUR = 3_600

#: FLOPs in one petaFLOP/s-day: 1e15 FLOP/s sustained for 86,400 s = 8.64e19 FLOPs.
#: Kaplan et al. 2020 (arXiv 2001.08361, section 1.3) and Brown et al. 2020
#: (arXiv 2005.14165, Table D.1) measure compute in this unit.
PF_DAY = 1e15 * SECONDS_PER_DAY

#: Suffix multipliers: K(ilo), M(illion), B(illion) or G(iga), T(rillion), P(eta).
SUFFIXES = {"K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15}
_FORMAT_SUFFIXES = [("P", 1e15), ("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)]
_THOUSANDS = re.compile(r"^[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?$")   # "1,000,000" or "1,500.5"
_PATTERN = re.compile(r"^\s*([0-9][0-9_,]*(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?\s*([A-Za-z]?)\s*$")


def parse_quantity(text, name: str = "text") -> float:
    """Read a size written the way papers write it, and return it as a float.

    Accepts plain numbers, scientific notation and the suffixes K (1e3),
    M (1e6), B or G (1e9), T (1e12) and P (1e15), in either case, with an
    optional space: ``"7B"``, ``"1.4T"``, ``"300 B"``, ``"2.15e25"``,
    ``"124,439,808"``. A comma may only separate thousands (groups of three
    digits): ``"1,4T"`` is refused rather than read as 14T.
    Numbers (int, float) are returned unchanged as float.
    The result is dimensionless: the unit (parameters, tokens, FLOPs) is the
    caller's.

    >>> parse_quantity("7B")
    7000000000.0
    >>> parse_quantity("1.4T")       # Chinchilla's training tokens (Hoffmann et al. 2022)
    1400000000000.0
    >>> parse_quantity("2.15e25")    # GPT-4 training FLOPs, SemiAnalysis estimate
    2.15e+25
    """
    if isinstance(text, (bool, np.bool_)):
        raise ScalingLabError(f"{name} must be a quantity such as '7B' or 1.4e12; got the boolean {text!r}")
    if isinstance(text, (int, float)) or (hasattr(text, "dtype") and getattr(text, "ndim", 1) == 0):
        try:
            value = float(text)
        except (TypeError, ValueError, OverflowError):
            raise ScalingLabError(
                f"{name} must be a finite quantity such as '7B' or 1.4e12; got an integer of {len(str(abs(text)))} digits, "
                "beyond the range of 64-bit floats (about 1.8e308)" if isinstance(text, int) else
                f"{name} must be a quantity such as '7B' or 1.4e12; got {text!r}"
            ) from None
    elif isinstance(text, str):
        match = _PATTERN.match(text)
        suffix = match.group(3).upper() if match else ""
        if not match or (suffix and suffix not in SUFFIXES):
            raise ScalingLabError(
                f"{name}: cannot read {text!r} as a quantity; expected a number with an optional "
                "suffix K, M, B (or G), T or P, such as '7B', '1.4T', '300B' or '2.15e25'"
            )
        mantissa, exponent = match.group(1), match.group(2)
        if "," in mantissa and not _THOUSANDS.match(mantissa.replace("_", "")):
            guess = text.strip().replace(",", ".", 1) if mantissa.count(",") == 1 else None
            hint = f"; did you mean {guess!r}? (write decimals with a point)" if guess else ""
            raise ScalingLabError(
                f"{name}: cannot read {text!r} as a quantity: a comma may only separate thousands, in groups "
                f"of three digits such as '1,000,000' or '1,500B'{hint}"
            )
        mantissa = mantissa.replace("_", "").replace(",", "")
        try:
            number = Decimal(mantissa) * (Decimal(10) ** int(exponent or 0))
        except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
            raise ScalingLabError(f"{name}: cannot read {text!r} as a quantity") from None
        value = float(number * Decimal(repr(SUFFIXES[suffix])) if suffix else number)
    else:
        raise ScalingLabError(
            f"{name} must be a quantity such as '7B' or 1.4e12; got {type(text).__name__} {text!r}"
        )
    if not math.isfinite(value) or value < 0:
        raise ScalingLabError(f"{name} must be a non-negative finite quantity; got {text!r}")
    return value


def format_quantity(value, digits: int = 3) -> str:
    """Write a size with a suffix and at most ``digits`` significant digits.

    Uses K, M, B, T and P (B for billion, as model names do). Values below
    1,000 are written plainly, values of 1e18 and above in scientific
    notation, since "21,500,000,000P" helps nobody.

    >>> format_quantity(1.7e12)
    '1.7T'
    >>> format_quantity(124_439_808)     # GPT-2 small
    '124M'
    >>> format_quantity(5.76e23)         # Gopher's training FLOPs
    '5.76e23'
    """
    x = parse_quantity(value, name="value")
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or not 1 <= digits <= 17:
        raise ScalingLabError(f"digits must be a whole number of significant digits from 1 to 17; got {digits!r}")
    digits = int(digits)
    if x == 0:
        return "0"
    rounded = float(f"{x:.{digits}g}")
    if rounded >= 1e18:
        mantissa, exponent = f"{rounded:.{digits - 1}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    for suffix, scale in _FORMAT_SUFFIXES:
        if rounded >= scale:
            return f"{rounded / scale:.{digits}g}{suffix}"
    return f"{rounded:.{digits}g}"
