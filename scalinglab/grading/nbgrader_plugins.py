"""nbgrader plug-ins that make ``nbgrader autograde`` safe; ``tools/new_course.py`` writes the config that uses them.

* :class:`RestoreFromSource` (sanitizing step) -- rebuilds the submission's
  structure from the teacher's source notebook: every locked and test cell
  is put back as written there, with its points; cells with unknown or
  repeated ids become ordinary cells; missing ones are re-inserted.
* :class:`SandboxedGrade` (replaces nbgrader's ``Execute``) -- runs the
  submission's cells in a bubblewrap sandbox and evaluates every test on the
  grader's side (:mod:`scalinglab.grading.engine`). A test's cell gets an
  error output when its question failed, which nbgrader scores 0.
* :class:`StatusCsvExport` -- ``nbgrader export`` with two more columns,
  ``status`` and ``problems``: a submission that could not be graded says so
  instead of showing a silent 0.
* :class:`ManualSubmissionReleaseFeedback` -- ``nbgrader release_feedback``
  that skips, with a warning, submissions placed by hand (no
  ``timestamp.txt``) instead of crashing and releasing nothing.

Every outcome is also written to ``grading_status.json`` in the course root.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import time
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback
from nbgrader.plugins.export import ExportPlugin
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Int

from .engine import Graded, Run, Teacher, grade
from .sandbox import OPT_OUT, Limits, SandboxUnavailable, probe

STATUS_FILE = "grading_status.json"


def _coursedir(config) -> CourseDirectory:
    return CourseDirectory(config=config)


def _status_path(config) -> Path:
    return Path(_coursedir(config).root) / STATUS_FILE


def read_status(path: Path) -> dict:
    """The grading outcomes recorded so far, keyed "assignment/student/notebook"."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _record(config, resources, **entry) -> None:
    nbg = resources["nbgrader"]
    path = _status_path(config)
    status = read_status(path)
    status[f"{nbg['assignment']}/{nbg['student']}/{nbg['notebook']}"] = {**entry, "time": time.time()}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(status, indent=1, sort_keys=True))
    os.replace(tmp, path)


def _source_notebook(config, resources):
    coursedir = _coursedir(config)
    nbg = resources["nbgrader"]
    path = Path(coursedir.format_path(coursedir.source_directory, ".", nbg["assignment"])) / f"{nbg['notebook']}.ipynb"
    return nbformat.read(path, as_version=4)


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _is_test(cell) -> bool:
    meta = _meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _is_locked_code(cell) -> bool:
    meta = _meta(cell)
    return cell.cell_type == "code" and bool(meta.get("locked")) and not meta.get("grade") and not meta.get("solution")


