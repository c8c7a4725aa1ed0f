"""The exercises with real nbgrader: validate, and autograde a hostile class end to end through the teacher's commands.

The class is graded exactly as docs/teaching.md says: ``tools/new_course.py``,
then nbgrader's own ``generate_assignment``, ``autograde --create``,
``export``, ``generate_feedback`` and ``release_feedback``. Every submission
must get exactly the score it deserves, whatever the others did.
"""

import csv
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from scalinglab.grading.sandbox import SandboxUnavailable, probe

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}

pytestmark = pytest.mark.skipif(not (BIN / "nbgrader").exists(), reason="nbgrader is not installed (pip install -e '.[classroom]')")


def nbgrader(*args, cwd=None, timeout=900):
    return subprocess.run([str(BIN / "nbgrader"), *args], cwd=cwd, env=ENV, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_nbgrader_validate_passes_on_solutions(path):
    done = nbgrader("validate", str(path))
    assert "Success! Your notebook passes all the tests." in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("name", [p.name for p in SOLUTIONS])
def test_nbgrader_validate_invert_fails_every_test_on_blank_exercises(released, name):
    done = nbgrader("validate", "--invert", str(released / name))
    assert "Success! The notebook does not pass any tests." in done.stdout, done.stdout + done.stderr


# --- a class, built from the release ----------------------------------------------------------------

def _answers(assignment):
    """Correct answer code for each solution cell: the solution with its markers removed."""
    nb = nbformat.read(ROOT / "solutions" / f"{assignment}.ipynb", as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]:
            "\n".join(line for line in cell.source.splitlines()
                      if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
            for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("solution")}


ALL = ("q1_answer", "q2_answer", "q3_answer", "q4_answer", "q5_answer")


def submission(release, assignment, answered=(), override=None, rewrite_tests=None, delete=(), meta=None):
    """A student's notebook: ``answered`` cells right, ``override`` cells replaced, tests rewritten or deleted."""
    nb = nbformat.read(release, as_version=4)
    answers, kept = _answers(assignment), []
    for cell in nb.cells:
        nbg = cell.metadata.get("nbgrader", {})
        grade_id = nbg.get("grade_id")
        if grade_id in delete:
            continue
        if grade_id in answered:
            cell.source = answers[grade_id]
        if override and grade_id in override:
            cell.source = override[grade_id]
        if rewrite_tests is not None and nbg.get("grade"):
            cell.source = rewrite_tests
        if meta and nbg.get("grade"):
            meta(cell)
        kept.append(cell)
    nb.cells = kept
    return nbformat.writes(nb)


def _tamper(cell):
    cell.metadata["nbgrader"]["points"] = 52            # more points than the question has
    cell.metadata["nbgrader"]["locked"] = False


SIGINT_PROOF = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"


def hostile_class(release, course):
    """student -> (notebook text, the points it deserves). ``course`` is the course root the attacks aim at."""
    a = "03_chinchilla"
    from scalinglab import chinchilla_loss, fit_power_law
    from scalinglab.approaches import hoffmann_projections
    from scalinglab.grading.variants import variant
    V = variant(a, "alice")
    _alice_q1 = chinchilla_loss(V["n_params"], V["n_tokens"], fit=V["fit"])
    _t = hoffmann_projections(V["q3_approach"])
    _alice_q3 = fit_power_law(_t.flops[list(V["q3_rows"])], _t.n_params[list(V["q3_rows"])]).exponent
    snoop = f"""
import glob, os, json
found = []
for pattern in ["{course}/source/*/*.ipynb", "{course}/gradebook.db", "../../source/*/*.ipynb", "/root/*", "/home/*/*"]:
    found += glob.glob(pattern)
print("found", found)
for path in found:
    if path.endswith(".ipynb"):
        for cell in json.load(open(path))["cells"]:
            if cell["metadata"].get("nbgrader", {{}}).get("solution"):
                exec("".join(cell["source"]).replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""))
q1_loss = 1.0 if "q1_loss" not in globals() else q1_loss
"""
    vandal = f"""
import glob, os, sqlite3
for target in ["{course}/pwned.txt", "{course}/submitted/alice/{a}/{a}.ipynb"]:
    try:
        open(target, "w").write("{{}}")
    except OSError as exc:
        print("refused:", exc)
try:
    db = sqlite3.connect("{course}/gradebook.db")
    db.execute("UPDATE grade SET manual_score = 0")
    db.commit()
except Exception as exc:
    print("refused:", exc)
try:
    import urllib.request
    urllib.request.urlopen("http://127.0.0.1:9/", timeout=2)
except Exception as exc:
    print("no network:", exc)
""" + _answers(a)["q1_answer"]
    forge = """
import os
for fd in range(3, 64):
    try:
        os.write(fd, b"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x10" + b'{"nonce": "x"}  ')
    except OSError:
        pass
""" + _answers(a)["q2_answer"]
    subs = {
        "alice": (submission(release, a, answered=ALL), 10.0),
        "bob": (submission(release, a), 0.0),
        "carol": (submission(release, a, answered=("q1_answer", "q3_answer")), 4.0),
        "dave": (submission(release, a, answered=("q1_answer",), rewrite_tests="assert True"), 2.0),
        "erin": (submission(release, a, answered=ALL, delete=("q2_test", "q3_data", "setup")), 10.0),
        "frank": (submission(release, a, answered=ALL, override={"q1_answer": SIGINT_PROOF}), 8.0),
        "grace": (submission(release, a, answered=ALL, override={"q3_answer": "import os\nos._exit(1)"}), 8.0),
        "heidi": ("{ this submission is not JSON", None),
        "ivan": (submission(release, a, answered=("q1_answer",), meta=_tamper), 2.0),
        "judy": (submission(release, a, override={
            "q1_answer": "check = lambda key: print('✓ correct')\nimport scalinglab.grading.checks as c\n"
                         "c.run_check = lambda *a, **k: True\nimport scalinglab.grading as g\n"
                         "g.checker = lambda e: (lambda key: None)\nq1_loss = 0.0"}), 0.0),
        "ken": (submission(release, a, override={
            "q1_answer": "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"}), 0.0),
        "leo": (submission(release, a, override={
            "q1_answer": "ip = get_ipython()\nip.run_cell = lambda *a, **k: None\nimport sys\n"
                         "sys.settrace(lambda *a: None)\nimport builtins\nbuiltins.AssertionError = type('X', (Exception,), {})"}),
                0.0),
        "mallory": (submission(release, a, override={"q1_answer": snoop}), 0.0),
        "nina": (submission(release, a, override={"q1_answer": vandal}), 2.0),
        "oscar": (submission(release, a, answered=ALL, override={"q2_answer": forge}), 8.0),
        "peggy": (submission(release, a, answered=ALL, override={
            "q4_answer": "q4_choice = 'x' * 1_000_000"}), 8.0),
        # alice's numbers, pasted: wrong for mallet's own variant
        "mallet": (submission(release, a, override={"q1_answer": f"q1_loss = {_alice_q1!r}",
                                                  "q3_answer": f"q3_exponent = {_alice_q3!r}"}), 0.0),
    }
    return subs


def _exports(path):
    with open(path, newline="") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    try:
        probe()
    except SandboxUnavailable as exc:
        pytest.skip(f"the sandbox cannot start here: {exc}")
    tmp = tmp_path_factory.mktemp("class")
    course = tmp / "course"
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "new_course.py"), str(course), "--exchange",
                           str(tmp / "exchange")], capture_output=True, text=True, env=ENV)
    assert done.returncode == 0, done.stderr
    assignment = "03_chinchilla"
    done = nbgrader("generate_assignment", assignment, "--force", cwd=course)
    assert done.returncode == 0, done.stderr
    release = course / "release" / assignment / f"{assignment}.ipynb"
    subs = hostile_class(release, course)
    digests = {}
    for student, (text, _) in subs.items():
        path = course / "submitted" / student / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(text)
        digests[student] = hashlib.sha256(path.read_bytes()).hexdigest()
    db_before = hashlib.sha256((course / "gradebook.db").read_bytes()).hexdigest()
    start = time.monotonic()
    done = nbgrader("autograde", assignment, "--create", "--force", "--SandboxedGrade.timeout=5", cwd=course)
    elapsed = time.monotonic() - start
    log = done.stdout + done.stderr
    export = nbgrader("export", "--to", str(tmp / "grades.csv"), cwd=course)
    assert export.returncode == 0, export.stderr
    return {"course": course, "subs": subs, "digests": digests, "log": log, "elapsed": elapsed,
            "grades": _exports(tmp / "grades.csv"), "assignment": assignment, "tmp": tmp, "db_before": db_before}


