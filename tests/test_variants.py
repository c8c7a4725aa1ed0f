"""Per-student variants: different students get different answers, each is graded against their own,
and no lesson prints a variant's answer."""

import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from scalinglab.grading.engine import Graded, Run, Session, Teacher
from scalinglab.grading.questions import EXERCISES, VARIANTS
from scalinglab.grading.sandbox import Limits, SandboxUnavailable, probe
from scalinglab.grading.variants import variant

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = ("alice", "bob", "self-study")


def _sandbox_or_skip():
    try:
        probe()
    except SandboxUnavailable as exc:
        pytest.skip(f"the sandbox cannot start here: {exc}")


def _solution(exercise):
    return nbformat.read(ROOT / "solutions" / f"{exercise}.ipynb", as_version=4)


def _plan(exercise, tests=True):
    """The solution notebook as a grading plan: its cells run, its tests (hidden ones included) judged outside."""
    plan = []
    for index, cell in enumerate(_solution(exercise).cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            if tests:
                plan.append(Graded(cell.source, index, meta["grade_id"], float(meta["points"])))
            continue
        plan.append(Run(cell.source, index, meta.get("grade_id", "")))
        if meta.get("locked"):
            plan.append(Teacher(cell.source, index))
    return plan


def _session(kernel_student, grader_student, exercise):
    """A session whose kernel is ``kernel_student``'s notebook and whose grader grades ``grader_student``."""
    session = Session(Limits(cell_timeout=60, submission_timeout=600), questions=EXERCISES[exercise],
                      env={"SCALINGLAB_GRADING_STUDENT": kernel_student})
    return session


def _carry_out(session, plan, grader_student):
    saved = os.environ.get("SCALINGLAB_GRADING_STUDENT")
    os.environ["SCALINGLAB_GRADING_STUDENT"] = grader_student
    try:
        for step in plan:
            if isinstance(step, Run):
                session.run(step)
            elif isinstance(step, Teacher):
                session.teacher(step)
            else:
                session.test(step)
    finally:
        if saved is None:
            os.environ.pop("SCALINGLAB_GRADING_STUDENT", None)
        else:
            os.environ["SCALINGLAB_GRADING_STUDENT"] = saved
    return session.report


def _numeric_answers(exercise, student):
    """The solution's numeric answers for ``student``'s variant, computed in a sandboxed kernel."""
    session = _session(student, student, exercise)
    try:
        for step in _plan(exercise, tests=False):
            if isinstance(step, Run):
                session.run(step)
        names = {n for q in EXERCISES[exercise].values() for n in q.names}
        values = session.fetch(names)
    finally:
        session.close()
    out = {}
    for name, value in values.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value):
            out[name] = float(value)
        elif isinstance(value, (tuple, list, np.ndarray)) and len(value) and \
                all(isinstance(v, (int, float, np.floating)) and not isinstance(v, bool) for v in value):
            out.update({f"{name}[{i}]": float(v) for i, v in enumerate(value)})
    return out


@pytest.fixture(scope="module")
def answers():
    _sandbox_or_skip()
    return {(exercise, student): _numeric_answers(exercise, student) for exercise in VARIANTS for student in STUDENTS}


@pytest.mark.parametrize("exercise", sorted(VARIANTS))
def test_variants_are_deterministic_and_differ_between_students(exercise):
    assert variant(exercise, "alice") == variant(exercise, "alice")
    alice, bob = variant(exercise, "alice"), variant(exercise, "bob")
    differ = [k for k in alice.values if repr(alice[k]) != repr(bob[k])]
    assert differ, "two students got the same inputs"


@pytest.mark.parametrize("exercise", sorted(VARIANTS))
def test_at_least_half_the_numeric_answers_differ_between_two_students(answers, exercise):
    alice, bob = answers[(exercise, "alice")], answers[(exercise, "bob")]
    assert alice, "no numeric answers found"
    same = [k for k in alice if k in bob and np.isclose(alice[k], bob[k], rtol=1e-9)]
    assert len(same) <= len(alice) / 2, f"the same for alice and bob: {same}"


@pytest.mark.parametrize("exercise", sorted(VARIANTS))
def test_each_student_passes_on_their_own_variant_and_not_on_anothers(exercise):
    _sandbox_or_skip()
    plan = _plan(exercise)
    own = _carry_out(_session("alice", "alice", exercise), plan, "alice")
    assert own.earned == own.total, [(t.grade_id, t.message) for t in own.tests if t.earned < t.points]
    copied = _carry_out(_session("alice", "bob", exercise), plan, "bob")
    assert copied.earned < copied.total, "alice's answers passed as bob's"


def _lesson_text():
    texts = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            texts.append(cell.source)
            for output in cell.get("outputs", []):
                texts.append(str(output.get("text", "")))
                texts.extend(str(v) for k, v in output.get("data", {}).items()   # text, not base64 pictures
                             if k.startswith("text/"))
    return "\n".join(texts)


def _forms(x):
    """How a lesson could print ``x``: four significant digits, and fixed forms with 3 or 4 decimals."""
    forms = {f"{x:.4g}"}
    if 0.01 <= abs(x) < 1000:
        forms |= {f"{x:.3f}", f"{x:.4f}"}
    # a form with fewer than four significant non-zero digits is too common to mean anything
    return {f for f in forms if len(re.sub(r"[^1-9]", "", f.split("e")[0])) >= 3}


def test_no_lesson_prints_a_variant_answer(answers):
    text = _lesson_text()
    found = []
    for (exercise, student), values in answers.items():
        for name, x in values.items():
            for form in _forms(x):
                if re.search(rf"(?<![\d.]){re.escape(form)}(?!\d)", text):
                    found.append((exercise, student, name, form))
    assert not found, f"lessons print these answers: {found}"
