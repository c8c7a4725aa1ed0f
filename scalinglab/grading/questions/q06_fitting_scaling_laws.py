"""Public tests of exercise 06 (fitting scaling laws): solutions/06_fitting_scaling_laws.ipynb, with per-student
variants."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.special import huber, logsumexp

from ...chinchilla import ChinchillaFit, chinchilla_fit, compute_optimal
from ...fit_explorers import compute_refit
from ...fitting import fit_approach1, fit_approach2, fit_chinchilla, load_runs
from ...models import model_card
from ..checks import Question, WrongAnswer, expect_choice, expect_exact, expect_explorer, expect_number

TRUTH = "besiroglu2024"     # the law the synthetic runs were drawn from
APPROACHES = {1: fit_approach1, 2: fit_approach2}
# Question 3: real training runs whose 6ND (active parameters x tokens) is known, from the model table.
Q3_MODELS = ("GPT-3", "Gopher", "Chinchilla", "PaLM", "LLaMA-65B", "Llama 2 70B", "Llama 3 70B",
             "Llama 3.1 405B", "DeepSeek-V3", "GPT-4")
# Question 5: (index of the largest budget, tolerance on a) for which the answer is clear-cut on the synthetic
# runs: every fit on the way up is at least 0.002 away from the tolerance, and the answer is not the first budget.
Q5_CASES = ((8, 0.005), (8, 0.015), (8, 0.025), (7, 0.015), (7, 0.02), (7, 0.03), (6, 0.01), (6, 0.015),
            (5, 0.015), (5, 0.02), (4, 0.02))


@lru_cache(maxsize=1)
def budgets() -> np.ndarray:
    """The nine budgets of the synthetic runs (FLOPs), exactly as the runs and the explorer hold them."""
    return np.unique(load_runs("synthetic").flops)


def make_variant(rng) -> dict:
    """One student's inputs: budget ranges of the synthetic runs, an approach, a model, a Huber delta, a tolerance."""
    b = budgets()
    q1_budgets = np.sort(rng.choice(b, size=int(rng.integers(5, 8)), replace=False))   # Q1: 5 to 7 of the nine
    q2_i = int(rng.integers(0, 4))                # Q2: a range of 5 or more budgets
    q2_j = int(rng.integers(q2_i + 4, b.size))
    while True:                                   # Q3: 5 to 8 consecutive budgets, never all nine
        q3_i = int(rng.integers(0, 5))
        q3_j = int(rng.integers(q3_i + 4, b.size))
        if q3_j - q3_i < b.size - 1:
            break
    j5, tolerance = Q5_CASES[int(rng.integers(len(Q5_CASES)))]
    return {
        "q1_approach": int(rng.integers(1, 3)),                     # Approach 1 or 2
        "q1_budgets": tuple(float(c) for c in q1_budgets),         # FLOPs
        "q2_min_flops": float(b[q2_i]), "q2_max_flops": float(b[q2_j]),
        "q2_delta": float(rng.choice([2e-3, 5e-3, 1e-2, 2e-2, 5e-2])),
        "q3_min_flops": float(b[q3_i]), "q3_max_flops": float(b[q3_j]),
        "q3_model": Q3_MODELS[int(rng.integers(len(Q3_MODELS)))],
        "q5_max_flops": float(b[j5]),                               # FLOPs
        "q5_tolerance": tolerance,                                  # on a, absolute
    }


def runs_at(flops):
    """The synthetic runs of the sweeps at the budgets ``flops`` (FLOPs)."""
    runs = load_runs("synthetic")
    return runs.subset(np.isin(runs.flops, flops))


def runs_between(lo: float, hi: float):
    """The synthetic runs whose budget lies in [lo, hi] FLOPs."""
    runs = load_runs("synthetic")
    return runs.subset((runs.flops >= lo) & (runs.flops <= hi))


def objective(theta, n_params, n_tokens, loss, delta) -> float:
    """Hoffmann et al.'s Approach-3 objective (the reference for question 2)."""
    a, b, e, alpha, beta = theta
    log_N, log_D = np.log(n_params), np.log(n_tokens)
    predicted = logsumexp([a - alpha * log_N, b - beta * log_D, np.full_like(log_N, e)], axis=0)
    return float(huber(delta, predicted - np.log(loss)).sum())


