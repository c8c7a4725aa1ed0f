"""Public tests of exercise 11 (the scaling-law challenge): solutions/11_scaling_law_challenge.ipynb, with
per-student variants.

Questions 4 and 5 are graded against laws the learner's kernel never sees. Question 4's hidden test
draws a fresh law at grading time and plays the course's study against it; question 5's plays the
learner's own study against the learner's own hidden law, on the grader's side, with the course secret
(:func:`scalinglab.challenge.grading_secret`), and scores the prediction of the learner's
``predict_optimum`` against the exact truth. The public checks here use a public law only.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ...challenge_law import BUDGET_FLOPS, TARGET_FLOPS, ChallengeTruth, challenge_truth, check_run, hidden_law
from ...chinchilla import chinchilla_loss, compute_optimal
from ..checks import (
    Question, WrongAnswer, expect_choice, expect_close, expect_exact, expect_explorer, expect_number,
)

PUBLIC_SECRET = b"scalinglab exercise 11: the public check's law"   # published: the checks' own law
N_TOLERANCE = math.log(2.0)     # |ln(predicted / true)| allowed for N and D
LOSS_TOLERANCE = 0.03           # |ln(predicted / true)| allowed for the loss
REFERENCE_BUDGETS = (1e15, 3e15, 1e16, 3e16, 1e17)


def reference_study() -> list:
    """The course's study: 5 budgets, 6 sizes each from 10x below to 10x above 20 tokens per parameter."""
    runs = []
    for C in REFERENCE_BUDGETS:
        for m in np.linspace(-1.0, 1.0, 6):
            n = math.sqrt(C / 120) * 10 ** m
            runs.append((n, C / (6 * n)))
    return runs


def make_variant(rng) -> dict:
    """One student's inputs: an IsoFLOP slice to locate (q1) and a study plan to size (q2)."""
    law = hidden_law("exercise 11, question 1", rng.bytes(32))      # a law like the challenge's, not yours
    flops = float(10 ** rng.uniform(15, 17))                          # FLOPs of the slice
    n_center = compute_optimal(flops, fit=law).n_params * 10 ** rng.uniform(-0.3, 0.3)
    n_params = n_center * 10 ** np.linspace(-0.8, 0.8, int(rng.integers(5, 8)))
    noise = np.exp(0.005 * rng.standard_normal(n_params.size))       # 0.5%, the challenge's run-to-run noise
    loss = chinchilla_loss(n_params, flops / (6 * n_params), fit=law) * noise
    return {
        "q1_flops": flops,
        "q1_n_params": tuple(float(f"{n:.4g}") for n in n_params),  # parameters
        "q1_loss": tuple(float(f"{x:.5f}") for x in loss),          # nats/token
        "q2_level": float(rng.choice([0.6, 0.7, 0.75, 0.8, 0.85, 0.95])),   # the explorer starts at 0.9
    }


def slice_minimum(n_params, loss) -> float:
    """Question 1's answer: N at the minimum of the parabola of loss against ln N (Approach 2)."""
    x = np.log(np.asarray(n_params, dtype=float))
    p2, p1, _ = np.polyfit(x, np.asarray(loss, dtype=float), 2)
    return float(np.exp(-p1 / (2 * p2)))


def band_width(explorer, level: float) -> float:
    """Question 2's answer: high / low of the explorer's band at the target, at confidence ``level``."""
    from ...challenge_explorers import compute_challenge

    low, high = compute_challenge(explorer.study, level).target_band
    return high / low


def play(study, student: str, secret) -> tuple:
    """(N, D, loss) arrays of a study played against ``student``'s law under ``secret`` (repeats once)."""
    from ...challenge_law import run_loss

    runs = sorted({check_run(n, d) for n, d in study})
    N = np.array([r[0] for r in runs], dtype=float)
    D = np.array([r[1] for r in runs], dtype=float)
    return N, D, np.array([run_loss(student, secret, n, d) for n, d in runs])


def study_cost(study) -> float:
    """FLOPs a study charges: 6ND for each distinct run (repeats are free)."""
    return sum(6.0 * n * d for n, d in {check_run(n, d) for n, d in study})


def judge(prediction, truth: ChallengeTruth, what: str) -> None:
    """WrongAnswer unless ``prediction`` = (N, D, L) is within the tolerances of ``truth``."""
    if not isinstance(prediction, (tuple, list)) or len(prediction) != 3:
        raise WrongAnswer(f"{what} should return three numbers (n_params, n_tokens, loss); got {prediction!r:.80}.")
    N, D, L = (expect_number(f"{what}'s {k}", v, u) for k, v, u in
               zip(("n_params", "n_tokens", "loss"), prediction, ("parameters", "tokens", "nats per token")))
    if min(N, D, L) <= 0:
        raise WrongAnswer(f"{what} returned a number that is not positive: {N:.4g}, {D:.4g}, {L:.4g}.")
    if abs(6 * N * D / truth.flops - 1) > 0.01:
        raise WrongAnswer(f"{what}'s n_params and n_tokens should spend the target budget: 6ND = "
                          f"{6 * N * D:.3g} FLOPs, not {truth.flops:.3g}.")
    for name, value, true, tol in (("n_params", N, truth.n_params, N_TOLERANCE),
                                   ("n_tokens", D, truth.n_tokens, N_TOLERANCE),
                                   ("loss", L, truth.loss, LOSS_TOLERANCE)):
        if abs(math.log(value / true)) > tol:
            raise WrongAnswer(f"{what}'s {name} is too {'high' if value > true else 'low'}, by more than the "
                              f"allowed factor {math.exp(tol):.3g}.")


