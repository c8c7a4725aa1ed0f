"""Command line: ``scalinglab start`` copies the exercises to work on; ``scalinglab grade`` shows your points.

``scalinglab grade work/03_chinchilla.ipynb`` grades a notebook against the
exercise's own questions and points (never the file's metadata). Its cells
run in a separate process -- sandboxed where bubblewrap is available -- with
a deadline per cell and one for the whole notebook, past which that process
is killed; each question is then judged here, outside it, on the values it
reports. The file is never modified. Hidden tests are added only by a
teacher's grading.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

from .checks import clip
from .engine import Graded, Report, Run, Teacher, grade
from .sandbox import Limits, SandboxUnavailable, probe

_CHECK = re.compile(r"""\bcheck\(\s*["'](q\d+)["']\s*\)""")
_CHECKER = re.compile(r"""checker\(\s*["']([0-9A-Za-z_]+)["']\s*\)""")


class NotGradable(ValueError):
    """A file that is not an exercise notebook; the message is one line naming it."""


def _cells(path: Path) -> list[dict]:
    """The notebook's cells, checked by hand: any malformed file gives one clear line."""
    if not path.is_file():
        raise NotGradable(f"{path}: not a notebook file" + (" (no such file)" if not path.exists() else ""))
    if path.stat().st_size > 64 << 20:
        raise NotGradable(f"{path}: too large for a notebook ({path.stat().st_size:,} bytes)")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotGradable(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise NotGradable(f"{path}: not a notebook (not UTF-8 text)") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise NotGradable(f"{path}: not a notebook (not valid JSON: {exc})") from None
    except RecursionError:
        raise NotGradable(f"{path}: not a notebook (nested too deeply)") from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise NotGradable(f"{path}: not a notebook (no cells)")
    if data.get("nbformat") != 4:
        try:
            import nbformat

            data = nbformat.convert(nbformat.from_dict(data), 4)
        except Exception as exc:   # nbformat raises many kinds for old or broken files
            raise NotGradable(f"{path}: a notebook in format {data.get('nbformat')!r} that cannot be read "
                              f"({type(exc).__name__})") from None
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise NotGradable(f"{path}: not a notebook (its cells are not a list)")
    out = []
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict):
            raise NotGradable(f"{path}: cell {i} is not a cell")
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(s) for s in source)
        metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        out.append({"cell_type": cell.get("cell_type"), "source": str(source), "metadata": metadata})
    return out


def _exercise(path: Path, cells: list[dict], exercises: dict) -> str:
    if path.stem in exercises:
        return path.stem
    for cell in cells:
        match = _CHECKER.search(cell["source"]) if cell["cell_type"] == "code" else None
        if match and match.group(1) in exercises:
            return match.group(1)
    raise NotGradable(f"{path}: cannot tell which exercise this is (name it like {next(iter(exercises))}.ipynb)")


def plan_for(path: Path) -> tuple[str, list]:
    """The exercise a notebook answers, and its grading plan: its cells run, the exercise's tests judged here."""
    from .questions import EXERCISES, VARIANTS

    cells = _cells(path)
    exercise = _exercise(path, cells, EXERCISES)
    questions = EXERCISES[exercise]
    setup = f"from scalinglab.grading import checker, variant\ncheck = checker({exercise!r})"
    if exercise in VARIANTS:   # graded against the variant of this identity, as the notebook computes it
        setup += f"\nV = variant({exercise!r})"
    plan = [Teacher(setup, -1)]
    placed = set()
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        keys = [k for k in _CHECK.findall(cell["source"]) if k in questions]
        nbg = cell["metadata"].get("nbgrader", {})
        is_test = keys and (isinstance(nbg, dict) and nbg.get("grade") or cell["source"].strip() == f'check("{keys[0]}")')
        if is_test:
            for key in keys:
                if key not in placed:
                    placed.add(key)
                    plan.append(Graded(f"check({key!r})", index, key, float(questions[key].points)))
            continue
        nbg_id = nbg.get("grade_id") if isinstance(nbg, dict) else None
        plan.append(Run(cell["source"], index, str(nbg_id) if nbg_id else f"cell {index + 1}"))
    for key, question in questions.items():   # a deleted test is still graded, at the end
        if key not in placed:
            plan.append(Graded(f"check({key!r})", len(cells), key, float(question.points)))
    return exercise, plan


def grade_file(path: Path, limits: Limits, sandboxed: bool) -> tuple[str, Report]:
    from .questions import EXERCISES

    exercise, plan = plan_for(path)
    report = grade(plan, limits=limits, sandboxed=sandboxed, questions=EXERCISES[exercise])
    for t in report.tests:   # a multiple choice is scored only by a teacher's grading
        t.pending = EXERCISES[exercise][t.grade_id].graded_only and t.earned > 0
        if t.pending:
            t.earned = 0.0
    return exercise, report


def _print_report(path: Path, report: Report) -> None:
    print(f"{path}")
    order = sorted(report.tests, key=lambda t: t.grade_id)
    for t in order:
        if getattr(t, "pending", False):
            print(f"  ? {t.grade_id:4s} -/{t.points:g}   checked as far as it can be here; its multiple-choice "
                  "answer is scored only when it is graded")
            continue
        mark = "✓" if t.earned == t.points else "✗"
        line = f"  {mark} {t.grade_id:4s} {t.earned:g}/{t.points:g}"
        message = " ".join(clip(t.message.replace("✗ ", ""), 300).split())
        print(line + (f"   {message}" if message else ""))
    for problem in report.problems:
        print(f"  ! {clip(problem, 300)}")
    pending = sum(t.points for t in report.tests if getattr(t, "pending", False))
    print(f"  total {report.earned:g}/{report.total:g} points on the exercise's public checks"
          + (f" ({pending:g} of them scored only when graded)" if pending else "")
          + "; a teacher's grading adds hidden tests")


def _start(names, source: Path, work: Path) -> int:
    exercises = sorted(source.glob("*.ipynb"))
    if not exercises:
        print(f"error: no exercise notebooks in {source}/ (run this from the course folder)", file=sys.stderr)
        return 2
    chosen = exercises
    if names:
        chosen = []
        for name in names:
            hits = [p for p in exercises if p.stem == name or p.stem.split("_")[0] == name.zfill(2)]
            if not hits:
                print(f"error: no exercise {name!r}; known: {', '.join(p.stem for p in exercises)}", file=sys.stderr)
                return 2
            chosen += hits
    work.mkdir(parents=True, exist_ok=True)
    kept = 0
    for exercise in chosen:
        target = work / exercise.name
        if target.exists():
            kept += 1
        else:
            shutil.copyfile(exercise, target)
            print(f"{target}: created from {exercise}")
    if kept:
        print(f"{work}/: {kept} exercise{'s' if kept > 1 else ''} already there, your answers kept")
    return 0


def _hooked(argv):
    """Subcommands that live in other modules (``challenge-server``, ``challenge-summary``): status, or None."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["challenge-server"], ["challenge-summary"]):
        from ..challenge_server import main as challenge_main

        return challenge_main(argv)
    return None


def main(argv=None) -> int:
    hooked = _hooked(argv)
    if hooked is not None:
        return hooked
    parser = argparse.ArgumentParser(prog="scalinglab", description="Scaling Lab course tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    grade_cmd = sub.add_parser("grade", help="run exercise notebooks and show the points per question")
    grade_cmd.add_argument("notebooks", nargs="+", type=Path)
    grade_cmd.add_argument("--timeout", type=float, default=30, help="seconds allowed per cell (default 30)")
    grade_cmd.add_argument("--deadline", type=float, default=300,
                           help="seconds allowed for a whole notebook (default 300)")
    sub.add_parser("check-sandbox", help="say whether grading can run in the bubblewrap sandbox here, and why not")
    start = sub.add_parser("start", help="copy exercises into work/ to answer them there (never overwrites)")
    start.add_argument("exercises", nargs="*", help="e.g. 03 or 03_chinchilla (default: all)")
    start.add_argument("--from", dest="source", type=Path, default=Path("exercises"))
    start.add_argument("--to", dest="work", type=Path, default=Path("work"))
    args = parser.parse_args(argv)
    if args.command == "start":
        return _start(args.exercises, args.source, args.work)
    if args.command == "check-sandbox":
        try:
            user_namespace = probe()[0]
        except SandboxUnavailable as exc:
            print(f"no: {exc}")
            return 1
        print("yes: submissions run in the bubblewrap sandbox"
              + (" (as an unprivileged user in a user namespace)" if user_namespace else " (without a user namespace)"))
        return 0
    if args.timeout <= 0 or args.deadline <= 0:
        parser.error("--timeout and --deadline must be positive numbers of seconds")
    try:
        probe()
        sandboxed = True
    except SandboxUnavailable:
        sandboxed = False   # your own code on your own machine: a separate process, still with deadlines
    limits = Limits(cell_timeout=args.timeout, submission_timeout=args.deadline)
    status = 0
    for path in args.notebooks:
        try:
            _, report = grade_file(path, limits, sandboxed)
        except NotGradable as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        _print_report(path, report)
    return status


if __name__ == "__main__":
    sys.exit(main())