def theta(fit):
    """(a, b, e, alpha, beta) of a fit, the parametrisation of Hoffmann et al.'s objective."""
    return (math.log(fit.A), math.log(fit.B), math.log(fit.E), fit.alpha, fit.beta)


def printed_precision(fit) -> ChinchillaFit:
    """A fit rounded as Hoffmann et al. printed theirs: two decimals for E, alpha, beta; one for A, B."""
    return ChinchillaFit(E=round(fit.E, 2), A=round(fit.A, 1), B=round(fit.B, 1), alpha=round(fit.alpha, 2),
                         beta=round(fit.beta, 2), name="printed precision")


@lru_cache(maxsize=8)
def _fit(lo: float, hi: float):
    runs = runs_between(lo, hi)
    return fit_chinchilla(runs.n_params, runs.n_tokens, runs.loss, progress=False)


def q3_ratio(V) -> float:
    """Question 3's answer."""
    return compute_optimal(model_card(V["q3_model"]).flops_6nd,
                           fit=printed_precision(_fit(V["q3_min_flops"], V["q3_max_flops"]))).tokens_per_param


def a_error(lo: float, hi: float) -> float:
    """|fitted a - true a| of Approach 3 on the runs with budgets in [lo, hi] (inf without a fit)."""
    fit = compute_refit(lo, hi).fit            # the explorer's own (cached) refit
    return math.inf if fit is None else abs(fit.a - chinchilla_fit(TRUTH).a)


def q5_target(V) -> float:
    """Question 5: raising the smallest budget from the first, the last one before a leaves the tolerance."""
    b = budgets()
    top = int(np.flatnonzero(b == V["q5_max_flops"])[0])
    for k in range(1, top + 1):
        if a_error(float(b[k]), float(b[top])) > V["q5_tolerance"]:
            return float(b[k - 1])
    return float(b[top])


# --- 06 Fitting scaling laws ----------------------------------------------------------------------

def _06_q1(V, q1_a):
    x = expect_number("q1_a", q1_a, "(the exponent a has no unit)")
    runs = runs_at(V["q1_budgets"])
    approach, other = V["q1_approach"], 3 - V["q1_approach"]
    fit = APPROACHES[approach](runs.n_params, runs.n_tokens, runs.loss)
    if abs(x - APPROACHES[other](runs.n_params, runs.n_tokens, runs.loss).a) < 1e-9:
        raise WrongAnswer(f"that is Approach {other}'s exponent; your variant asks for Approach V['q1_approach'].")
    if abs(x - fit.b) < 1e-9:
        raise WrongAnswer("that is the exponent of the optimal number of tokens; a is the one of the model size.")
    full = load_runs("synthetic")
    if abs(x - APPROACHES[approach](full.n_params, full.n_tokens, full.loss).a) < 1e-9:
        raise WrongAnswer("that fits all nine budgets: keep only the sweeps at your budgets, V['q1_budgets'].")
    expect_exact("q1_a", x, fit.a, "", too_low="Check which runs you kept and which approach you fitted.",
                 too_high="Check which runs you kept and which approach you fitted.")


def _06_q2(V, hoffmann_objective):
    if not callable(hoffmann_objective):
        raise WrongAnswer("hoffmann_objective should be a function of (theta, n_params, n_tokens, loss, delta).")
    runs = runs_between(V["q2_min_flops"], V["q2_max_flops"])
    fit = _fit(V["q2_min_flops"], V["q2_max_flops"])
    args = (runs.n_params, runs.n_tokens, runs.loss)
    for delta, want, label in (
            (1e-3, fit.objective, "hoffmann_objective at the constants fitted to your runs (delta = 1e-3)"),
            (V["q2_delta"], objective(theta(fit), *args, V["q2_delta"]),
             "hoffmann_objective with your V['q2_delta']")):
        got = expect_number(label, hoffmann_objective(theta(fit), *args, delta), "(a sum of Huber losses)")
        if abs(got * len(runs) / want - 1) < 1e-6:
            raise WrongAnswer(f"{label} is the mean over the runs; the objective is their sum.")
        expect_exact(label, got, want, "", rel=1e-6,
                     too_low="Is it the sum over every run, with the Huber threshold delta you were given?",
                     too_high="Is the Huber loss taken of the error in log-loss (logs of the losses, not the "
                              "losses), with the delta you were given?")


