"""Checking exercise answers: instant feedback for learners, the same tests for graders.

An exercise notebook starts with ``check = checker("03_chinchilla")``. Each
graded test cell calls ``check("q1")``: it reads the answer variables named
by the question from the notebook's namespace and runs the question's public
test, defined in :mod:`scalinglab.questions`. A pass prints a tick; a wrong
answer raises :class:`CheckFailed` with a hint (so nbgrader and
``scalinglab grade`` score the cell 0); a missing answer says "not answered
yet". Hidden tests, which nbgrader adds back at grading time, follow the
call in the same cell.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Callable

from .._checks import ScalingLabError, unknown_name


class CheckFailed(AssertionError):
    """A question's check failed; shown in a notebook as two short lines, not a traceback."""

    def __init__(self, question: str, message: str, hint: str = ""):
        super().__init__(f"{question}: {message}" + (f" Hint: {hint}" if hint else ""))
        self.question, self.message, self.hint = question, message, hint

    def _render_traceback_(self):   # IPython shows this instead of a traceback
        lines = [f"✗ {self.question}: {self.message}"]
        if self.hint:
            lines.append(f"  Hint: {self.hint}")
        return lines


class WrongAnswer(Exception):
    """Raised by a public test; carries what is wrong (never the answer)."""


class NotAnswered(Exception):
    """Raised by a public test when the answer is still in its starting state (e.g. an untouched explorer)."""


@dataclass(frozen=True)
class Question:
    """One graded question: the variables it reads, its public test and a hint."""

    key: str
    names: tuple            # variable names the learner defines
    test: Callable          # test(*values), or test(V, *values) with a variant; raises WrongAnswer
    hint: str
    points: int = 2
    variant: bool = False   # the test takes the student's variant V (scalinglab.grading.variants) first
    graded_only: bool = False   # a multiple choice: check() records it, only the grader scores it


MISSING = object()


def _blank(value) -> bool:
    return value is MISSING or value is None or value is Ellipsis


def run_check(exercise: str, key: str, namespace: dict, *, quiet: bool = False) -> bool:
    """Run question ``key`` of ``exercise`` against ``namespace``; raise CheckFailed if it fails."""
    from .questions import EXERCISES

    if exercise not in EXERCISES:
        raise unknown_name("exercise", exercise, "exercise", EXERCISES)
    questions = EXERCISES[exercise]
    if key not in questions:
        raise unknown_name("question", key, "question", questions)
    q = questions[key]
    values = [namespace.get(name, MISSING) for name in q.names]
    if q.variant:
        from .variants import Variant

        V = namespace.get("V")
        if not isinstance(V, Variant) or V.exercise != exercise:
            raise CheckFailed(key, "your variant V is not defined: run the notebook's first code cell.")
        values = [V, *values]
        names = ("V", *q.names)
    else:
        names = q.names
    missing = [name for name, value in zip(names, values) if _blank(value)]
    if missing:
        raise CheckFailed(key, f"not answered yet: define {', '.join(missing)} in the answer cell and run it.")
    try:
        q.test(*values)
    except NotAnswered as exc:
        raise CheckFailed(key, f"not answered yet: {exc}") from None
    except NotImplementedError:   # a function whose body is still the exercise's stub
        raise CheckFailed(key, f"not answered yet: write {', '.join(q.names)} in the answer cell and run it.") from None
    except WrongAnswer as exc:
        raise CheckFailed(key, f"not quite. {exc}", q.hint) from None
    except ScalingLabError as exc:
        raise CheckFailed(key, f"your answer raised an error: {clip(exc)}", q.hint) from None
    except Exception as exc:  # a learner's function may fail in any way
        raise CheckFailed(key, f"your answer raised {type(exc).__name__}: {clip(exc)}", q.hint) from None
    if not quiet:
        print(f"✓ {key}: checked as far as it can be here; its multiple-choice answer is scored only when it is "
              "graded." if q.graded_only else f"✓ {key}: correct.")
    return True


