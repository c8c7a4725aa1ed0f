"""Lesson 11's challenge: the rules, strategies played against it, secrecy in class mode, the explorer."""

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalinglab import CHINCHILLA_FITS, ScalingLabError, chinchilla_loss, compute_optimal, fit_approach2, fit_chinchilla
from scalinglab.challenge import (
    BUDGET_FLOPS, LAW_RANGES, NOISE_REL_STD, TARGET_FLOPS, Challenge, ChallengeScore,
    challenge_truth, hidden_law, run_loss, score_prediction,
)
from scalinglab.challenge_explorers import ChallengeExplorer, compute_challenge, plot_challenge, study_runs
from scalinglab.challenge_server import Ledger, challenge_summary, ledger_predictions
from scalinglab.fit_explorers import MINISERIES_EXPONENTS, compute_miniseries

SECRET = b"a test secret of thirty-two bytes"
STUDENTS = [f"student-{i:02d}" for i in range(8)]
ISOFLOP_BUDGETS = (1e15, 3e15, 1e16, 3e16, 1e17)


@pytest.fixture
def self_study(tmp_path, monkeypatch):
    """A fresh working folder and config folder, no server: the self-study mode."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("SCALINGLAB_CHALLENGE_SERVER", raising=False)
    monkeypatch.delenv("SCALINGLAB_CHALLENGE_SECRET_FILE", raising=False)
    for variable in ("SCALINGLAB_GRADING_STUDENT", "JUPYTERHUB_USER", "SCALINGLAB_STUDENT"):
        monkeypatch.delenv(variable, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


# --- two strategies -----------------------------------------------------------------------------------

def careful(ch):
    """An IsoFLOP study: 5 budgets x 6 sizes around 20 tokens/parameter, Approach 2 for N, D, Approach 3 for L."""
    for C in ISOFLOP_BUDGETS:
        for m in np.linspace(-0.8, 0.8, 6):
            N = math.sqrt(C / 120) * 10 ** m
            ch.train(N, C / (6 * N))
    h = ch.history
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n, d = fit_approach2(h.n_params, h.n_tokens, h.loss)(ch.target_flops)
        law = fit_chinchilla(h.n_params, h.n_tokens, h.loss, progress=False)
    return n, d, chinchilla_loss(n, d, fit=law)


def naive(ch):
    """One run with (almost) the whole budget at 20 tokens/parameter; its loss; the 20:1 rule at the target."""
    N = math.sqrt(0.999 * ch.budget_left / 120)
    loss = ch.train(N, 20 * N)
    N_target = math.sqrt(ch.target_flops / 120)
    return N_target, 20 * N_target, loss


def test_a_careful_isoflop_study_clearly_beats_one_run_and_the_20_to_1_rule(self_study):
    scores = {"careful": [], "naive": []}
    for student in STUDENTS:
        for name, play in (("careful", careful), ("naive", naive)):
            ch = Challenge(student, folder=self_study / name)     # the same law, a budget for each strategy
            n, d, loss = play(ch)
            assert ch.budget_left >= 0
            scores[name].append(ch.submit(n_params=n, n_tokens=d, loss=loss).points)
    careful_mean, naive_mean = np.mean(scores["careful"]), np.mean(scores["naive"])
    assert len(Challenge(STUDENTS[0], folder=self_study / "careful").history) == 30
    assert careful_mean >= 8.5, scores
    assert careful_mean - naive_mean >= 2.5, scores
    assert sum(c > n for c, n in zip(scores["careful"], scores["naive"])) >= 0.75 * len(STUDENTS)


# --- the rules -----------------------------------------------------------------------------------------

def test_budget_and_target(self_study):
    ch = Challenge("alice")
    assert ch.budget_left == BUDGET_FLOPS == 1e18
    assert ch.target_flops == TARGET_FLOPS == 100 * BUDGET_FLOPS
    assert len(ch.history) == 0


def test_a_run_charges_6ND_and_an_identical_repeat_is_free_and_identical(self_study):
    ch = Challenge("alice")
    first = ch.train(1e7, 2e8)
    assert ch.budget_left == pytest.approx(BUDGET_FLOPS - 6 * 1e7 * 2e8)
    left = ch.budget_left
    assert ch.train(1e7, 2e8) == first
    assert ch.train(10_000_000.0, "200M") == first
    assert ch.budget_left == left and len(ch.history) == 1
    assert ch.train(1e7 + 1, 2e8) != first           # another run: other noise


def test_over_budget_raises_naming_the_budget_left_and_charges_nothing(self_study):
    ch = Challenge("alice")
    ch.train(1e8, 1e9)                                 # 6e17
    left = ch.budget_left
    with pytest.raises(ValueError, match=re.escape(f"{left:.3g} FLOPs of the budget are left; nothing was charged")):
        ch.train(1e8, 1e9 + 1)
    assert ch.budget_left == left and len(ch.history) == 1
    assert len(Challenge("alice").history) == 1        # nothing was written either
    ch.train(1e8, math.floor(left / 6e8))              # all that is left is allowed
    assert 0 <= ch.budget_left < 6e8


@pytest.mark.parametrize("n_params, n_tokens, message", [
    (-1, 1e9, "n_params must be a positive"), (math.nan, 1e9, "n_params"), (True, 1e9, "boolean"),
    (None, 1e9, "required"), ("abc", 1e9, "n_params"), ([1e7, 1e8], 1e9, "single number"),
    (1e13, 1e9, "between"), (1e7, 1e16, "between"), (1e5, 1e5, "at least"), (math.inf, 1e9, "n_params"),
])
def test_absurd_runs_get_clear_errors(self_study, n_params, n_tokens, message):
    ch = Challenge("alice")
    with pytest.raises(ScalingLabError, match=message):
        ch.train(n_params, n_tokens)
    assert ch.budget_left == BUDGET_FLOPS


@pytest.mark.parametrize("kwargs", [
    dict(n_params=-1, n_tokens=1e10, loss=2), dict(n_params=1e9, n_tokens=None, loss=2),
    dict(n_params=1e9, n_tokens=1e10, loss=math.nan), dict(n_params=1e9, n_tokens=1e10, loss="2"),
    dict(n_params=1e9, n_tokens=1e10, loss=0),
])
def test_bad_submissions_get_clear_errors(self_study, kwargs):
    with pytest.raises(ScalingLabError):
        Challenge("alice").submit(**kwargs)


@pytest.mark.parametrize("student", ["", "   ", 3, [], "x" * 201])
def test_bad_student_names(self_study, student):
    with pytest.raises(ScalingLabError, match="student"):
        Challenge(student)


def test_the_history_survives_a_new_challenge_object(self_study):
    ch = Challenge("alice")
    losses = [ch.train(N, 1e16 / (6 * N)) for N in (3e6, 1e7, 3e7)]
    again = Challenge("alice")
    assert list(again.history.loss) == losses
    assert again.budget_left == ch.budget_left
    assert Path(".scalinglab-challenge/alice.json").is_file()
    assert again.train(1e7, 1e16 / 6e7) == losses[1] and again.budget_left == ch.budget_left


def test_identity_is_resolved_as_the_exercises_do(self_study, monkeypatch):
    assert Challenge().student == "self-study"
    monkeypatch.setenv("SCALINGLAB_STUDENT", "carol")
    assert Challenge().student == "carol"
    monkeypatch.setenv("JUPYTERHUB_USER", "dave")
    assert Challenge().student == "dave"


def test_the_self_study_secret_is_created_once_and_private(self_study):
    Challenge("alice")
    path = self_study / "config" / "scalinglab" / "challenge-secret"
    assert path.is_file() and (path.stat().st_mode & 0o777) == 0o600
    before = path.read_text()
    loss = Challenge("bob").train(1e7, 2e8)
    assert path.read_text() == before and Challenge("bob").train(1e7, 2e8) == loss


def test_two_students_face_different_laws():
    laws = [hidden_law(s, SECRET) for s in STUDENTS]
    assert len({(f.E, f.A, f.B, f.alpha, f.beta) for f in laws}) == len(STUDENTS)
    ratios = [challenge_truth(s, SECRET).n_tokens / challenge_truth(s, SECRET).n_params for s in STUDENTS]
    assert max(ratios) / min(ratios) > 1.5
    assert hidden_law("alice", SECRET) != hidden_law("alice", b"another secret of 32 bytes......")


def test_the_truth_is_the_exact_compute_optimum_of_the_law():
    for s in STUDENTS:
        law, truth = hidden_law(s, SECRET), challenge_truth(s, SECRET)
        n, d = compute_optimal(TARGET_FLOPS, fit=law)
        assert (truth.n_params, truth.n_tokens) == (n, d)
        assert truth.loss == chinchilla_loss(n, d, fit=law)
        assert 6 * n * d == pytest.approx(TARGET_FLOPS, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(student=st.text(min_size=1, max_size=40).filter(str.strip))
def test_every_law_is_in_its_ranges(student):
    law, truth = hidden_law(student, SECRET), challenge_truth(student, SECRET)
    checks = {"alpha_plus_beta": law.alpha + law.beta, "a": law.a, "E": law.E,
              "tokens_per_param": truth.n_tokens / truth.n_params,
              "curvature": law.alpha * law.beta * (truth.loss / law.E - 1)}
    for name, value in checks.items():
        low, high = LAW_RANGES[name][:2]
        assert low * (1 - 1e-9) <= value <= high * (1 + 1e-9), (name, value)


def test_the_ranges_hold_the_real_fits_they_are_calibrated_on():
    fits = [*CHINCHILLA_FITS.values(), *(compute_miniseries(a).fit for a in MINISERIES_EXPONENTS)]
    for name, key in (("alpha_plus_beta", lambda f: f.alpha + f.beta), ("a", lambda f: f.a), ("E", lambda f: f.E)):
        low, high = LAW_RANGES[name][:2]
        assert all(low <= round(key(f), 2) <= high for f in fits), name


def test_the_noise_is_multiplicative_and_of_the_measured_size():
    law = hidden_law("alice", SECRET)
    N = np.linspace(1e7, 2e7, 400).astype(int)
    ratio = np.array([run_loss("alice", SECRET, n, 10 ** 9) for n in N]) / chinchilla_loss(N, 1e9, fit=law)
    assert np.log(ratio).std() == pytest.approx(NOISE_REL_STD, rel=0.15)
    assert abs(np.log(ratio).mean()) < 3 * NOISE_REL_STD / math.sqrt(N.size)


def test_scores_partial_credit_by_log_error():
    truth = challenge_truth("alice", SECRET)
    exact = score_prediction(truth, truth.n_params, truth.n_tokens, truth.loss)
    assert exact.points == exact.max_points == 10
    points = [score_prediction(truth, truth.n_params * f, truth.n_tokens / f, truth.loss).points
              for f in (1.0, 1.2, 1.5, 2.0, 3.5)]
    assert points == sorted(points, reverse=True) and points[-1] == 3 and 3 < points[2] < 10
    off = score_prediction(truth, truth.n_params, truth.n_tokens, truth.loss * 1.02)
    assert 7 < off.points < 10 and off.loss_error == pytest.approx(math.log(1.02))
    with pytest.raises(ScalingLabError, match="ChallengeTruth"):
        score_prediction({"n_params": 1}, 1e9, 1e10, 2.0)


def test_self_study_shows_the_score_at_once(self_study):
    ch = Challenge("alice")
    score = ch.submit(n_params=1e9, n_tokens=1e20 / 6e9, loss=2.0)
    assert isinstance(score, ChallengeScore) and score.points is not None and score.n_params_error is not None
    second = ch.submit(n_params=1e9, n_tokens=1e20 / 6e9, loss=2.0)
    assert "only the first counts" in second.message


# --- class mode: a server holds the secret -------------------------------------------------------------

@pytest.fixture
def server(monkeypatch):
    folder = Path(tempfile.mkdtemp(prefix="slch", dir="/tmp"))     # unix socket paths are short
    secret = folder / "secret.hex"
    secret.write_text(SECRET.hex())
    sock = folder / "s.sock"
    process = subprocess.Popen([sys.executable, "-m", "scalinglab.grading.cli", "challenge-server",
                                "--secret-file", str(secret), "--socket", str(sock),
                                "--ledger", str(folder / "ledger"), "--identity", "claimed"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            if sock.exists():
                break
            time.sleep(0.05)
        assert sock.exists(), process.stderr.read1().decode() if process.poll() is not None else "no socket"
        monkeypatch.setenv("SCALINGLAB_CHALLENGE_SERVER", str(sock))
        yield folder
    finally:
        process.terminate()
        process.wait(10)
        for path in sorted(folder.rglob("*"), reverse=True):
            path.unlink() if not path.is_dir() else path.rmdir()
        folder.rmdir()


def _everything_in(obj, depth=0, seen=None):
    """Every value reachable from ``obj``: attributes, containers, closures, bound methods' objects."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 6:
        return
    seen.add(id(obj))
    yield obj
    children = []
    if isinstance(obj, dict):
        children = [*obj.keys(), *obj.values()]
    elif isinstance(obj, (list, tuple, set, frozenset)):
        children = list(obj)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        children = list(vars(obj).values())
    if callable(obj) and getattr(obj, "__closure__", None):
        children += [c.cell_contents for c in obj.__closure__]
    for child in children:
        yield from _everything_in(child, depth + 1, seen)