def test_every_submission_gets_exactly_the_score_it_deserves(graded_class):
    grades = graded_class["grades"]
    wrong = {student: (grades.get(student, {}).get("score"), expected)
             for student, (_, expected) in graded_class["subs"].items()
             if expected is not None and float(grades.get(student, {}).get("score", -1)) != expected}
    assert not wrong, f"(got, expected): {wrong}\n{graded_class['log'][-4000:]}"
    for student, (_, expected) in graded_class["subs"].items():
        if expected is not None:
            assert grades[student]["status"] in ("graded", "graded with problems"), grades[student]


def test_a_class_grades_in_a_few_minutes(graded_class):
    assert graded_class["elapsed"] < 180, f"autograding the class took {graded_class['elapsed']:.0f} s"


def test_an_ungradable_submission_is_failed_with_its_reason_never_a_silent_zero(graded_class):
    row = graded_class["grades"]["heidi"]
    assert row["status"] == "failed", row
    assert "not a readable notebook" in row["problems"], row
    assert "heidi" in graded_class["log"]


def test_problems_are_visible_to_the_teacher(graded_class):
    grades = graded_class["grades"]
    assert grades["frank"]["status"] == "graded with problems" and "timed out" in grades["frank"]["problems"]
    assert grades["grace"]["status"] == "graded with problems" and "died" in grades["grace"]["problems"]
    assert grades["alice"]["status"] == "graded" and not grades["alice"]["problems"]
    status = json.loads((graded_class["course"] / "grading_status.json").read_text())
    assert status["03_chinchilla/alice/03_chinchilla"]["sandboxed"] is True
    assert "frank" in graded_class["log"] and "timed out" in graded_class["log"]


