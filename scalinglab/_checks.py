"""Argument checking shared by every module.

Every public function validates its input here, so that a learner who passes a
negative size, a NaN or a misspelt name gets one clear sentence naming the
argument, the value received and what was expected -- never a deep numpy
traceback or a silently wrong number.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Iterable

import numpy as np

from ._errors import ScalingLabError, UnknownNameError
from .units import parse_quantity


def normalise_name(text: str) -> str:
    """Lower-case ``text`` and drop everything but letters and digits ("H100 SXM" -> "h100sxm")."""
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def _describe(value) -> str:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and abs(int(value)) >= 10 ** 20:
        return f"{'-' if value < 0 else ''}an integer of {len(str(abs(int(value))))} digits"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return repr(value)


def as_positive(name: str, value, unit: str, *, allow_zero: bool = False, scalar: bool = False):
    """Return ``value`` as a float (scalar input) or float array, checked to be finite and > 0.

    Strings such as ``"7B"`` are parsed with :func:`scalinglab.parse_quantity`.
    ``unit`` is what the number counts ("parameters", "tokens", "FLOPs").
    ``scalar=True`` refuses arrays.
    """
    kind = "a non-negative" if allow_zero else "a positive"
    of_unit = f" of {unit}" if unit else ""
    if isinstance(value, str):
        value = parse_quantity(value, name=name)
    if value is None:
        raise ScalingLabError(f"{name} is required: expected a positive number{of_unit}")
    if isinstance(value, (bool, np.bool_)) or (
            isinstance(value, (list, tuple)) and any(isinstance(v, (bool, np.bool_)) for v in value)):
        raise ScalingLabError(f"{name} must be a number{of_unit}; got the boolean {value!r}")
    if isinstance(value, np.ndarray) and value.dtype == bool:
        raise ScalingLabError(f"{name} must hold numbers{of_unit}; got an array of booleans")
    if isinstance(value, (dict, set)):
        raise ScalingLabError(f"{name} must be {kind} finite number{of_unit}; got a {type(value).__name__}")
    try:
        arr = np.asarray(value, dtype=float)
    except OverflowError:
        raise ScalingLabError(
            f"{name} must be {kind} finite number{of_unit}; got {_describe(value)}, beyond the range of "
            "64-bit floats (about 1.8e308)"
        ) from None
    except (TypeError, ValueError):
        raise ScalingLabError(
            f"{name} must be {kind} finite number{of_unit}; got {_describe(value)}"
        ) from None
    if arr.ndim == 0:
        x = float(arr)
        if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
            raise ScalingLabError(f"{name} must be {kind} finite number{of_unit}; got {_describe(x)}")
        return x
    if scalar:
        raise ScalingLabError(f"{name} must be a single number{of_unit}; got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ScalingLabError(f"{name} must not be empty: expected {kind[2:]} numbers{of_unit}")
    bad = ~np.isfinite(arr) | (arr < 0) | ((arr == 0) if not allow_zero else False)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = index[0] if len(index) == 1 else index
        raise ScalingLabError(
            f"{name} must hold {kind[2:]} finite numbers{of_unit}; "
            f"entry {where} is {_describe(float(arr[index]))}"
        )
    return arr


def as_fraction(name: str, value, what: str = "a fraction") -> float:
    """Return ``value`` as a float in (0, 1]; MFU and similar shares."""
    if isinstance(value, (bool, np.bool_, str)) or value is None:
        raise ScalingLabError(f"{name} must be {what} in (0, 1], a number; got {_describe(value)}")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ScalingLabError(f"{name} must be {what} in (0, 1]; got {_describe(value)}") from None
    if not (0 < x <= 1):
        hint = f" (did you mean {x / 100:g}? give a fraction, not a percentage)" if 1 < x <= 100 else ""
        raise ScalingLabError(f"{name} must be {what} in (0, 1]; got {_describe(value)}{hint}")
    return x


#: Largest whole number a count may be: beyond 2**53 floats no longer hold every integer.
MAX_COUNT = 2 ** 53


def as_count(name: str, value, what: str, *, minimum: int = 1, maximum: int = MAX_COUNT, why: str = "") -> int:
    """Return ``value`` as an int in [``minimum``, ``maximum``] (layers, heads, devices...).

    ``why`` explains the upper bound in the message.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, float, np.floating)):
        raise ScalingLabError(f"{name} must be a whole number of {what} >= {minimum}; got {_describe(value)}")
    if isinstance(value, (float, np.floating)) and not float(value).is_integer():
        raise ScalingLabError(f"{name} must be a whole number of {what} >= {minimum}; got {_describe(value)}")
    n = int(value)
    if n < minimum:
        raise ScalingLabError(f"{name} must be a whole number of {what} >= {minimum}; got {n}")
    if n > maximum:
        raise ScalingLabError(f"{name} must be a whole number of {what} at most {maximum:,}"
                              f"{' (' + why + ')' if why else ''}; got {_describe(value)}")
    return n


