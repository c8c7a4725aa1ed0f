"""Public tests of exercise 08 (beyond compute-optimal): solutions/08_beyond_compute_optimal.ipynb, with
per-student variants."""

from __future__ import annotations

import math

import numpy as np

from ...beyond import (
    SARDANA_FIT, chinchilla_optimal_tokens, effective_ratio, fit_r_star, inference_optimal,
    load_repeated_runs,
)
from ...chinchilla import chinchilla_loss
from ..checks import Question, WrongAnswer, expect_choice, expect_exact, expect_explorer, expect_number, round_sig

# Question 1: the quality target is the loss of a Chinchilla-optimal model of one of these sizes (parameters).
Q1_QUALITY = (3e9, 5e9, 8e9, 20e9, 30e9, 50e9)
# Question 3: shipped repeated-data runs (hidden units, unique tokens); (64, 25k) is the lesson's own example.
Q3_POOLS = ((32, 10_000), (32, 25_000), (64, 10_000), (128, 10_000), (128, 25_000))
Q3_MAX_EPOCHS = (4, 8)


def make_variant(rng) -> dict:
    """One student's inputs: a quality and an inference demand, a pool of repeated runs, an explorer setting."""
    h, u = Q3_POOLS[int(rng.integers(len(Q3_POOLS)))]
    return {
        "q1_quality": float(Q1_QUALITY[int(rng.integers(len(Q1_QUALITY)))]),   # parameters
        "q1_served": round_sig(10 ** rng.uniform(11, 14), 2),                 # tokens
        "q3_hidden": h, "q3_unique": u,
        "q3_max_epochs": int(Q3_MAX_EPOCHS[int(rng.integers(len(Q3_MAX_EPOCHS)))]),
        "q5_quality": round_sig(10 ** rng.uniform(9.3, 11), 2),                # parameters
        "q5_served": round_sig(10 ** rng.uniform(10, 14.5), 2),                # tokens
    }


def quality_loss(n_params: float) -> float:
    """The loss (nats/token) of a Chinchilla-optimal model of ``n_params`` under Sardana et al.'s law."""
    return float(chinchilla_loss(n_params, chinchilla_optimal_tokens(n_params), fit=SARDANA_FIT))


def q1_optimum(V):
    return inference_optimal(quality_loss(V["q1_quality"]), V["q1_served"])


def q3_target(V) -> float:
    runs = load_repeated_runs(V["q3_hidden"], V["q3_unique"])
    epochs, ratio = effective_ratio(runs, V["q3_unique"])
    keep = epochs <= V["q3_max_epochs"]
    return fit_r_star(epochs[keep], ratio[keep]).r_star


def reference_effective_data(unique_tokens, epochs, r_star):
    """Question 2's reference, written out (the library's ``effective_tokens`` without its checks)."""
    U, E, Rs = (np.asarray(x, dtype=float) for x in (unique_tokens, epochs, r_star))
    return U + U * Rs * (1.0 - np.exp(-(E - 1.0) / Rs))


# --- 08 Beyond compute-optimal --------------------------------------------------------------------

def _08_q1(V, q1_n_params, q1_n_tokens):
    n = expect_number("q1_n_params", q1_n_params, "parameters")
    d = expect_number("q1_n_tokens", q1_n_tokens, "tokens")
    o = q1_optimum(V)
    if math.isclose(n, o.chinchilla_n_params, rel_tol=1e-6):
        raise WrongAnswer("that is the Chinchilla-optimal model, which ignores inference: pass your V['q1_served'] "
                          "tokens to the optimisation.")
    for fit in ("hoffmann2022", "hoffmann2022-unrounded", "besiroglu2024"):
        try:
            other = inference_optimal(float(chinchilla_loss(V["q1_quality"], chinchilla_optimal_tokens(
                V["q1_quality"], fit=fit), fit=fit)), V["q1_served"], fit=fit)
        except Exception:   # pragma: no cover - every named fit reaches these losses
            continue
        if math.isclose(n, other.n_params, rel_tol=1e-6):
            raise WrongAnswer("that uses another Chinchilla fit: the question asks for Sardana et al.'s law "
                              "(SARDANA_FIT, the default of the functions in scalinglab.beyond).")
    expect_exact("q1_n_params", n, o.n_params, "parameters",
                 too_low="Is the target loss that of a Chinchilla-optimal V['q1_quality'] model, not of a model "
                         "trained on 20 tokens per parameter?",
                 too_high="More tokens served should make the model smaller: check the inference demand you used.")
    if math.isclose(d, o.chinchilla_n_tokens, rel_tol=1e-6):
        raise WrongAnswer("q1_n_tokens are the Chinchilla-optimal model's tokens; give those of the lifetime optimum.")
    if math.isclose(d, o.tokens_per_param, rel_tol=1e-6):
        raise WrongAnswer("q1_n_tokens is a number of tokens, not tokens per parameter.")
    expect_exact("q1_n_tokens", d, o.n_tokens, "tokens",
                 too_low="The optimum's own training tokens D: the tokens its size needs to reach the target loss.",
                 too_high="The optimum's own training tokens D: the tokens its size needs to reach the target loss.")


