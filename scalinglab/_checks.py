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
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return repr(value)


def as_positive(name: str, value, unit: str, *, allow_zero: bool = False):
    """Return ``value`` as a float (scalar input) or float array, checked to be finite and > 0.

    Strings such as ``"7B"`` are parsed with :func:`scalinglab.parse_quantity`.
    ``unit`` is what the number counts ("parameters", "tokens", "FLOPs").
    """
    kind = "a non-negative" if allow_zero else "a positive"
    of_unit = f" of {unit}" if unit else ""
    if isinstance(value, str):
        value = parse_quantity(value, name=name)
    if value is None:
        raise ScalingLabError(f"{name} is required: expected a positive number{of_unit}")
    if isinstance(value, (bool, np.bool_)):
        raise ScalingLabError(f"{name} must be a number{of_unit}; got the boolean {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ScalingLabError(
            f"{name} must be {kind} finite number{of_unit}; got {_describe(value)}"
        ) from None
    if arr.ndim == 0:
        x = float(arr)
        if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
            raise ScalingLabError(f"{name} must be {kind} finite number{of_unit}; got {_describe(x)}")
        return x
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
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ScalingLabError(f"{name} must be {what} in (0, 1]; got {_describe(value)}") from None
    if not (0 < x <= 1):
        hint = f" (did you mean {x / 100:g}? give a fraction, not a percentage)" if 1 < x <= 100 else ""
        raise ScalingLabError(f"{name} must be {what} in (0, 1]; got {_describe(value)}{hint}")
    return x


def as_count(name: str, value, what: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum`` (layers, heads, devices...)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, float, np.floating)):
        raise ScalingLabError(f"{name} must be a whole number of {what} >= {minimum}; got {_describe(value)}")
    if isinstance(value, (float, np.floating)) and not float(value).is_integer():
        raise ScalingLabError(f"{name} must be a whole number of {what} >= {minimum}; got {_describe(value)}")
    n = int(value)
    if n < minimum:
        raise ScalingLabError(f"{name} must be a whole number of {what} >= {minimum}; got {n}")
    return n


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


def scalar_or_array(x):
    """Turn a 0-d array into a Python float; leave real arrays alone."""
    arr = np.asarray(x)
    return float(arr) if arr.ndim == 0 else arr