def checker(exercise: str):
    """Return ``check(key)`` for the exercise notebook ``exercise`` (e.g. "03_chinchilla")."""
    from .questions import EXERCISES

    if exercise not in EXERCISES:
        raise unknown_name("exercise", exercise, "exercise", EXERCISES)

    def check(key: str) -> None:
        """Check question ``key`` against the variables defined in this notebook (prints ✓ or raises)."""
        namespace = sys._getframe(1).f_globals   # the notebook's namespace when called from a cell
        run_check(exercise, key, namespace)

    check.exercise = exercise
    return check


# --- helpers for writing public tests -------------------------------------------------------------

def round_sig(x: float, digits: int) -> float:
    """``x`` rounded to ``digits`` significant digits: variant inputs read as a person would write them.

    >>> round_sig(123456.0, 2), round_sig(0.0012345, 3)
    (120000.0, 0.00123)
    """
    return float(f"{x:.{digits}g}")


def expect_number(name: str, value, unit: str) -> float:
    """``value`` as a float, or WrongAnswer saying what kind of value is expected."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise WrongAnswer(f"{name} should be a number of {unit}; it is {type(value).__name__} {_short(value)}.")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise WrongAnswer(f"{name} should be a single number of {unit}; got {_short(value)}.") from None
    if not math.isfinite(x):
        raise WrongAnswer(f"{name} should be a finite number of {unit}; got {x!r}.")
    return x


def expect_close(name: str, value, target: float, unit: str, rel: float = 0.02, too_low: str = "",
                 too_high: str = "") -> None:
    """WrongAnswer unless ``value`` is within ``rel`` of ``target``; says only low or high, not by how much."""
    x = expect_number(name, value, unit)
    if abs(x - target) <= rel * abs(target):
        return
    if x < target:
        raise WrongAnswer(f"{name} is too low. {too_low}".strip())
    raise WrongAnswer(f"{name} is too high. {too_high}".strip())


def expect_exact(name: str, value, target: float, unit: str, rel: float = 1e-9, too_low: str = "",
                 too_high: str = "") -> None:
    """WrongAnswer unless ``value`` is ``target`` to ``rel`` (what the hidden tests require too).

    Within 0.5% but not exact, it says the value was rounded (keep full precision); otherwise only
    whether it is too low or too high, never by how much.
    """
    x = expect_number(name, value, unit)
    if abs(x - target) <= rel * abs(target):
        return
    if abs(x - target) <= 5e-3 * abs(target):
        raise WrongAnswer(f"{name} is close but not exact: it looks rounded, or computed from rounded values. "
                          "Keep full precision: compute it from V and the library, and do not type numbers in.")
    if x < target:
        raise WrongAnswer(f"{name} is too low. {too_low}".strip())
    raise WrongAnswer(f"{name} is too high. {too_high}".strip())


def expect_choice(name: str, value, options) -> None:
    """WrongAnswer unless ``value`` is one of ``options``. Which one is right, only the grader knows."""
    if not isinstance(value, str) or value.strip().lower() not in {o.lower() for o in options}:
        raise WrongAnswer(f"{name} should be one of {', '.join(repr(o) for o in options)}; got {_short(value)}.")


def expect_explorer(name: str, explorer, kind: str, field: str, untouched: str = "") -> None:
    """Check an explorer answer before its values: it is the ``kind`` of the cell above (its result has
    ``field``); while untouched, NotAnswered with ``untouched`` (when given); and it is where its answer
    cell's ``.set(...)`` line put it (:func:`expect_recorded`)."""
    if not hasattr(explorer, "result") or not hasattr(explorer.result, field):
        raise WrongAnswer(f"{name} should be the {kind} created in the cell above.")
    if untouched and explorer.untouched:
        raise NotAnswered(untouched)
    expect_recorded(name, explorer)


def expect_recorded(name: str, explorer) -> None:
    """NotAnswered unless the explorer is where its answer cell's ``.set(...)`` line put it (what is graded)."""
    if not getattr(explorer, "recorded", True):
        raise NotAnswered(f"the sliders of {name} were moved after its last .set(...): run "
                          f"{name}.settings({name!r}), paste the line it prints into the answer cell and run that "
                          "cell. Grading reruns the notebook, so only that line counts.")


def _short(value, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages that echo an answer."""
    try:
        text = repr(value)
    except Exception:   # a learner's object may fail to print
        text = f"<{type(value).__name__}>"
    return clip(text, limit)


def clip(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"
