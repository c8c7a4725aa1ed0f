"""Per-student variants: every student gets their own inputs, drawn from a seed derived from who they are.

The identity is taken, in this order, from

1. ``SCALINGLAB_GRADING_STUDENT`` -- nbgrader's student id, set by the grader when it autogrades;
2. ``JUPYTERHUB_USER`` -- the user on a JupyterHub;
3. ``SCALINGLAB_STUDENT`` -- set it yourself to practise on another variant;
4. otherwise the fixed ``"self-study"`` variant.

The same identity always gives the same inputs (the seed is a SHA-256 of the
exercise and the identity), on the learner's kernel and on the grader's side
alike, so each student is graded against their own variant. Inputs are drawn
by each exercise's ``make_variant(rng)`` from real models, accelerators and
budgets in the range its lesson teaches: they are never noise on a constant.

>>> a, b = variant("03_chinchilla", "alice"), variant("03_chinchilla", "bob")
>>> a == variant("03_chinchilla", "alice"), a.values == b.values
(True, False)
"""

from __future__ import annotations

import hashlib
import html
import os
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

SELF_STUDY = "self-study"
IDENTITY = (("SCALINGLAB_GRADING_STUDENT", "nbgrader's student id"),
            ("JUPYTERHUB_USER", "your JupyterHub user"),
            ("SCALINGLAB_STUDENT", "SCALINGLAB_STUDENT"))


def student_identity() -> tuple[str, str]:
    """(identity, where it came from), in the order the module docstring gives."""
    for variable, source in IDENTITY:
        value = os.environ.get(variable, "").strip()
        if value:
            return value[:200], source
    return SELF_STUDY, "no identity set: the self-study variant"


def variant_rng(exercise: str, student: str) -> np.random.Generator:
    """The random generator of one student's variant of one exercise (deterministic)."""
    digest = hashlib.sha256(f"scalinglab-variant/{exercise}/{student}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


@dataclass(frozen=True)
class Variant:
    """One student's inputs for one exercise set: ``V["budget"]`` or ``V.budget``."""

    exercise: str
    student: str
    source: str
    values: MappingProxyType = field(compare=True)

    def __getitem__(self, key):
        return self.values[key]

    def __getattr__(self, key):
        try:
            return self.__dict__["values"][key]
        except KeyError:
            raise AttributeError(f"this variant has no input {key!r}; it has {', '.join(self.values)}") from None

    def __eq__(self, other):
        return isinstance(other, Variant) and (self.exercise, self.student, dict(self.values)) == \
            (other.exercise, other.student, dict(other.values))

    __hash__ = None

    def __repr__(self) -> str:
        rows = "\n".join(f"  {k} = {_show(v)}" for k, v in self.values.items())
        return f"Your variant of {self.exercise}: {self.student!r} ({self.source})\n{rows}"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td><code>V[{k!r}]</code></td><td>{html.escape(_show(v))}</td></tr>"
                       for k, v in self.values.items())
        return (f"<p><b>Your variant</b> of {html.escape(self.exercise)}: <code>{html.escape(self.student)}</code> "
                f"({html.escape(self.source)})</p><table>{rows}</table>")


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=4, separator=", ", max_line_width=100)
    return repr(value) if isinstance(value, str) else str(value)


def variant(exercise: str, student: str | None = None) -> Variant:
    """The variant of ``exercise`` for ``student`` (default: this session's identity, see the module)."""
    from .questions import VARIANTS

    from .._checks import unknown_name

    if exercise not in VARIANTS:
        raise unknown_name("exercise", exercise, "exercise with variants", VARIANTS)
    if student is None:
        student, source = student_identity()
    else:
        student, source = str(student), "chosen"
    values = VARIANTS[exercise](variant_rng(exercise, student))
    return Variant(exercise, student, source, MappingProxyType(dict(values)))
