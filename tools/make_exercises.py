"""Generate the student copies in exercises/ from the teacher sources in solutions/, with nbgrader itself.

    python tools/make_exercises.py                  # write exercises/
    python tools/make_exercises.py 03_chinchilla    # only these
    python tools/make_exercises.py --check          # exit 1 if exercises/ is out of date

Each solutions/NN_topic.ipynb is released by ``nbgrader generate_assignment``
in a temporary course directory: solutions become ``raise NotImplementedError()``,
hidden tests are removed, outputs are cleared and cells get nbgrader's checksums.
The released notebook is copied to exercises/NN_topic.ipynb unchanged.
"""

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="exercise names such as 03_chinchilla (default: all)")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if exercises/ is stale")
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
            target = ROOT / "exercises" / solution.name
            if args.check:
                if not target.exists() or not filecmp.cmp(released, target, shallow=False):
                    stale.append(target.relative_to(ROOT))
            else:
                target.parent.mkdir(exist_ok=True)
                shutil.copy(released, target)
                print(f"wrote {target.relative_to(ROOT)}")
    every = {s.name for s in (ROOT / "solutions").glob("*.ipynb")}
    extra = {p.name for p in (ROOT / "exercises").glob("*.ipynb")} - every
    stale += [Path("exercises") / name for name in sorted(extra)]
    if stale:
        print("exercises/ is out of date for: " + ", ".join(map(str, stale)) + "\nrun  make exercises", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