def test_class_mode_the_kernel_never_holds_the_law(self_study, server):
    ch = Challenge("alice")
    assert ch.mode == "class"
    losses = [ch.train(N, 1e16 / (6 * N)) for N in (3e6, 1e7, 3e7)]
    law, truth = hidden_law("alice", SECRET), challenge_truth("alice", SECRET)
    secret_values = {SECRET, SECRET.hex()}
    constants = [law.E, law.A, law.B, law.alpha, law.beta, truth.n_params, truth.n_tokens, truth.loss]
    for value in _everything_in(ch):
        if isinstance(value, (bytes, str)):
            assert not any(s in value for s in secret_values if type(s) is type(value))
        if isinstance(value, float):
            assert not any(math.isclose(value, c, rel_tol=1e-9) for c in constants), value
    assert not (self_study / "config" / "scalinglab").exists()        # no local secret was made
    for path in Path(".").rglob("*"):                                   # nor any file holding it
        if path.is_file():
            text = path.read_text()
            assert SECRET.hex() not in text and f"{law.A!r}" not in text and f"{truth.n_params!r}" not in text
    package = Path(__import__("scalinglab").__file__).parent
    for path in package.rglob("*.py"):
        assert SECRET.hex() not in path.read_text()
    # the server's answers are the law's, and the ledger is the server's
    assert losses == [run_loss("alice", SECRET, int(N), int(round(1e16 / (6 * N)))) for N in (3e6, 1e7, 3e7)]
    Path(".scalinglab-challenge/alice.json").unlink()                   # a lost local copy loses nothing
    assert list(Challenge("alice").history.loss) == losses