def as_flag(name: str, value) -> bool:
    """Return ``value`` as a bool; only True and False (numpy's too) are flags.

    A string such as ``"False"`` is truthy in Python, so accepting it would silently do the opposite.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    hint = ""
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "0", "1"):
        hint = f" (the string {value!r} is not a boolean: write True or False without quotes)"
    raise ScalingLabError(f"{name} must be True or False; got {_describe(value)}{hint}")


def as_number(name: str, value, expected: str, ok=None) -> float:
    """Return ``value`` as a finite float for which ``ok(x)`` holds; ``expected`` says what was wanted.

    Booleans, strings, None and arrays are refused: this is for a single real number
    (an exponent, a tolerance, a threshold).
    """
    bad = isinstance(value, (bool, np.bool_, str, bytes)) or value is None or np.ndim(value) != 0
    x = math.nan
    if not bad:
        try:
            x = float(value)
        except (TypeError, ValueError, OverflowError):
            bad = True
    if bad or not math.isfinite(x) or (ok is not None and not ok(x)):
        raise ScalingLabError(f"{name} must be {expected}; got {_describe(value)}")
    return x


def as_seed(name: str, value):
    """Return a random seed: a whole number >= 0 (or a numpy SeedSequence, passed through)."""
    if isinstance(value, np.random.SeedSequence):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ScalingLabError(f"{name} must be a seed, a whole number >= 0 such as 0 or 42; got {_describe(value)}")
    return int(value)


def as_progress(name: str, value):
    """Check a ``progress`` argument: None, True, False or a function ``progress(done, total)``."""
    if value is None or isinstance(value, (bool, np.bool_)) or callable(value):
        return bool(value) if isinstance(value, np.bool_) else value
    raise ScalingLabError(f"{name} must be None, True, False or a function progress(done, total); "
                          f"got {_describe(value)}")


def closest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` entries of ``known`` that look like ``name``."""
    known = list(known)
    by_norm = {normalise_name(k): k for k in known}
    key = normalise_name(name)
    hits = [by_norm[m] for m in difflib.get_close_matches(key, list(by_norm), n=n, cutoff=0.5)]
    if not hits:
        hits = [k for k in known if key and (key in normalise_name(k) or normalise_name(k) in key)][:n]
    return hits


def unknown_name(argument: str, value, kind: str, known: Iterable[str]) -> UnknownNameError:
    """Build the error for an unknown table entry, suggesting the closest known names."""
    known = sorted(set(known))
    hits = closest(str(value), known)
    hint = f"; did you mean {' or '.join(repr(h) for h in hits)}?" if hits else ""
    return UnknownNameError(
        f"{argument}: unknown {kind} {_describe(value)}{hint} Known {kind}s: {', '.join(known)}",
        hits,
    )


def scalar_or_array(x, what: str = "the result", /, **inputs):
    """Turn a 0-d array into a Python float; leave real arrays alone.

    A result that overflowed to inf or became NaN is refused: ``inputs`` (argument name to value)
    are named in the message.
    """
    arr = np.asarray(x)
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        bad = float(arr.ravel()[~np.isfinite(arr.ravel())][0])
        given = ", ".join(f"{k} = {_short(v)}" for k, v in inputs.items())
        raise ScalingLabError(
            f"{what} is not a finite number ({_describe(bad)}){' for ' + given if given else ''}: the arguments "
            "are too large or too small for 64-bit floats (about 1e-308 to 1e308); expected sizes a real run "
            "could have"
        )
    return float(arr) if arr.ndim == 0 else arr


def _short(value) -> str:
    if np.ndim(value) == 0:
        return f"{float(value):.4g}" if isinstance(value, (int, float, np.number)) else _describe(value)
    return f"an array of shape {np.shape(value)}"
