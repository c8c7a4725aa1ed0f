"""Public tests of exercise 06 (fitting scaling laws): solutions/06_fitting_scaling_laws.ipynb."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ...chinchilla import ChinchillaFit, chinchilla_fit, compute_optimal
from ...fitting import fit_approach2, fit_chinchilla, load_runs
from ..checks import NotAnswered, Question, WrongAnswer, expect_choice, expect_close, expect_number

TRUTH = "besiroglu2024"     # the law the synthetic runs were drawn from
A_TOLERANCE = 0.01          # question 5: |fitted a - true a|


@lru_cache(maxsize=1)
def _full_fit():
    runs = load_runs("synthetic")
    return fit_chinchilla(runs.n_params, runs.n_tokens, runs.loss, progress=False)


def _theta(fit):
    """(a, b, e, alpha, beta) of a fit, the parametrisation of Hoffmann et al.'s objective."""
    return (math.log(fit.A), math.log(fit.B), math.log(fit.E), fit.alpha, fit.beta)


def _06_q1(q1_a):
    runs = load_runs("synthetic")
    small = runs.subset(runs.flops <= 1e20)
    if isinstance(q1_a, (str, bool)) or not hasattr(q1_a, "__float__"):
        raise WrongAnswer(f"q1_a should be a number, the exponent a (it has no unit); got {q1_a!r}.")
    expect_close("q1_a", q1_a, fit_approach2(small.n_params, small.n_tokens, small.loss).a, "", rel=0.002,
                 too_low="Which approach fits a parabola to each IsoFLOP sweep? And which runs does it get?",
                 too_high="Use only the runs with budgets up to 1e20 FLOPs (runs.subset), and Approach 2.")


def _06_q2(hoffmann_objective):
    if not callable(hoffmann_objective):
        raise WrongAnswer("hoffmann_objective should be a function of (theta, n_params, n_tokens, loss, delta).")
    runs, fit = load_runs("synthetic"), _full_fit()
    label = "hoffmann_objective at the fitted constants of all runs"
    got = expect_number(label, hoffmann_objective(_theta(fit), runs.n_params, runs.n_tokens, runs.loss, 1e-3),
                        "(a sum of Huber losses)")
    expect_close(label, got, fit.objective, "", rel=1e-6,
                 too_low="Sum over the runs (not the mean), and compare predicted and measured log-loss.",
                 too_high="Is the Huber loss taken of the error in log-loss, with delta = 1e-3?")


def _06_q3(q3_ratio):
    fit = _full_fit()
    printed = ChinchillaFit(E=round(fit.E, 2), A=round(fit.A, 1), B=round(fit.B, 1), alpha=round(fit.alpha, 2),
                            beta=round(fit.beta, 2), name="printed precision")
    expect_close("q3_ratio", q3_ratio, compute_optimal(5.76e23, fit=printed).tokens_per_param, "tokens per parameter",
                 rel=0.005, too_low="Round to the printed precision: two decimals for E, alpha, beta; one for A, B.",
                 too_high="Round the refitted constants (not the truth), and use 5.76e23 FLOPs.")


def _06_q4(q4_choice):
    expect_choice("q4_choice", q4_choice, ["a", "b", "c", "d"])


@lru_cache(maxsize=16)
def _a_error(min_flops: float, max_flops: float) -> float:
    """|fitted a - true a| for the runs with budgets in [min_flops, max_flops] (inf without a fit)."""
    runs = load_runs("synthetic")
    keep = (runs.flops >= min_flops * (1 - 1e-9)) & (runs.flops <= max_flops * (1 + 1e-9))
    try:
        fit = fit_chinchilla(runs.n_params[keep], runs.n_tokens[keep], runs.loss[keep], progress=False)
    except ValueError:
        return math.inf
    return abs(fit.a - chinchilla_fit(TRUTH).a)


def _target_min_flops() -> float:
    """Question 5: raising the smallest budget from the first, the last one before a leaves the tolerance."""
    budgets = np.unique(load_runs("synthetic").flops)
    for k in range(1, budgets.size):
        if _a_error(float(budgets[k]), float(budgets[-1])) > A_TOLERANCE:
            return float(budgets[k - 1])
    return float(budgets[-1])


def _06_q5(q5_explorer):
    if not hasattr(q5_explorer, "result") or not hasattr(q5_explorer.result, "tokens_per_param"):
        raise WrongAnswer("q5_explorer should be the RefitExplorer created in the cell above.")
    if q5_explorer.untouched:
        raise NotAnswered("move the smallest-budget slider, then record it with q5_explorer.set(...)")
    v = q5_explorer.result
    budgets = np.unique(load_runs("synthetic").flops)
    if v.max_flops != budgets[-1]:
        raise WrongAnswer("Keep the largest budget at 1e21 FLOPs; move only the smallest budget.")
    target = _target_min_flops()
    if v.min_flops < target:
        raise WrongAnswer("a is still within 0.01 of the truth one step further up: raise the smallest budget.")
    if v.min_flops > target:
        raise WrongAnswer("Too far: on the way up to this setting, the fitted a already left 0.01 of the truth.")


EXERCISE = "06_fitting_scaling_laws"
QUESTIONS = {
    "q1": Question("q1", ("q1_a",), _06_q1,
                   "fit_approach2 returns a ComputeOptimalFit; its .a is the exponent of N_opt ∝ C^a."),
    "q2": Question("q2", ("hoffmann_objective",), _06_q2,
                   "Predicted log-loss = logsumexp of (a - alpha log N, b - beta log D, e); then Huber of the error."),
    "q3": Question("q3", ("q3_ratio",), _06_q3,
                   "Build a ChinchillaFit from the rounded constants and pass it to compute_optimal as fit."),
    "q4": Question("q4", ("q4_choice",), _06_q4,
                   "What does resampling the runs you have vary, and what does it keep fixed?", graded_only=True),
    "q5": Question("q5", ("q5_explorer",), _06_q5,
                   "Read a = β/(α+β) and its truth in the explorer's readout after each step."),
}