def test_class_mode_enforces_the_budget_on_the_server_and_withholds_the_score(self_study, server):
    ch = Challenge("bob")
    ch.train(1e8, 1e9)
    with pytest.raises(ValueError, match="nothing was charged"):
        ch.train(1e8, 2e9)
    assert Challenge("bob").budget_left == pytest.approx(BUDGET_FLOPS - 6e17)
    score = ch.submit(n_params=1e9, n_tokens=1.6e10, loss=2.0)
    assert score.points is None and score.n_params_error is None and "teacher" in score.message
    with pytest.raises(ScalingLabError, match="loss"):
        ch.submit(n_params=1e9, n_tokens=1.6e10, loss=-2.0)
    ledger = json.loads((server / "ledger" / "bob.json").read_text())
    assert ledger["spent"] == 6e17 and ledger["submissions"][0]["n_params"] == 1e9
    assert ledger_predictions(server / "ledger") == {"bob": {"n_params": 1e9, "n_tokens": 1.6e10, "loss": 2.0}}


def test_an_unreachable_server_is_a_clear_error(self_study, monkeypatch):
    monkeypatch.setenv("SCALINGLAB_CHALLENGE_SERVER", "/nonexistent/challenge.sock")
    with pytest.raises(ScalingLabError, match="cannot be reached"):
        Challenge("alice")


