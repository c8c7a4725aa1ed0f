"""Self-study checks, the student copies, and `scalinglab grade`."""

import os
import subprocess
import time
import sys
from pathlib import Path

import nbformat
import pytest

from scalinglab.grading import CheckFailed, checker, run_check, variant
from scalinglab.grading.questions import EXERCISES

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISE_FILES = sorted((ROOT / "exercises").glob("*.ipynb"))


def test_every_solution_has_its_exercise_and_questions():
    assert SOLUTIONS, "no solutions/"
    assert [p.name for p in SOLUTIONS] == [p.name for p in EXERCISE_FILES]
    for path in SOLUTIONS:
        assert path.stem in EXERCISES, f"no questions registered for {path.stem}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solution_notebooks_are_well_formed(path):
    nb = nbformat.read(path, as_version=4)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    keys = set(EXERCISES[path.stem])
    assert len(keys) >= 5, "at least five questions"
    points = sum(c.metadata["nbgrader"]["points"] for c in graded)
    assert 8 <= points <= 12, f"about 10 points in all; got {points}"
    for cell in graded:
        meta = cell.metadata["nbgrader"]
        assert meta["schema_version"] == 3 and meta["locked"] and not meta["solution"]
        assert "### BEGIN HIDDEN TESTS" in cell.source and "### END HIDDEN TESTS" in cell.source
    called = {line.split('"')[1] for c in graded for line in c.source.splitlines() if line.startswith("check(")}
    assert called == keys, "every registered question has exactly one test cell calling check()"
    solution_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert all("### BEGIN SOLUTION" in c.source for c in solution_cells)
    assert any("Explorer" in c.source or "Calculator" in c.source for c in nb.cells if c.cell_type == "code"), \
        "at least one widget-driven question"


