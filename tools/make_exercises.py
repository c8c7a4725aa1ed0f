"""Generate the student copies in exercises/ from the teacher sources in solutions/, with nbgrader itself.

    python tools/make_exercises.py                  # write exercises/ (make exercises)
    python tools/make_exercises.py 03_chinchilla    # only these
    python tools/make_exercises.py --check          # exit 1 if exercises/ is out of date
    python tools/make_exercises.py --out DIR        # write fresh copies to DIR instead

Each solutions/NN_topic.ipynb is released by ``nbgrader generate_assignment``
in a temporary course directory: solutions become ``raise NotImplementedError()``,
hidden tests are removed, outputs are cleared and cells get nbgrader's checksums.

A learner's answers are never lost: learners work in ``work/`` (``make lab``
makes their copies there), but if ``exercises/NN_topic.ipynb`` holds answers,
it is copied to ``work/`` before it is regenerated, and ``--check`` counts a
copy that differs only in its answers as up to date.
"""

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from scalinglab.grading.course import release_source

ROOT = Path(__file__).resolve().parents[1]


def nbgrader_command() -> list[str]:
    exe = Path(sys.executable).with_name("nbgrader")
    if not exe.exists():
        sys.exit("nbgrader is not installed: run  pip install -e '.[classroom]'  (make test does this)")
    return [str(exe)]


def release(solution: Path, course: Path) -> Path:
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
        sys.exit(f"nbgrader generate_assignment failed for {solution}:\n{done.stdout}\n{done.stderr}")
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


def keep_answers(existing: Path) -> Path:
    """Copy a learner's answered exercise into work/ (never over another file); return where it went."""
    work = ROOT / "work"
    work.mkdir(exist_ok=True)
    target, k = work / existing.name, 1
    while target.exists():
        target = work / f"{existing.stem}.backup-{k}{existing.suffix}"
        k += 1
    shutil.copy2(existing, target)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="exercise names such as 03_chinchilla (default: all)")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if exercises/ is stale")
    parser.add_argument("--out", type=Path, help="write fresh copies to this folder instead of exercises/")
    args = parser.parse_args(argv)
    solutions = sorted((ROOT / "solutions").glob("*.ipynb"))
    if args.names:
        unknown = set(args.names) - {s.stem for s in solutions}
        if unknown:
            sys.exit(f"no solutions/ notebook for {', '.join(sorted(unknown))}")
        solutions = [s for s in solutions if s.stem in args.names]
    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        for solution in solutions:
            released = release(solution, Path(tmp))
            if args.out:
                args.out.mkdir(parents=True, exist_ok=True)
                shutil.copy(released, args.out / solution.name)
                continue
            target = ROOT / "exercises" / solution.name
            state = compare(target, released) if target.exists() else "stale"
            if args.check:
                if state == "stale":
                    stale.append(target.relative_to(ROOT))
                elif state == "answered":
                    print(f"note: {target.relative_to(ROOT)} holds answers of yours; it is otherwise up to date. "
                          "Answer in work/ instead (make lab, or .venv/bin/scalinglab start).")
                continue
            if state == "same":
                continue
            if target.exists() and (state == "answered" or answers_written(target, released)):
                kept = keep_answers(target)
                print(f"your answers in {target.relative_to(ROOT)} were copied to {kept.relative_to(ROOT)}")
            target.parent.mkdir(exist_ok=True)
            shutil.copy(released, target)
            print(f"wrote {target.relative_to(ROOT)}")
    if args.out:
        return 0
    every = {s.name for s in (ROOT / "solutions").glob("*.ipynb")}
    extra = {p.name for p in (ROOT / "exercises").glob("*.ipynb")} - every
    stale += [Path("exercises") / name for name in sorted(extra)]
    if args.check and stale:
        print("exercises/ is out of date for: " + ", ".join(map(str, stale)) + "\nrun  make exercises", file=sys.stderr)
        return 1
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