# --- the teacher's summary ------------------------------------------------------------------------------

def test_challenge_summary_csv_and_plot(tmp_path):
    predictions = {}
    for i, s in enumerate(STUDENTS):
        t = challenge_truth(s, SECRET)
        predictions[s] = {"n_params": t.n_params * 1.1 ** i, "n_tokens": t.n_tokens / 1.1 ** i, "loss": t.loss * 1.01}
    text, fig = challenge_summary(predictions, SECRET)
    rows = text.strip().splitlines()
    assert rows[0].startswith("student,points") and len(rows) == len(STUDENTS) + 1
    points = [float(r.split(",")[1]) for r in rows[1:]]
    assert points == sorted(points, reverse=True)
    fig.savefig(tmp_path / "summary.png")
    assert len(fig.axes) == 3


# --- the explorer -----------------------------------------------------------------------------------------

def test_study_and_view_of_an_isoflop_study():
    led = Ledger(SECRET, tempfile.mkdtemp())
    for C in ISOFLOP_BUDGETS:
        for m in np.linspace(-0.8, 0.8, 6):
            N = math.sqrt(C / 120) * 10 ** m
            led.train("alice", N, C / (6 * N))
    runs = led.status("alice")["runs"]
    cols = {k: [r[k] for r in runs] for k in ("n_params", "n_tokens", "loss")}
    study = study_runs(**cols, budget_left=1e17)
    assert study.budgets.size == 5 and np.isfinite(study.optima).all()
    wide, narrow = compute_challenge(study, 0.95), compute_challenge(study, 0.5)
    truth = challenge_truth("alice", SECRET)
    assert wide.target_band[0] < narrow.target_band[0] <= narrow.target_band[1] < wide.target_band[1]
    assert abs(math.log(wide.target_n / truth.n_params)) < 0.4
    with pytest.raises(ScalingLabError, match="level"):
        compute_challenge(study, 1.5)
    plot_challenge(wide).update(narrow)
    empty = compute_challenge(study_runs([], [], []), 0.9)
    assert math.isnan(empty.target_n)
    plot_challenge(empty)


