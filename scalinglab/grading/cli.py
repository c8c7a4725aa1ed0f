"""Command line: ``scalinglab grade exercises/03_chinchilla.ipynb`` grades a notebook, question by question.

Self-grading needs no nbgrader: the notebook is run top to bottom in a fresh
kernel (a copy; the file is not modified), and every graded test cell that
runs without an error earns its points.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class CellGrade:
    grade_id: str
    points: float
    earned: float
    message: str = ""


def _error_text(cell) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            ename, evalue = out.get("ename", ""), out.get("evalue", "")
            if ename == "CheckFailed":
                return evalue
            return f"{ename}: {evalue}".strip(": ")
    return ""


def grade_notebook(path: Path, timeout: int = 30) -> list[CellGrade]:
    """Execute ``path`` in a fresh kernel and score its graded test cells.

    Raises ``ValueError`` naming the file if it is not a readable notebook.
    A cell that runs longer than ``timeout`` seconds is interrupted and
    scores 0; if the kernel dies, the cells it did not reach score 0.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    try:
        nb = nbformat.read(path, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a valid notebook file (not JSON: {exc})") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read it ({exc.strerror})") from None
    graded = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    if not graded:
        raise ValueError(f"{path}: has no graded cells (nbgrader metadata); is it an exercise notebook?")
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(nb, timeout=timeout, allow_errors=True, interrupt_on_timeout=True,
                            kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    died = ""
    try:
        # the kernel's own log lines (such as its note on TCP transport) are noise in a grade report
        client.execute(stderr=subprocess.DEVNULL)
    except DeadKernelError:
        died = "the kernel died before this cell ran (os._exit, a crash or out of memory)"
    grades, answer_error = [], ""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {}) if cell.cell_type == "code" else {}
        if meta.get("solution"):
            error = _error_text(cell)
            answer_error = "" if not error or error.startswith("NotImplementedError") else error
        if not meta.get("grade"):
            continue
        points = float(meta.get("points", 0))
        grade_id = meta.get("grade_id", "?")
        error = _error_text(cell)
        if cell.get("execution_count") is None:
            grades.append(CellGrade(grade_id, points, 0.0, died or "did not run"))
        elif error:
            if answer_error and "not answered yet" in error:
                error = f"your answer cell raised {answer_error}"
            grades.append(CellGrade(grade_id, points, 0.0, error))
        else:
            grades.append(CellGrade(grade_id, points, points))
        answer_error = ""
    return grades


def _print_report(path: Path, grades: list[CellGrade]) -> None:
    print(f"{path}")
    for g in grades:
        mark = "✓" if g.earned == g.points else "✗"
        line = f"  {mark} {g.grade_id:24s} {g.earned:g}/{g.points:g}"
        print(line + (f"   {g.message}" if g.message else ""))
    earned, total = sum(g.earned for g in grades), sum(g.points for g in grades)
    print(f"  total {earned:g}/{total:g} points (the tests in this notebook; a teacher's grading adds hidden tests)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="scalinglab", description="Scaling Lab course tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help="run exercise notebooks and show the points per question")
    grade.add_argument("notebooks", nargs="+", type=Path)
    grade.add_argument("--timeout", type=int, default=30, help="seconds allowed per cell (default 30)")
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        try:
            grades = grade_notebook(path, timeout=args.timeout)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        _print_report(path, grades)
    return status


if __name__ == "__main__":
    sys.exit(main())
