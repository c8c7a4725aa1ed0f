"""Self-study checks, the student copies, and `scalinglab grade`."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from scalinglab.grading import CheckFailed, checker, run_check
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


@pytest.mark.parametrize("path", EXERCISE_FILES, ids=lambda p: p.name)
def test_exercises_leak_no_solution_and_no_hidden_test(path):
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

def test_check_passes_fails_and_says_not_answered():
    from scalinglab import chinchilla_loss
    assert run_check("03_chinchilla", "q1", {"q1_loss": chinchilla_loss(280e9, 300e9)}, quiet=True)
    with pytest.raises(CheckFailed, match="not answered yet: define q1_loss"):
        run_check("03_chinchilla", "q1", {})
    with pytest.raises(CheckFailed) as err:
        run_check("03_chinchilla", "q1", {"q1_loss": 1.69})
    assert "too low" in str(err.value) and err.value.hint
    assert "1.99" not in str(err.value), "a hint must not give the answer away"
    with pytest.raises(CheckFailed, match="should be a number"):
        run_check("03_chinchilla", "q1", {"q1_loss": "1.99"})


def test_check_reports_errors_in_a_learners_function():
    def optimal_params(flops, E, A, B, alpha, beta):
        return 1 / 0
    with pytest.raises(CheckFailed, match="ZeroDivisionError"):
        run_check("03_chinchilla", "q2", {"optimal_params": optimal_params})


def test_check_failed_renders_short_in_ipython():
    err = CheckFailed("q3", "not quite. q3_exponent is too low.", "fit parameters against FLOPs")
    assert err._render_traceback_() == ["✗ q3: not quite. q3_exponent is too low.", "  Hint: fit parameters against FLOPs"]
    assert isinstance(err, AssertionError)


def test_checker_reads_the_callers_namespace():
    check = checker("03_chinchilla")
    namespace = {"check": check, "q4_choice": "c"}
    exec("check('q4')", namespace)          # passes silently apart from the tick
    namespace["q4_choice"] = "a"
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


def test_grade_cli_full_marks_for_solutions_and_zero_for_blank():
    solution, blank = ROOT / "solutions" / "03_chinchilla.ipynb", ROOT / "exercises" / "03_chinchilla.ipynb"
    before = (solution.read_bytes(), blank.read_bytes())
    done = _grade(solution, blank)
    assert done.returncode == 0, done.stderr
    reports = done.stdout.split("exercises/")
    assert "total 10/10 points" in reports[0]
    assert "total 0/10 points" in reports[1] and "not answered yet" in reports[1]
    assert (solution.read_bytes(), blank.read_bytes()) == before, "grading must not modify the notebooks"


def test_grade_cli_names_a_broken_file_and_grades_the_rest(tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ this is not json")
    done = _grade(broken, ROOT / "exercises" / "03_chinchilla.ipynb")
    assert done.returncode == 1
    assert f"{broken}: not a notebook (not valid JSON" in done.stderr
    assert "total 0/10 points" in done.stdout


def test_an_unwritten_function_is_not_answered_yet():
    def optimal_params(flops, E, A, B, alpha, beta):
        raise NotImplementedError()
    with pytest.raises(CheckFailed, match="not answered yet"):
        run_check("03_chinchilla", "q2", {"optimal_params": optimal_params})


def test_grade_cli_reports_an_error_in_the_answer_cell(tmp_path):
    nb = nbformat.read(ROOT / "exercises" / "03_chinchilla.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q1_answer":
            cell.source = "q1_loss = chinchilla_loss(280e9, 300e9, fit='hofman')"
    path = tmp_path / "typo.ipynb"
    nbformat.write(nb, path)
    done = _grade(path)
    assert "your answer cell raised UnknownNameError" in done.stdout and "hofman" in done.stdout
    assert "TCP" not in done.stdout + done.stderr


def test_an_untouched_explorer_is_not_answered_yet():
    from scalinglab.widgets import IsoFlopExplorer
    explorer = IsoFlopExplorer(flops=1e22, n_params=1e9, fit="besiroglu2024")
    with pytest.raises(CheckFailed, match="not answered yet: move the model-size slider"):
        run_check("03_chinchilla", "q5", {"q5_explorer": explorer})
    explorer.set(n_params=2e9)
    with pytest.raises(CheckFailed, match="not at the bottom of the curve yet"):
        run_check("03_chinchilla", "q5", {"q5_explorer": explorer})