def test_no_submission_can_touch_the_course(graded_class):
    course = graded_class["course"]
    assert not (course / "pwned.txt").exists()
    for student, digest in graded_class["digests"].items():
        path = course / "submitted" / student / graded_class["assignment"] / f"{graded_class['assignment']}.ipynb"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{student}'s submission was modified"
    db = sqlite3.connect(course / "gradebook.db")
    assert db.execute("SELECT count(*) FROM grade WHERE manual_score IS NOT NULL").fetchone()[0] == 0


def test_a_snooping_submission_sees_nothing_of_the_course(graded_class):
    course = graded_class["course"]
    autograded = course / "autograded" / "mallory" / "03_chinchilla" / "03_chinchilla.ipynb"
    text = autograded.read_text()
    assert "found []" in text, "the sandbox let a submission see files outside it"
    assert "BEGIN HIDDEN TESTS" not in text.split("found []")[0]


def test_feedback_is_generated_without_hidden_tests_and_released_despite_hand_placed_submissions(graded_class):
    course, a = graded_class["course"], graded_class["assignment"]
    done = nbgrader("generate_feedback", a, cwd=course)
    assert done.returncode == 0, done.stderr
    html = (course / "feedback" / "alice" / a / f"{a}.html").read_text()
    assert "10.0 / 10.0" in html or "10 / 10" in html.replace(".0", "")
    assert "BEGIN HIDDEN TESTS" not in html and "q1_loss was rounded" not in html
    # alice's submission came through the exchange (it has a timestamp); bob's was placed by hand
    (course / "feedback" / "alice" / a / "timestamp.txt").write_text("2026-11-30 12:00:00.000000 UTC")
    (course / "feedback" / "alice" / a / "submission_secret.txt").write_text("secret")
    exchange = graded_class["tmp"] / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)          # as docs/teaching.md creates it
    done = nbgrader("release_feedback", a, cwd=course)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Not releasing" in done.stdout + done.stderr and "bob" in done.stdout + done.stderr
    released = list((graded_class["tmp"] / "exchange" / "scalinglab" / "feedback").glob("*.html"))
    assert len(released) == 1