def public_check_law(student: str) -> ChallengeTruth:
    """The public checks' own law and truth (its secret is published: not the learner's law)."""
    return challenge_truth(student, PUBLIC_SECRET)


# --- 11 The scaling-law challenge ----------------------------------------------------------------------

def _11_q1(V, fn):
    if not callable(fn):
        raise WrongAnswer("slice_minimum should be a function of (n_params, loss).")
    N, L = np.array(V["q1_n_params"]), np.array(V["q1_loss"])
    got = expect_number("slice_minimum(V['q1_n_params'], V['q1_loss'])", fn(N, L), "parameters")
    want = slice_minimum(N, L)
    if abs(got / N[np.argmin(L)] - 1) < 1e-9 and abs(want / got - 1) > 1e-6:
        raise WrongAnswer("that is the size of the best run (Approach 1); fit a parabola through all the runs.")
    if abs(got - math.log(want)) < 1e-6 * abs(math.log(want)):
        raise WrongAnswer("that is ln N at the minimum; return N itself.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # a parabola in raw N is poorly conditioned: that is the point
        p2, p1, _ = np.polyfit(N, L, 2)
    if p2 > 0 and abs(got / (-p1 / (2 * p2)) - 1) < 1e-6:
        raise WrongAnswer("that parabola is in N; IsoFLOP slices are parabolas in ln N.")
    expect_close("slice_minimum(V['q1_n_params'], V['q1_loss'])", got, want, "parameters", rel=1e-6,
                 too_low="Is the parabola fitted to the loss against ln N, and its minimum at -p1 / (2 p2)?",
                 too_high="Is the parabola fitted to the loss against ln N, and its minimum at -p1 / (2 p2)?")


def _11_q2(V, q2_width, q2_explorer):
    expect_explorer("q2_explorer", q2_explorer, "ChallengeExplorer", "target_band",
                    untouched="move the confidence level to V['q2_level'], then record it with q2_explorer.set(...)")
    if abs(q2_explorer.result.level - V["q2_level"]) > 1e-9:
        raise WrongAnswer("set the explorer's confidence level to your V['q2_level'].")
    x = expect_number("q2_width", q2_width, "(a ratio: no unit)")
    low, high = q2_explorer.result.target_band
    if abs(x - (high - low)) < 1e-6 * (high - low):
        raise WrongAnswer("that is the difference high - low; the question asks for the ratio high / low.")
    expect_exact("q2_width", x, band_width(q2_explorer, V["q2_level"]), "(a ratio: no unit)",
                 too_low="Divide the upper end of the band at the target by its lower end.",
                 too_high="Divide the upper end of the band at the target by its lower end.")


def _11_q3(q3_choice):
    expect_choice("q3_choice", q3_choice, ["a", "b", "c", "d"])


def _11_q4(V, fn):
    if not callable(fn):
        raise WrongAnswer("predict_optimum should be a function of (n_params, n_tokens, loss, target_flops).")
    truth = public_check_law(V.student)
    N, D, L = play(reference_study(), V.student, PUBLIC_SECRET)
    judge(fn(N, D, L, TARGET_FLOPS), truth, "predict_optimum on the check's own runs")


def _11_q5(V, study, fn):
    if not isinstance(study, (list, tuple)) or not all(isinstance(r, (list, tuple)) and len(r) == 2 for r in study):
        raise WrongAnswer("study should be a list of runs (n_params, n_tokens).")
    try:
        cost = study_cost(study)
    except Exception as exc:   # a run the challenge refuses
        raise WrongAnswer(f"a run of your study is refused by the challenge: {exc}") from None
    if cost > BUDGET_FLOPS * (1 + 1e-12):
        raise WrongAnswer(f"your study costs {cost:.3g} FLOPs, more than the budget of {BUDGET_FLOPS:.0e}.")
    if len({check_run(n, d) for n, d in study}) < 6:
        raise WrongAnswer("a study needs 6 distinct runs or more to fit a law.")
    if not callable(fn):
        raise WrongAnswer("predict_optimum (question 4) should be defined first.")
    truth = public_check_law(V.student)
    judge(fn(*play(study, V.student, PUBLIC_SECRET), TARGET_FLOPS), truth, "predict_optimum on your study")


EXERCISE = "11_scaling_law_challenge"
QUESTIONS = {
    "q1": Question("q1", ("slice_minimum",), _11_q1,
                   "Fit loss = p0 + p1 x + p2 x^2 with x = ln N (np.polyfit) and take the vertex.", variant=True),
    "q2": Question("q2", ("q2_width", "q2_explorer"), _11_q2,
                   "The explorer's result holds the band at the target as target_band = (low, high).",
                   variant=True),
    "q3": Question("q3", ("q3_choice",), _11_q3, "What can one point of a curve not tell you about the curve?",
                   graded_only=True),
    "q4": Question("q4", ("predict_optimum",), _11_q4,
                   "Fit the whole law (Approach 3) or the minima of the slices (Approach 2), then evaluate at "
                   "target_flops; the loss needs the whole law.", variant=True),
    "q5": Question("q5", ("study", "predict_optimum"), _11_q5,
                   "Spread your budgets over two decades or more and your sizes widely around each valley.",
                   variant=True),
}