def test_challenge_explorer_moves_fast_and_refreshes(self_study):
    ch = Challenge("alice")
    explorer = ChallengeExplorer(ch)
    assert "needs 3+ sizes" in explorer.readout.value
    for C in (1e15, 1e16, 1e17):
        for m in (-0.6, -0.2, 0.2, 0.6):
            N = math.sqrt(C / 120) * 10 ** m
            ch.train(N, C / (6 * N))
    explorer.refresh()
    assert "12 in 3 slices" in explorer.readout.value
    slider = next(iter(explorer.controls.values()))
    assert slider.description == "confidence level"
    before, picture = explorer.readout.value, explorer.image.value
    times = []
    for value in np.linspace(0.5, 0.99, 11):
        start = time.perf_counter()
        slider.value = float(value)
        times.append(time.perf_counter() - start)
    assert explorer.readout.value != before and explorer.image.value != picture
    assert np.median(times) < 0.1


BAD_VALUES = [True, False, "1,5", "abc", "", None, math.nan, math.inf, -1, 0, 1e308, 5e-324, 10 ** 400, [1, 2], [],
              {}, {"a": 1}, (True,), np.array([True, False])]


@pytest.mark.parametrize("bad", BAD_VALUES, ids=repr)
def test_the_public_functions_refuse_bad_values_clearly(bad):
    truth = challenge_truth("alice", SECRET)
    valid = {challenge_truth: dict(student="alice", secret=SECRET),
             score_prediction: dict(truth=truth, n_params=1e9, n_tokens=1.6e10, loss=2.0)}
    for fn, kwargs in valid.items():
        for argument in kwargs:
            try:
                result = fn(**{**kwargs, argument: bad})
            except ScalingLabError:
                continue
            numbers = [v for v in vars(result).values() if isinstance(v, float)]
            assert all(math.isfinite(v) for v in numbers), (fn.__name__, argument, bad, result)


