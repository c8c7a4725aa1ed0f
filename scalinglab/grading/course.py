"""Set up an nbgrader course directory whose ``nbgrader autograde`` is sandboxed and fails closed.

``python tools/new_course.py DIR`` calls :func:`main`. It writes
``DIR/nbgrader_config.py`` (left alone if it exists) and copies every
teacher notebook to ``DIR/source/NN_topic/NN_topic.ipynb`` without its saved
widget state. The teacher's commands then stay nbgrader's own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    import nbformat

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
