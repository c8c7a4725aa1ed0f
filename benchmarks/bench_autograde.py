"""Autograding time per ordinary submission: sandboxed, unsandboxed, and nbgrader's stock Execute, side by side.

    .venv/bin/python benchmarks/bench_autograde.py [--students 6] [--assignment 03_chinchilla]

One course is set up per mode with ``tools/new_course.py``; the same correct
submissions are autograded by ``nbgrader autograde`` in each, in turn, and
the wall time is divided by the number of students. The goal is at most 5 s
per submission with the sandbox on 2 cores.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
BIN = Path(sys.executable).parent

from test_nbgrader import ALL, submission  # noqa: E402  (the test suite's submission builder)

STOCK = """c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "scalinglab"
c.Execute.timeout = 30
"""


def course(tmp: Path, mode: str, assignment: str, students: int) -> Path:
    root = tmp / mode
    subprocess.run([sys.executable, str(ROOT / "tools" / "new_course.py"), str(root)], check=True,
                   capture_output=True)
    if mode == "stock":
        (root / "nbgrader_config.py").write_text(STOCK)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run([str(BIN / "nbgrader"), "generate_assignment", assignment, "--force"], cwd=root, env=env,
                   check=True, capture_output=True)
    release = root / "release" / assignment / f"{assignment}.ipynb"
    text = submission(release, assignment, answered=ALL)
    for i in range(students):
        path = root / "submitted" / f"student{i:02d}" / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(text)
    return root


def autograde(root: Path, mode: str, assignment: str) -> float:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    args = [str(BIN / "nbgrader"), "autograde", assignment, "--create", "--force"]
    if mode == "unsandboxed":
        env["PATH"] = str(BIN)                     # no bubblewrap on PATH
        args.append("--SandboxedGrade.allow_unsandboxed=True")
    start = time.perf_counter()
    done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"autograde failed in {mode}:\n{done.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=6)
    parser.add_argument("--assignment", default="03_chinchilla")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    modes = ("sandboxed", "unsandboxed", "stock")
    with tempfile.TemporaryDirectory() as tmp:
        roots = {m: course(Path(tmp), m, args.assignment, args.students) for m in modes}
        per = {m: [] for m in modes}
        for _ in range(args.rounds):                # interleaved, so a noisy moment hits every mode
            for m in modes:
                per[m].append(autograde(roots[m], m, args.assignment) / args.students)
    print(f"autograde {args.assignment}, {args.students} correct submissions, best of {args.rounds} rounds, "
          f"{os.cpu_count()} cores")
    best = {m: min(v) for m, v in per.items()}
    for m in modes:
        print(f"  {m:12s} {best[m]:5.2f} s per submission   (rounds: {', '.join(f'{x:.2f}' for x in per[m])})")
    print(f"  sandboxed / unsandboxed = {best['sandboxed'] / best['unsandboxed']:.2f}x;  "
          f"sandboxed / stock nbgrader Execute = {best['sandboxed'] / best['stock']:.2f}x")
    print(f"  goal <= 5 s per submission with the sandbox: {'met' if best['sandboxed'] <= 5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