def test_the_summary_command_line(tmp_path, capsys):
    from scalinglab.grading.cli import main

    secret = tmp_path / "secret.hex"
    secret.write_text(SECRET.hex())
    led = Ledger(SECRET, tmp_path / "ledger")
    for s in STUDENTS[:3]:
        led.submit(s, 1e9, 1.6e10, 2.0)
    status = main(["challenge-summary", "--secret-file", str(secret), "--ledger", str(tmp_path / "ledger"),
                   "--csv", str(tmp_path / "s.csv"), "--png", str(tmp_path / "s.png")])
    assert status == 0 and "3 students" in capsys.readouterr().out
    assert (tmp_path / "s.png").stat().st_size > 10_000 and len((tmp_path / "s.csv").read_text().splitlines()) == 4
    assert main(["challenge-summary", "--secret-file", str(tmp_path / "missing"), "--ledger", str(tmp_path),
                 "--csv", str(tmp_path / "t.csv"), "--png", str(tmp_path / "t.png")]) == 2
    assert not (tmp_path / "t.csv").exists()


def test_the_practice_round_is_public_in_memory_and_reproducible(self_study):
    from scalinglab.challenge import PRACTICE_SECRET

    ch = Challenge(practice=True)
    loss = ch.train(1e7, 2e8)
    assert loss == run_loss("practice", PRACTICE_SECRET, 10 ** 7, 2 * 10 ** 8)
    assert Challenge(practice=True).budget_left == BUDGET_FLOPS          # nothing kept
    assert not Path(".scalinglab-challenge").exists() and not (self_study / "config" / "scalinglab").exists()
    truth = challenge_truth("practice", PRACTICE_SECRET)
    assert ch.submit(n_params=truth.n_params, n_tokens=truth.n_tokens, loss=truth.loss).points == 10
    with pytest.raises(ScalingLabError, match="practice"):
        Challenge(practice="yes")


def test_the_challenge_refuses_to_play_in_a_grading_kernel(self_study, monkeypatch):
    monkeypatch.setenv("SCALINGLAB_GRADING_STUDENT", "alice")
    with pytest.raises(ScalingLabError, match="Write your study as a list of runs"):
        Challenge()
    assert Challenge(practice=True).train(1e7, 2e8) > 0


def test_grading_finds_the_teachers_secret(self_study, monkeypatch, tmp_path):
    from scalinglab.challenge import grading_secret, local_secret

    assert grading_secret() == local_secret()
    (tmp_path / "teacher.hex").write_text(SECRET.hex())
    monkeypatch.setenv("SCALINGLAB_CHALLENGE_SECRET_FILE", str(tmp_path / "teacher.hex"))
    assert grading_secret() == SECRET


def test_the_server_reveals_scores_only_after_its_deadline(tmp_path):
    from scalinglab.challenge_server import Oracle

    secret = tmp_path / "secret.hex"
    secret.write_text(SECRET.hex())
    request = {"op": "submit", "student": "alice", "n_params": 1e9, "n_tokens": 1e20 / 6e9, "loss": 2.0}
    before = Oracle(secret, tmp_path / "a", deadline="2999-01-01T00:00+00:00").handle(request)
    assert before["points"] is None and "2999" in before["message"]
    after = Oracle(secret, tmp_path / "b", deadline="2000-01-01T00:00").handle(request)
    assert after["points"] == score_prediction(challenge_truth("alice", SECRET), 1e9, 1e20 / 6e9, 2.0).points
    with pytest.raises(ScalingLabError, match="ISO 8601"):
        Oracle(secret, tmp_path / "c", deadline="next friday")
    with pytest.raises(ScalingLabError, match="op"):
        Oracle(secret, tmp_path / "d").handle({"op": "law", "student": "alice"})


def test_the_explorer_takes_a_fixed_list_of_runs():
    runs = [(n, 1e16 / (6 * n), 2.0 + 0.01 * (math.log(n) - 16) ** 2) for n in (3e6, 1e7, 3e7, 1e8)]
    explorer = ChallengeExplorer(runs=runs)
    assert explorer.study.n_runs == 4 and explorer.challenge.budget_left == pytest.approx(BUDGET_FLOPS - 4e16)
    with pytest.raises(ScalingLabError, match="triples"):
        ChallengeExplorer(runs=[(1, 2)])


def test_the_default_explorer_shows_yours_or_a_demonstration(self_study):
    assert "demonstration" in ChallengeExplorer().readout.value
    Challenge().train(1e7, 2e8)
    assert "demonstration" not in ChallengeExplorer().readout.value