def _06_q3(V, q3_ratio_value):
    x = expect_number("q3_ratio", q3_ratio_value, "tokens per parameter")
    fit = _fit(V["q3_min_flops"], V["q3_max_flops"])
    card = model_card(V["q3_model"])
    target = q3_ratio(V)
    wrong = abs(x / target - 1) > 1e-9     # (with alpha = beta after rounding, every budget gives the same ratio)
    if wrong and abs(x / compute_optimal(card.flops_6nd, fit=fit).tokens_per_param - 1) < 1e-6:
        raise WrongAnswer("that is the ratio of the unrounded fit: round its constants to the printed precision.")
    ratio_at = lambda flops: compute_optimal(flops, fit=printed_precision(fit)).tokens_per_param  # noqa: E731
    if wrong and card.is_moe and abs(x / ratio_at(6 * card.params_total * card.tokens) - 1) < 1e-6:
        raise WrongAnswer("that budget counts every parameter: C = 6ND uses the parameters active per token.")
    if wrong and card.compute_flops and abs(x / ratio_at(card.compute_flops) - 1) < 1e-6:
        raise WrongAnswer("that uses the model card's reported compute; the question asks for 6ND of its "
                          "parameters and tokens.")
    expect_exact("q3_ratio", x, target, "tokens per parameter",
                 too_low="Check the runs in the fit (your budget range only) and the rounding of each constant.",
                 too_high="Check the runs in the fit (your budget range only) and the rounding of each constant.")


def _06_q4(q4_choice):
    expect_choice("q4_choice", q4_choice, ["a", "b", "c", "d"])


def _06_q5(V, q5_prediction, q5_explorer):
    target = q5_target(V)
    x = expect_number("q5_prediction", q5_prediction, "FLOPs")
    expect_exact("q5_prediction", x, target, "FLOPs",
                 too_low="a is still within V['q5_tolerance'] of the truth one step further up.",
                 too_high="On the way up to that budget, the fitted a already left V['q5_tolerance'] of the truth.")
    expect_explorer("q5_explorer", q5_explorer, "RefitExplorer", "tokens_per_param",
                    untouched="move the smallest-budget slider, then record it with q5_explorer.set(...)")
    v = q5_explorer.result
    if v.max_flops != V["q5_max_flops"]:
        raise WrongAnswer("Keep the largest budget at V['q5_max_flops'], where the explorer starts; move only the "
                          "smallest budget.")
    if v.min_flops < target:
        raise WrongAnswer("The explorer's smallest budget is below your prediction: move it up to the prediction.")
    if v.min_flops > target:
        raise WrongAnswer("The explorer's smallest budget is above your prediction: move it down to the prediction.")


EXERCISE = "06_fitting_scaling_laws"
QUESTIONS = {
    "q1": Question("q1", ("q1_a",), _06_q1,
                   "The fit returns a ComputeOptimalFit whose .a is the exponent of N_opt ∝ C^a; fit only your runs.",
                   variant=True),
    "q2": Question("q2", ("hoffmann_objective",), _06_q2,
                   "Compare the predicted and measured log-loss for every run; lesson 06, section 4, writes it out.",
                   variant=True),
    "q3": Question("q3", ("q3_ratio",), _06_q3,
                   "Build a ChinchillaFit from the rounded constants and pass it to compute_optimal as fit.",
                   variant=True),
    "q4": Question("q4", ("q4_choice",), _06_q4,
                   "What does resampling the runs you have vary, and what does it keep fixed?", graded_only=True),
    "q5": Question("q5", ("q5_prediction", "q5_explorer"), _06_q5,
                   "Refit for each smallest budget in turn and compare a = β/(α+β) with the truth's.", variant=True),
}