class RestoreFromSource(NbGraderPreprocessor):
    """Put every locked and graded cell back exactly as in the teacher's source; keep only the answers."""

    def preprocess(self, nb, resources):
        source = _source_notebook(self.config, resources)
        points = {}
        nbg = resources["nbgrader"]
        with Gradebook(nbg["db_url"]) as gb:
            for cell in source.cells:
                meta = _meta(cell)
                if meta.get("grade"):
                    try:
                        points[meta["grade_id"]] = gb.find_graded_cell(meta["grade_id"], nbg["notebook"],
                                                                      nbg["assignment"]).max_score
                    except MissingEntry:
                        points[meta["grade_id"]] = float(meta.get("points", 0))
        order = [_meta(c).get("grade_id") for c in source.cells]
        by_id = {_meta(c)["grade_id"]: c for c in source.cells if _meta(c).get("grade_id")}
        emitted, cells = set(), []

        def restored(cell):
            meta = _meta(cell)
            clean = copy.deepcopy(cell)
            if meta.get("grade"):
                clean.metadata.nbgrader["points"] = points.get(meta["grade_id"], meta.get("points", 0))
            if meta.get("solution"):   # an answer cell the submission lost: an empty answer
                clean.source = ""
            if clean.cell_type == "code":
                clean.outputs, clean.execution_count = [], None
            return clean

        def emit_missing_before(grade_id):
            for gid in order[: order.index(grade_id)] if grade_id in order else order:
                if gid and gid not in emitted:
                    emitted.add(gid)
                    cells.append(restored(by_id[gid]))

        for cell in nb.cells:
            gid = _meta(cell).get("grade_id")
            if gid not in by_id or gid in emitted:      # unknown or repeated id: an ordinary cell
                cell.metadata.pop("nbgrader", None)
                cells.append(cell)
                continue
            emit_missing_before(gid)
            emitted.add(gid)
            original = by_id[gid]
            if _meta(original).get("solution"):          # the learner's answer, under the teacher's metadata
                answer = copy.deepcopy(cell)
                answer.cell_type = original.cell_type
                answer.metadata["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])
                if answer.cell_type == "code":
                    answer.setdefault("outputs", [])
                    answer.setdefault("execution_count", None)
                else:
                    answer.pop("outputs", None)
                    answer.pop("execution_count", None)
                cells.append(answer)
            else:
                cells.append(restored(original))
        emit_missing_before(None)
        nb.cells = cells
        return nb, resources


class SandboxedGrade(NbGraderPreprocessor):
    """Run the submission sandboxed and judge every test outside it (replaces nbgrader's Execute)."""

    timeout = Int(30, help="Seconds one cell, or one call of a learner's function, may run.").tag(config=True)
    submission_timeout = Int(300, help="Seconds one notebook may run in all.").tag(config=True)
    memory_gb = Float(4.0, help="Memory (address space) a submission's kernel may use, in GB.").tag(config=True)
    allow_unsandboxed = Bool(False, help="Grade without the bubblewrap sandbox where it cannot start. "
                                         "Student code then runs with your permissions.").tag(config=True)

    def preprocess(self, nb, resources):
        from .questions import EXERCISES

        nbg = resources["nbgrader"]
        who = f"{nbg['student']}'s {nbg['assignment']}/{nbg['notebook']}"
        sandboxed = True
        try:
            probe()
        except SandboxUnavailable as exc:
            if not self.allow_unsandboxed:
                _record(self.config, resources, status="failed", problems=[f"not graded: {exc}"])
                self.log.error("Autograding refuses to run %s: %s", who, exc)
                raise
            sandboxed = False
            self.log.warning("Grading %s WITHOUT a sandbox (%s is set): %s", who, OPT_OUT, exc)
        questions = EXERCISES.get(nbg["assignment"]) or EXERCISES.get(nbg["notebook"]) or {}
        plan = []
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if _is_test(cell):
                plan.append(Graded(cell.source, index, _meta(cell)["grade_id"], float(_meta(cell).get("points", 0))))
                continue
            plan.append(Run(cell.source, index, _meta(cell).get("grade_id") or f"cell {index} (added by the student)"))
            if _is_locked_code(cell):    # restored from the source by RestoreFromSource: the teacher's code
                plan.append(Teacher(cell.source, index))
        limits = Limits(cell_timeout=self.timeout, submission_timeout=self.submission_timeout,
                        memory=int(self.memory_gb * (1 << 30)))
        report = grade(plan, limits=limits, sandboxed=sandboxed, questions=questions, student=nbg["student"])
        for index, outputs in report.outputs.items():
            nb.cells[index].outputs = [nbformat.from_dict(o) for o in outputs]
            nb.cells[index].execution_count = None
        if not sandboxed:
            report.problems.insert(0, "graded without a sandbox")
        for problem in report.problems:
            self.log.warning("%s: %s", who, problem)
        _record(self.config, resources, status="graded with problems" if report.problems else "graded",
                problems=report.problems, seconds=round(report.seconds, 2), score=report.earned,
                max_score=report.total, sandboxed=sandboxed)
        self.log.info("%s: %g/%g points in %.1f s%s", who, report.earned, report.total, report.seconds,
                      "" if sandboxed else " (unsandboxed)")
        return nb, resources


def _diagnose(path: Path) -> str:
    """Why a submitted notebook could not be graded, read here without running it."""
    try:
        nbformat.read(path, as_version=4)
    except Exception as exc:   # nbformat raises many kinds
        return f"not a readable notebook ({type(exc).__name__}: {str(exc)[:200]})"
    return "grading stopped with an error; see the autograde log"


class StatusCsvExport(ExportPlugin):
    """``nbgrader export`` to CSV, with ``status`` and ``problems`` columns beside nbgrader's own."""

    def export(self, gradebook) -> None:
        coursedir = _coursedir(self.config)
        status = read_status(Path(coursedir.root) / STATUS_FILE)
        dest = self.to or "grades.csv"
        keys = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                "raw_score", "late_submission_penalty", "score", "max_score", "status", "problems"]
        with open(dest, "w", newline="") as fh:
            writer = csv.DictWriter(fh, keys)
            writer.writeheader()
            for assignment in gradebook.assignments:
                if self.assignment and assignment.name not in self.assignment:
                    continue
                for student in gradebook.students:
                    if self.student and student.id not in self.student:
                        continue
                    row = {"assignment": assignment.name, "duedate": assignment.duedate or "",
                           "student_id": student.id, "last_name": student.last_name or "",
                           "first_name": student.first_name or "", "email": student.email or "",
                           "max_score": assignment.max_score}
                    row.update(self._outcome(coursedir, gradebook, assignment, student.id, status))
                    writer.writerow(row)
        self.log.info("Exported grades, with each submission's status, to %s", dest)

    def _outcome(self, coursedir, gradebook, assignment, student_id, status) -> dict:
        submitted = Path(coursedir.format_path(coursedir.submitted_directory, student_id, assignment.name))
        autograded = Path(coursedir.format_path(coursedir.autograded_directory, student_id, assignment.name))
        states, problems, failed = [], [], []
        for notebook in assignment.notebooks:
            entry = status.get(f"{assignment.name}/{student_id}/{notebook.name}")
            path = submitted / f"{notebook.name}.ipynb"
            if not path.exists():
                states.append("not submitted")
            elif not (autograded / f"{notebook.name}.ipynb").exists():
                failed.append(f"{notebook.name}: " + (("; ".join(entry.get("problems", [])) if entry else "")
                                                      or _diagnose(path)))
            elif entry:
                states.append(entry.get("status", "graded"))
                problems += [f"{notebook.name}: {p}" for p in entry.get("problems", [])]
            else:
                states.append("graded")
        try:
            submission = gradebook.find_submission(assignment.name, student_id)
            scores = {"timestamp": submission.timestamp or "", "raw_score": submission.score,
                      "late_submission_penalty": submission.late_submission_penalty,
                      "score": max(0.0, submission.score - submission.late_submission_penalty)}
        except MissingEntry:
            scores = {"timestamp": "", "raw_score": 0.0, "late_submission_penalty": 0.0, "score": 0.0}
        if failed:
            return {**scores, "status": "failed", "problems": " | ".join(failed + problems)}
        if states and all(s == "not submitted" for s in states):
            return {**scores, "status": "not submitted", "problems": ""}
        state = "graded with problems" if problems or "graded with problems" in states else "graded"
        return {**scores, "status": state, "problems": " | ".join(problems)}


class ManualSubmissionReleaseFeedback(ExchangeReleaseFeedback):
    """Release feedback; a submission placed by hand (no timestamp.txt) is skipped with a warning, not a crash."""

    def copy_files(self):
        import glob

        skipped = set()
        for html in glob.glob(os.path.join(self.src_path, "*.html")):
            folder = Path(html).parent
            if not ((folder / "timestamp.txt").exists() and (folder / "submission_secret.txt").exists()):
                skipped.add(folder.parent.name)
                self.log.warning("Not releasing %s: that submission did not come through the exchange (no "
                                 "timestamp.txt). Return this file to the student yourself.", html)
        if skipped:   # nbgrader's own exclusion list: it then releases everyone else's feedback
            before = self.coursedir.student_id_exclude
            self.coursedir.student_id_exclude = ",".join(sorted(skipped | set(filter(None, before.split(",")))))
            try:
                super().copy_files()
            finally:
                self.coursedir.student_id_exclude = before
        else:
            super().copy_files()


__all__ = ["ManualSubmissionReleaseFeedback", "RestoreFromSource", "SandboxedGrade", "StatusCsvExport",
           "read_status"]