# --- every exercise set grades right and wrong answers correctly --------------------------------------

@pytest.mark.parametrize("assignment", [p.stem for p in SOLUTIONS if p.stem != "03_chinchilla"])
def test_autograde_right_blank_and_partial(tmp_path, assignment):
    try:
        probe()
    except SandboxUnavailable as exc:
        pytest.skip(f"the sandbox cannot start here: {exc}")
    course = tmp_path / "course"
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "new_course.py"), str(course)], capture_output=True,
                          text=True, env=ENV)
    assert done.returncode == 0, done.stderr
    assert nbgrader("generate_assignment", assignment, "--force", cwd=course).returncode == 0
    release = course / "release" / assignment / f"{assignment}.ipynb"
    subs = {"right": (submission(release, assignment, answered=ALL), 10.0),
            "blank": (submission(release, assignment), 0.0),
            "half": (submission(release, assignment, answered=("q1_answer", "q3_answer")), 4.0)}
    for student, (text, _) in subs.items():
        path = course / "submitted" / student / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(text)
    done = nbgrader("autograde", assignment, "--create", "--force", cwd=course)
    assert nbgrader("export", "--to", str(tmp_path / "g.csv"), cwd=course).returncode == 0
    grades = _exports(tmp_path / "g.csv")
    got = {s: float(grades[s]["score"]) for s in subs}
    assert got == {s: e for s, (_, e) in subs.items()}, (done.stdout + done.stderr)[-4000:]


# --- where the sandbox cannot start ---------------------------------------------------------------

def test_autograde_refuses_without_a_sandbox_and_the_opt_out_is_explicit(tmp_path):
    course = tmp_path / "course"
    assert subprocess.run([sys.executable, str(ROOT / "tools" / "new_course.py"), str(course)], capture_output=True,
                          env=ENV).returncode == 0
    a = "01_power_laws"
    assert nbgrader("generate_assignment", a, "--force", cwd=course).returncode == 0
    release = course / "release" / a / f"{a}.ipynb"
    path = course / "submitted" / "zoe" / a / f"{a}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(submission(release, a, answered=ALL))
    no_bwrap = {**ENV, "PATH": str(BIN)}          # bubblewrap is not on this PATH: the sandbox cannot start
    done = subprocess.run([str(BIN / "nbgrader"), "autograde", a, "--create"], cwd=course, env=no_bwrap,
                          capture_output=True, text=True, timeout=600)
    log = done.stdout + done.stderr
    assert "Autograding refuses" in log and "allow_unsandboxed" in log, log[-2000:]
    assert nbgrader("export", "--to", str(tmp_path / "g.csv"), cwd=course).returncode == 0
    row = _exports(tmp_path / "g.csv")["zoe"]
    assert row["status"] == "failed" and "bubblewrap is not installed" in row["problems"], row

    done = subprocess.run([str(BIN / "nbgrader"), "autograde", a, "--force", "--SandboxedGrade.allow_unsandboxed=True"],
                          cwd=course, env=no_bwrap, capture_output=True, text=True, timeout=600)
    assert nbgrader("export", "--to", str(tmp_path / "g.csv"), cwd=course).returncode == 0
    row = _exports(tmp_path / "g.csv")["zoe"]
    assert float(row["score"]) == 10.0 and row["status"] == "graded with problems", row
    assert "graded without a sandbox" in row["problems"]