@pytest.mark.parametrize("name", [p.name for p in SOLUTIONS])
def test_exercises_leak_no_solution_and_no_hidden_test(released, name):
    path = released / name            # exactly what make exercises writes and what is committed
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    solution = nbformat.read(ROOT / "solutions" / path.name, as_version=4)
    assert "widgets" not in nb.metadata, "saved widget state would show where the solution left an explorer"
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    # no line of any solution block or hidden-test block appears anywhere in the student copy
    for cell in solution.cells:
        for start, end in (("### BEGIN SOLUTION", "### END SOLUTION"), ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")):
            inside = False
            for line in cell.source.splitlines():
                if line.strip() == start:
                    inside = True
                elif line.strip() == end:
                    inside = False
                elif inside and line.strip():
                    assert line.strip() not in text, f"{path.name} leaks {line.strip()!r}"


def test_exercises_are_up_to_date():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout


# --- check() --------------------------------------------------------------------------------------

V03 = variant("03_chinchilla", "tester")


def test_check_passes_fails_and_says_not_answered():
    from scalinglab import chinchilla_loss
    right = chinchilla_loss(V03["n_params"], V03["n_tokens"], fit=V03["fit"])
    assert run_check("03_chinchilla", "q1", {"V": V03, "q1_loss": right}, quiet=True)
    with pytest.raises(CheckFailed, match="not answered yet: define q1_loss"):
        run_check("03_chinchilla", "q1", {"V": V03})
    with pytest.raises(CheckFailed, match="your variant V is not defined"):
        run_check("03_chinchilla", "q1", {"q1_loss": right})
    with pytest.raises(CheckFailed) as err:
        run_check("03_chinchilla", "q1", {"V": V03, "q1_loss": 1.0})
    assert "too low" in str(err.value) and err.value.hint
    assert f"{right:.3f}" not in str(err.value), "a hint must not give the answer away"
    with pytest.raises(CheckFailed, match="should be a number"):
        run_check("03_chinchilla", "q1", {"V": V03, "q1_loss": "1.99"})
    other = variant("03_chinchilla", "a classmate")
    copied = chinchilla_loss(other["n_params"], other["n_tokens"], fit=other["fit"])
    with pytest.raises(CheckFailed):
        run_check("03_chinchilla", "q1", {"V": V03, "q1_loss": copied})


def test_check_reports_errors_in_a_learners_function():
    def optimal_params(flops, E, A, B, alpha, beta):
        return 1 / 0
    with pytest.raises(CheckFailed, match="ZeroDivisionError"):
        run_check("03_chinchilla", "q2", {"V": V03, "optimal_params": optimal_params})


def test_check_failed_renders_short_in_ipython():
    err = CheckFailed("q3", "not quite. q3_exponent is too low.", "fit parameters against FLOPs")
    assert err._render_traceback_() == ["✗ q3: not quite. q3_exponent is too low.", "  Hint: fit parameters against FLOPs"]
    assert isinstance(err, AssertionError)


def test_checker_reads_the_callers_namespace():
    check = checker("03_chinchilla")
    namespace = {"check": check, "q4_choice": "c", "V": V03}
    exec("check('q4')", namespace)          # passes silently apart from the tick
    namespace["q4_choice"] = "e"
    with pytest.raises(CheckFailed):
        exec("check('q4')", namespace)
    with pytest.raises(ValueError, match="did you mean"):
        checker("03_chinchila")
    with pytest.raises(ValueError, match="unknown question 'q9'"):
        check("q9")


# --- scalinglab grade -----------------------------------------------------------------------------

def _grade(*args):
    return subprocess.run([sys.executable, "-m", "scalinglab.grading.cli", "grade", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT)


def test_grade_cli_full_marks_for_solutions_and_zero_for_blank(released):
    solution, blank = ROOT / "solutions" / "03_chinchilla.ipynb", released / "03_chinchilla.ipynb"
    before = (solution.read_bytes(), blank.read_bytes())
    done = _grade(solution, blank)
    assert done.returncode == 0, done.stderr
    reports = done.stdout.split(str(blank))
    assert "total 8/10 points" in reports[0] and "2 of them scored only when graded" in reports[0]
    assert "total 0/10 points" in reports[1] and "not answered yet" in reports[1]
    assert (solution.read_bytes(), blank.read_bytes()) == before, "grading must not modify the notebooks"


def test_grade_cli_names_a_broken_file_and_grades_the_rest(tmp_path, released):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ this is not json")
    done = _grade(broken, released / "03_chinchilla.ipynb")
    assert done.returncode == 1
    assert f"{broken}: not a notebook (not valid JSON" in done.stderr
    assert "total 0/10 points" in done.stdout


def test_an_unwritten_function_is_not_answered_yet():
    def optimal_params(flops, E, A, B, alpha, beta):
        raise NotImplementedError()
    with pytest.raises(CheckFailed, match="not answered yet"):
        run_check("03_chinchilla", "q2", {"V": V03, "optimal_params": optimal_params})


def test_grade_cli_reports_an_error_in_the_answer_cell(tmp_path, released):
    nb = nbformat.read(released / "03_chinchilla.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q1_answer":
            cell.source = "q1_loss = chinchilla_loss(280e9, 300e9, fit='hofman')"
    path = tmp_path / "typo.ipynb"
    nbformat.write(nb, path)
    done = _grade(path)
    assert "your answer cell raised UnknownNameError" in done.stdout and "hofman" in done.stdout
    assert "TCP" not in done.stdout + done.stderr


def test_an_explorer_answer_counts_only_as_its_set_line_records_it():
    from scalinglab import compute_optimal
    from scalinglab.widgets import IsoFlopExplorer
    optimum = compute_optimal(V03["q5_flops"], fit=V03["fit"]).n_params
    explorer = IsoFlopExplorer(flops=V03["q5_flops"], n_params=1e9, fit=V03["fit"])
    answers = {"V": V03, "q5_prediction": optimum, "q5_explorer": explorer}
    with pytest.raises(CheckFailed, match="not answered yet: move the model-size slider"):
        run_check("03_chinchilla", "q5", answers)
    explorer.set(n_params=optimum * 3)
    with pytest.raises(CheckFailed, match="not at the bottom of the curve yet"):
        run_check("03_chinchilla", "q5", answers)
    explorer.controls["n_params"].value = optimum       # moved by hand, not recorded: grading would not see it
    with pytest.raises(CheckFailed, match="moved after its last .set"):
        run_check("03_chinchilla", "q5", answers)
    explorer.set(n_params=optimum)
    assert run_check("03_chinchilla", "q5", answers, quiet=True)


# --- scalinglab grade is robust ---------------------------------------------------------------------

Q1_RIGHT = 'q1_loss = chinchilla_loss(V["n_params"], V["n_tokens"], fit=V["fit"])'
Q3_RIGHT = "q3_exponent = fit_power_law(q3_flops, q3_params).exponent"


def _exercise_with(released, tmp_path, name="03_chinchilla.ipynb", **sources):
    nb = nbformat.read(released / "03_chinchilla.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in sources:
            cell.source = sources[grade_id]
    path = tmp_path / name
    nbformat.write(nb, path)
    return path, nb


def test_grade_cli_uses_the_exercises_own_points_not_the_files_metadata(tmp_path, released):
    path, nb = _exercise_with(released, tmp_path, q1_answer=Q1_RIGHT)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata["nbgrader"]["points"] = 52
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in ("q2_test", "q3_test")]
    nbformat.write(nb, path)
    done = _grade(path)
    assert "total 2/10 points" in done.stdout, done.stdout + done.stderr


def test_grade_cli_is_not_fooled_by_a_redefined_check(tmp_path, released):
    path, _ = _exercise_with(released, tmp_path, q1_answer="check = lambda key: print('✓ correct')\nq1_loss = 0.5")
    done = _grade(path)
    assert "total 0/10 points" in done.stdout, done.stdout


def test_grade_cli_kills_a_sigint_proof_loop_and_grades_the_rest(tmp_path, released):
    loop = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    path, _ = _exercise_with(released, tmp_path, q1_answer=loop, q3_answer=Q3_RIGHT)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "scalinglab.grading.cli", "grade", str(path), "--timeout", "3"],
                          capture_output=True, text=True, timeout=120)
    assert time.monotonic() - start < 60
    assert "total 2/10 points" in done.stdout and "timed out" in done.stdout, done.stdout + done.stderr


def test_grade_cli_has_a_deadline_for_the_whole_notebook(tmp_path, released):
    path, _ = _exercise_with(released, tmp_path, q1_answer="import time\ntime.sleep(2)",
                             q2_answer="import time\ntime.sleep(2)", q3_answer="import time\ntime.sleep(2)")
    done = subprocess.run([sys.executable, "-m", "scalinglab.grading.cli", "grade", str(path), "--deadline", "3"],
                          capture_output=True, text=True, timeout=120)
    assert "time limit (3 s) was reached" in done.stdout, done.stdout + done.stderr


def test_grade_cli_truncates_a_huge_answer(tmp_path, released):
    path, _ = _exercise_with(released, tmp_path, q4_answer="q4_choice = 'x' * 1_000_000")
    done = _grade(path)
    assert len(done.stdout) < 5000 and "q4" in done.stdout, len(done.stdout)


@pytest.mark.parametrize("text, says", [
    ("{}", "not a notebook (no cells)"),
    ("[]", "not a notebook (no cells)"),
    ('{"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [], "metadata": {}}]}', None),
    ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": "x = 1"}]}', None),
    ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [7]}', "cell 0 is not a cell"),
    ("\udcff", "not a notebook"),
])
def test_grade_cli_gives_one_line_per_malformed_file_and_goes_on(tmp_path, released, text, says):
    bad = tmp_path / "03_chinchilla_bad.ipynb"
    bad.write_bytes(text.encode("utf-8", "surrogateescape"))
    done = _grade(bad, released / "03_chinchilla.ipynb")
    assert "Traceback" not in done.stderr, done.stderr
    assert "total 0/10 points" in done.stdout, done.stdout + done.stderr   # the good file is still graded
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and str(bad) in errors[0], done.stderr
    if says:
        assert says in errors[0]


