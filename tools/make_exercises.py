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
import shutil
import sys
import tempfile
from pathlib import Path

from scalinglab.grading.course import answers_written, compare, release_exercise

ROOT = Path(__file__).resolve().parents[1]


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


def committed_as_is(path: Path) -> bool:
    """True when git knows ``path`` and it is unchanged since the last commit: nobody answered in it."""
    import subprocess

    done = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", str(path)], cwd=ROOT, capture_output=True)
    known = subprocess.run(["git", "ls-files", "--error-unmatch", str(path)], cwd=ROOT, capture_output=True)
    return done.returncode == 0 and known.returncode == 0


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
            released = release_exercise(solution, Path(tmp))
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
            if target.exists() and not committed_as_is(target) and (state == "answered" or answers_written(target, released)):
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




if __name__ == "__main__":
    sys.exit(main())