def _08_q2(V, effective_data):
    if not callable(effective_data):
        raise WrongAnswer("effective_data should be a function of (unique_tokens, epochs, r_star).")
    cases = [(V["q3_unique"], 4.0, 15.4), (1e9, 1.0, 15.4), (2.5e10, 9.68, 15.4), (1e4, 3.0, 2.0)]
    for U, e, rs in cases:
        got = expect_number(f"effective_data({U:g}, {e:g}, {rs:g})", effective_data(U, e, rs), "tokens")
        want = float(reference_effective_data(U, e, rs))
        if e > 1 and math.isclose(got, U + U * rs * (1 - math.exp(-e / rs)), rel_tol=1e-9):
            raise WrongAnswer("R counts the repetitions after the first epoch: R = epochs - 1, so one epoch gives "
                              "D' = U.")
        if e > 1 and math.isclose(got, U * e, rel_tol=1e-9):
            raise WrongAnswer("that is the fresh-data value U × epochs: repeated tokens are worth less each time.")
        if e > 1 and math.isclose(got, U * rs * (1 - math.exp(-(e - 1) / rs)), rel_tol=1e-9):
            raise WrongAnswer("the first epoch counts in full: D' starts from U and adds the discounted repetitions.")
        expect_exact(f"effective_data({U:g}, {e:g}, {rs:g})", got, want, "tokens",
                     too_low="Check the sign inside the exponential and the factor R* in front of it.",
                     too_high="Check the sign inside the exponential and the factor R* in front of it.")
    try:
        arr = effective_data(np.array([1e6, 2e6]), np.array([2.0, 8.0]), 15.4)
    except (TypeError, ValueError):
        arr = None
    if arr is None or np.shape(arr) != (2,):
        raise WrongAnswer("effective_data should work on numpy arrays element by element, as the formula does.")


def _08_q3(V, q3_r_star):
    x = expect_number("q3_r_star", q3_r_star, "repetitions")
    target = q3_target(V)
    runs = load_repeated_runs(V["q3_hidden"], V["q3_unique"])
    epochs, ratio = effective_ratio(runs, V["q3_unique"])
    if not math.isclose(x, target, rel_tol=1e-6) and math.isclose(x, fit_r_star(epochs, ratio).r_star, rel_tol=1e-6):
        raise WrongAnswer("that fit uses every repeated run: keep only those of at most V['q3_max_epochs'] epochs, "
                          "where the loss still falls.")
    if math.isclose(x, 15.387756, rel_tol=1e-3):
        raise WrongAnswer("that is Muennighoff et al.'s R*, not the one of your runs.")
    expect_exact("q3_r_star", x, target, "repetitions",
                 too_low="Check the runs: width V['q3_hidden'], pool V['q3_unique'], epochs up to V['q3_max_epochs'].",
                 too_high="Check the runs: width V['q3_hidden'], pool V['q3_unique'], epochs up to V['q3_max_epochs'].")


def _08_q4(q4_choice):
    expect_choice("q4_choice", q4_choice, ["a", "b", "c", "d"])


def _08_q5(V, q5_explorer, q5_n_params):
    expect_explorer("q5_explorer", q5_explorer, "InferenceExplorer", "optimum",
                    untouched="set the explorer to your tokens served and quality with q5_explorer.set(...)")
    values = q5_explorer.values()
    if not math.isclose(values["inference_tokens"], V["q5_served"], rel_tol=1e-9):
        raise WrongAnswer("the explorer's tokens served are not your V['q5_served'].")
    if not math.isclose(values["quality_n_params"], V["q5_quality"], rel_tol=1e-9):
        raise WrongAnswer("the explorer's quality is not your V['q5_quality'].")
    n = expect_number("q5_n_params", q5_n_params, "parameters")
    o = inference_optimal(quality_loss(V["q5_quality"]), V["q5_served"])
    if math.isclose(n, o.chinchilla_n_params, rel_tol=1e-6) or math.isclose(n, V["q5_quality"], rel_tol=1e-6):
        raise WrongAnswer("that is the Chinchilla-optimal size (the quality slider); the question asks for the "
                          "inference-aware optimum.")
    expect_exact("q5_n_params", n, o.n_params, "parameters",
                 too_low="Read the size of the explorer's optimum (its result), at full precision.",
                 too_high="Read the size of the explorer's optimum (its result), at full precision.")


EXERCISE = "08_beyond_compute_optimal"
QUESTIONS = {
    "q1": Question("q1", ("q1_n_params", "q1_n_tokens"), _08_q1,
                   "inference_optimal(loss, inference_tokens) needs the target loss first: the loss of a "
                   "Chinchilla-optimal model of your size.", variant=True),
    "q2": Question("q2", ("effective_data",), _08_q2,
                   "Write D' = U + U R* (1 - exp(-R/R*)) with numpy, and work out R from the epochs.", variant=True),
    "q3": Question("q3", ("q3_r_star",), _08_q3,
                   "load_repeated_runs, then effective_ratio, then fit_r_star on the runs you keep.", variant=True),
    "q4": Question("q4", ("q4_choice",), _08_q4,
                   "Which statement names its source and says exactly what the source says?", graded_only=True),
    "q5": Question("q5", ("q5_explorer", "q5_n_params"), _08_q5,
                   "Put both sliders at your values with .set(...), then read explorer.result.optimum.",
                   variant=True),
}
