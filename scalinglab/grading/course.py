"""Course files: an nbgrader course directory whose autograding is sandboxed, and the student copies.

``python tools/new_course.py DIR`` calls :func:`main`. It writes
``DIR/nbgrader_config.py`` (left alone if it exists) and copies every
teacher notebook to ``DIR/source/NN_topic/NN_topic.ipynb`` without its saved
widget state. The teacher's commands then stay nbgrader's own.
``tools/make_exercises.py`` uses :func:`release_exercise`, :func:`compare`
and :func:`answers_written` to regenerate ``exercises/`` without losing a
learner's answers.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
from pathlib import Path

import nbformat

CONFIG = '''\
# nbgrader configuration for the Scaling Lab exercises (see docs/teaching.md).
# Autograding runs every submission in a bubblewrap sandbox and judges each answer outside it.
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, ClearOutput, GetGrades,
                                    IgnorePattern, LimitOutput, OverwriteKernelspec, SaveAutoGrades)

from scalinglab.grading.nbgrader_plugins import RestoreFromSource, SandboxedGrade

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = "{course_id}"
# The exchange that release_assignment, collect and release_feedback use (see docs/teaching.md, step 2).
c.Exchange.root = "{exchange}"

# Locked and test cells are put back from source/ (so rewritten, deleted or re-labelled tests come back),
# then the submission runs sandboxed and every test is evaluated by the grader, outside it.
c.Autograde.sanitize_preprocessors = [ClearOutput, RestoreFromSource, OverwriteKernelspec, CheckCellMetadata]
c.Autograde.autograde_preprocessors = [SandboxedGrade, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]

# One cell (or one call of a student's function) may run this long, in seconds; past it the student's
# kernel is killed, that question scores 0, and the rest of the notebook is still graded.
c.SandboxedGrade.timeout = 30
c.SandboxedGrade.submission_timeout = 300     # seconds for a whole notebook
c.SandboxedGrade.memory_gb = 4.0
# Where the sandbox cannot start, autograding refuses. Only if you accept running students' code with
# your own permissions:
# c.SandboxedGrade.allow_unsandboxed = True

# Exported grades carry a status column: graded, graded with problems, failed (with the reason), not submitted.
c.ExportApp.plugin_class = "scalinglab.grading.nbgrader_plugins.StatusCsvExport"
# Feedback leaves out the hidden tests, and is released even when some submissions were placed by hand.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
c.ClearHiddenTests.enforce_metadata = False
c.ExchangeFactory.release_feedback = "scalinglab.grading.nbgrader_plugins.ManualSubmissionReleaseFeedback"
'''


def release_source(solution, target) -> None:
    """Copy a teacher notebook for nbgrader to release, without its saved widget state.

    Solutions are stored executed, and the notebook-level widget state
    (``metadata.widgets``) records where their explorers were left -- the answer
    of a widget question. nbgrader clears cell outputs but not that state, so it
    is removed here, before ``nbgrader generate_assignment`` sees the notebook.
    """
    nb = nbformat.read(solution, as_version=4)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, target)


def new_course(course: Path, solutions: Path, *, course_id: str = "scalinglab",
               exchange: str = "/srv/nbgrader/exchange") -> list[Path]:
    """Write ``course``'s config (if absent) and its ``source/`` from ``solutions``; return the files written."""
    course.mkdir(parents=True, exist_ok=True)
    written = []
    config = course / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG.format(course_id=course_id, exchange=exchange))
        written.append(config)
    for solution in sorted(solutions.glob("*.ipynb")):
        target = course / "source" / solution.stem / solution.name
        target.parent.mkdir(parents=True, exist_ok=True)
        release_source(solution, target)
        written.append(target)
    return written


# --- student copies (tools/make_exercises.py) ------------------------------------------------------

def nbgrader_command() -> list[str]:
    exe = Path(sys.executable).with_name("nbgrader")
    if not exe.exists():
        raise RuntimeError("nbgrader is not installed: run  pip install -e '.[classroom]'  (make test does this)")
    return [str(exe)]


def release_exercise(solution: Path, course: Path) -> Path:
    """Run nbgrader generate_assignment on one solution notebook; return the released file."""
    name = solution.stem
    source = course / "source" / name
    source.mkdir(parents=True, exist_ok=True)
    release_source(solution, source / solution.name)
    cmd = nbgrader_command() + ["generate_assignment", name, "--force", "--log-level=WARN",
                                f"--CourseDirectory.root={course}",
                                f"--CourseDirectory.db_url=sqlite:///{course}/gradebook.db"]
    # nbgrader runs helper programs (alembic) found on PATH: use this environment's
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(cmd, cwd=course, capture_output=True, text=True, env=env)
    released = course / "release" / name / solution.name
    if done.returncode != 0 or not released.exists():
        raise RuntimeError(f"nbgrader generate_assignment failed for {solution}:\n{done.stdout}\n{done.stderr}")
    return released


def _answer_ids(nb) -> set:
    return {c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def _without_answers(nb, answer_ids: set) -> list:
    """The notebook's cells with every answer cell blanked and all outputs dropped: what generation decides."""
    cells = []
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        source = "<answer>" if grade_id in answer_ids else cell.source
        meta = {k: v for k, v in cell.metadata.items() if k not in ("execution", "scrolled", "collapsed", "trusted")}
        cells.append((cell.cell_type, source, repr(sorted(meta.items()))))
    return cells


def compare(existing: Path, generated: Path) -> str:
    """"same", "answered" (only answers and outputs differ: a learner worked here) or "stale"."""
    if filecmp.cmp(existing, generated, shallow=False):
        return "same"
    try:
        old = nbformat.read(existing, as_version=4)
    except Exception:   # not even a notebook: regenerate it (after a backup)
        return "stale"
    new = nbformat.read(generated, as_version=4)
    answers = _answer_ids(new)
    return "answered" if _without_answers(old, answers) == _without_answers(new, answers) else "stale"


def answers_written(existing: Path, generated: Path) -> bool:
    """Whether any answer cell of ``existing`` differs from the freshly generated stub (a learner wrote there)."""
    try:
        old = nbformat.read(existing, as_version=4)
    except Exception:   # an unreadable file: keep it, to be safe
        return True
    new = nbformat.read(generated, as_version=4)
    stubs = {c.metadata["nbgrader"]["grade_id"]: c.source for c in new.cells
             if c.metadata.get("nbgrader", {}).get("solution")}
    return any(c.metadata.get("nbgrader", {}).get("grade_id") in stubs
               and c.source != stubs[c.metadata["nbgrader"]["grade_id"]] for c in old.cells)


def main(argv=None, solutions: Path | None = None) -> int:
    parser = argparse.ArgumentParser(description="Set up an nbgrader course directory for the Scaling Lab exercises.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--course-id", default="scalinglab")
    parser.add_argument("--exchange", default="/srv/nbgrader/exchange",
                        help="the exchange folder students and teacher share (default /srv/nbgrader/exchange)")
    args = parser.parse_args(argv)
    solutions = solutions or Path.cwd() / "solutions"
    if not solutions.is_dir():
        print(f"error: no solutions/ folder at {solutions}", file=sys.stderr)
        return 2
    for path in new_course(args.directory.expanduser().resolve(), solutions, course_id=args.course_id,
                           exchange=args.exchange):
        print(f"wrote {path}")
    return 0