# --- a learner's work is never lost ---------------------------------------------------------------

def test_scalinglab_start_copies_exercises_once_and_never_overwrites(tmp_path, released):
    run = lambda *a: subprocess.run([sys.executable, "-m", "scalinglab.grading.cli", "start", *a, "--from",  # noqa: E731
                                     str(released), "--to", str(tmp_path / "work")], capture_output=True, text=True)
    done = run("03")
    assert done.returncode == 0, done.stderr
    mine = tmp_path / "work" / "03_chinchilla.ipynb"
    mine.write_text(mine.read_text().replace("raise NotImplementedError()", "q1_loss = 1.99", 1))
    answered = mine.read_bytes()
    done = run()
    assert done.returncode == 0 and "your answers kept" in done.stdout
    assert mine.read_bytes() == answered
    assert len(list((tmp_path / "work").glob("*.ipynb"))) == len(SOLUTIONS)
    assert run("99").returncode == 2


def test_make_exercises_tells_answers_from_a_stale_copy(tmp_path, released):
    from scalinglab.grading import course as tool
    fresh = released / "03_chinchilla.ipynb"
    answered, _ = _exercise_with(released, tmp_path, "answered.ipynb", q1_answer="q1_loss = 1.99")
    assert tool.compare(fresh, fresh) == "same"
    assert tool.compare(answered, fresh) == "answered" and tool.answers_written(answered, fresh)
    stale, _ = _exercise_with(released, tmp_path, "stale.ipynb", q1_text="## Question 1 (2 points), reworded")
    assert tool.compare(stale, fresh) == "stale" and not tool.answers_written(stale, fresh)


def test_grade_cli_refuses_a_fifo_and_a_deeply_nested_file_in_one_line_each(tmp_path, released):
    fifo = tmp_path / "fifo.ipynb"
    os.mkfifo(fifo)
    deep = tmp_path / "deep.ipynb"
    deep.write_text('{"nbformat": 4, "cells": ' + "[" * 100_000 + "]" * 100_000 + "}")
    done = subprocess.run([sys.executable, "-m", "scalinglab.grading.cli", "grade", str(fifo), str(deep),
                           str(released / "03_chinchilla.ipynb")], capture_output=True, text=True, timeout=120)
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 2 and "Traceback" not in done.stderr, done.stderr
    assert "total 0/10 points" in done.stdout
