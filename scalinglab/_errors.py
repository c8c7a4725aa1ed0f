"""The library's error types, in a module of their own so that every other module can import them."""

from __future__ import annotations

from typing import Iterable


class ScalingLabError(ValueError):
    """Bad input to a scalinglab function (a ``ValueError`` subclass)."""


class UnknownNameError(ScalingLabError):
    """A name (accelerator, model, fit, precision...) that is not in the tables."""

    def __init__(self, message: str, suggestions: Iterable[str] = ()):
        super().__init__(message)
        self.suggestions = list(suggestions)