def test_a_peer_identity_server_plays_as_the_connected_user_and_refuses_other_names(tmp_path):
    """With --identity peer (the default) nobody can spend another student's budget or read their runs."""
    import pwd
    import socket as socketlib

    from scalinglab.challenge_server import Oracle
    secret = tmp_path / "secret.hex"
    secret.write_text(SECRET.hex())
    oracle = Oracle(secret, tmp_path / "ledger", identity="peer")
    assert oracle.handle({"op": "status"}, peer="alice")["student"] == "alice"
    with pytest.raises(ScalingLabError, match="belongs to 'alice'.*cannot play as 'bob'"):
        oracle.handle({"op": "train", "student": "bob", "n_params": 1e7, "n_tokens": 2e8}, peer="alice")
    with pytest.raises(ScalingLabError, match="could not tell who is connected"):
        oracle.handle({"op": "status", "student": "alice"}, peer=None)
    # over a real socket, the server asks the operating system who is connected
    folder = Path(tempfile.mkdtemp(prefix="slpe", dir="/tmp"))
    sock_path = folder / "s.sock"
    process = subprocess.Popen([sys.executable, "-m", "scalinglab.grading.cli", "challenge-server",
                                "--secret-file", str(secret), "--socket", str(sock_path), "--ledger",
                                str(folder / "ledger")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            if sock_path.exists():
                break
            time.sleep(0.05)
        me = pwd.getpwuid(os.getuid()).pw_name
        with socketlib.socket(socketlib.AF_UNIX) as sock:
            sock.connect(str(sock_path))
            stream = sock.makefile("rwb")
            for request in ({"op": "status", "student": "someone-else"}, {"op": "status", "student": me}):
                stream.write(json.dumps(request).encode() + b"\n")
                stream.flush()
                reply = json.loads(stream.readline())
                if request["student"] == me:
                    assert reply["ok"] and reply["result"]["student"] == me
                else:
                    assert not reply["ok"] and "cannot play as 'someone-else'" in reply["error"]
    finally:
        process.terminate()
        process.wait(10)
        for path in sorted(folder.rglob("*"), reverse=True):
            path.unlink() if not path.is_dir() else path.rmdir()


def test_two_ledgers_on_one_folder_never_overspend_and_keep_a_private_folder(tmp_path):
    """Servers (or kernels) sharing a ledger folder take its lock: the budget holds, no update is lost."""
    import stat
    import threading

    folder = tmp_path / "ledger"
    ledgers = [Ledger(SECRET, folder), Ledger(SECRET, folder)]
    charged, errors = [], []

    def play(ledger, offset):
        for i in range(40):
            n = 1e6 + 1000 * (2 * i + offset)
            try:
                charged.append(ledger.train("mallory", n, 1e17 / (6 * n))["charged"])
            except ScalingLabError as exc:
                errors.append(str(exc))

    threads = [threading.Thread(target=play, args=(ledger, k)) for k, ledger in enumerate(ledgers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = Ledger(SECRET, folder).load("mallory")
    assert sum(charged) <= 1e18 * (1 + 1e-9) and len(state["runs"]) == len(charged) == 10
    assert state["spent"] == pytest.approx(sum(charged)) and all("only" in e for e in errors)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_pinned_server_plays_only_as_its_student_and_caps_submissions(tmp_path):
    from scalinglab.challenge_server import MAX_SUBMISSIONS, Oracle
    secret = tmp_path / "secret.hex"
    secret.write_text(SECRET.hex())
    oracle = Oracle(secret, tmp_path / "ledger", identity="claimed", student="carol")
    assert oracle.handle({"op": "status"})["student"] == "carol"
    with pytest.raises(ScalingLabError, match="plays only as 'carol'"):
        oracle.handle({"op": "status", "student": "dave"})
    for _ in range(MAX_SUBMISSIONS):
        oracle.handle({"op": "submit", "n_params": 1e9, "n_tokens": 1e20 / 6e9, "loss": 2.0})
    with pytest.raises(ScalingLabError, match="only the first counts"):
        oracle.handle({"op": "submit", "n_params": 1e9, "n_tokens": 1e20 / 6e9, "loss": 2.0})
