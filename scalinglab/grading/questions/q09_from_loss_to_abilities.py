"""Public tests of exercise 09 (from loss to abilities): solutions/09_from_loss_to_abilities.ipynb, with
per-student variants."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ...abilities import best_of_n_accuracy, best_of_n_ceiling, pass_at_k, pass_at_k_unbiased
from ...ability_explorers import compute_test_time
from ...ability_models import load_ability_series
from ..checks import Question, WrongAnswer, expect_choice, expect_exact, expect_explorer, expect_number

Q3_MAX_SAMPLES = 100_000
# Question 5: budgets (log10 FLOPs per problem, on the explorer's 0.1 grid) and false-positive rates
Q5_EXPONENTS = tuple(round(4.3 + 0.1 * i, 1) for i in range(23))     # 4.3 ... 6.5
Q5_FPRS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3)


@lru_cache(maxsize=1)
def _q5_cases() -> tuple:
    """(exponent, fpr) pairs whose best model leads the runner-up by at least 0.002: no near-ties."""
    cases = []
    for e in Q5_EXPONENTS:
        for f in Q5_FPRS:
            view = compute_test_time(10 ** e, f)
            acc = np.sort(view.accuracy[view.samples >= 1])
            if acc.size > 1 and acc[-1] - acc[-2] >= 0.002:
                cases.append((e, f))
    return tuple(cases)


def make_variant(rng) -> dict:
    """One student's inputs: an answer length and target, pass@k cases, a verifier, an inference budget."""
    s = load_ability_series()
    L = int(rng.integers(4, 17))
    em = s.exact_match[:, L - 1]
    # a target some model reaches but not the first three: the answer is never the smallest models
    target = round(float(rng.uniform(em[3] + 0.005, em[-1] - 0.005)), 3)
    cases = []
    for _ in range(3):
        n = int(rng.choice([20, 50, 100, 200]))
        k = int(rng.integers(2, n // 2))
        cases.append((n, int(rng.integers(1, n - k)), k))
    e, f = _q5_cases()[int(rng.integers(len(_q5_cases())))]
    return {
        "q1_length": L,                                             # characters
        "q1_target": target,                                        # exact-match rate
        "q2_cases": tuple(cases),                                   # (n samples, c correct, k)
        "q3_p": round(float(rng.uniform(0.05, 0.6)), 2),            # one sample right
        "q3_tpr": round(float(rng.uniform(0.8, 1.0)), 2),
        "q3_fpr": round(float(rng.uniform(0.02, 0.3)), 2),
        "q3_n": int(rng.integers(3, 41)),                           # samples
        "q3_gap": float(rng.choice([0.005, 0.01, 0.02, 0.05])),     # accuracy below the ceiling
        "q5_budget": float(10 ** e),                                # FLOPs per problem
        "q5_fpr": f,
    }


def q1_answers(V) -> tuple:
    """(n_params of the smallest cached model whose measured exact match reaches the target, its measured / p^L)."""
    s = load_ability_series()
    L = V["q1_length"]
    i = int(np.flatnonzero(s.exact_match[:, L - 1] >= V["q1_target"])[0])
    return float(s.n_params[i]), float(s.exact_match[i, L - 1] / s.per_token_accuracy[i] ** L)


def q3_samples(V) -> int:
    """Smallest N whose best-of-N accuracy is within V["q3_gap"] of the ceiling."""
    args = (V["q3_tpr"], V["q3_fpr"])
    goal = best_of_n_ceiling(V["q3_p"], *args) - V["q3_gap"]
    for n in range(1, Q3_MAX_SAMPLES + 1):
        if best_of_n_accuracy(V["q3_p"], n, *args) >= goal:
            return n
    raise AssertionError("no N reaches the goal")      # make_variant's ranges exclude this


# --- 09 From loss to abilities ----------------------------------------------------------------------

def _09_q1(V, q1_n_params, q1_ratio):
    n, ratio = q1_answers(V)
    s = load_ability_series()
    x = expect_number("q1_n_params", q1_n_params, "parameters")
    if x not in set(s.n_params):
        raise WrongAnswer("q1_n_params should be the n_params of one of the cached models (series.n_params).")
    L = V["q1_length"]
    reach_pl = np.flatnonzero(s.per_token_accuracy ** L >= V["q1_target"])
    if x != n and reach_pl.size and x == s.n_params[reach_pl[0]]:
        raise WrongAnswer("that is where p^L reaches the target; the question asks for the *measured* exact match.")
    if x > n:
        raise WrongAnswer("q1_n_params is too large: a smaller model already reaches the target.")
    if x < n:
        raise WrongAnswer("q1_n_params is too small: that model's measured exact match is below the target.")
    r = expect_number("q1_ratio", q1_ratio, "(a ratio, no unit)")
    if abs(r * ratio - 1) < 1e-9 and abs(ratio - 1) > 1e-6:
        raise WrongAnswer("q1_ratio is upside down: divide the measured exact match by p^L.")
    expect_exact("q1_ratio", r, ratio, "", too_low="Use the model's own per-token accuracy, to the power L.",
                 too_high="Use the model's own per-token accuracy, to the power L.")


def _09_q2(V, pass_at_k_estimate):
    if not callable(pass_at_k_estimate):
        raise WrongAnswer("pass_at_k_estimate should be a function of (n, c, k).")
    cases = [*V["q2_cases"], (30, 0, 5), (30, 28, 5), (40, 7, 1), (20_000, 150, 200)]
    for n, c, k in cases:
        got = expect_number(f"pass_at_k_estimate({n}, {c}, {k})", pass_at_k_estimate(n, c, k), "(a probability)")
        want = pass_at_k_unbiased(n, c, k)
        if abs(got - want) <= 1e-9 * max(want, 1e-300) + 1e-12:
            continue
        if n - c < k:
            raise WrongAnswer(f"pass_at_k_estimate({n}, {c}, {k}) should be 1: with only {n - c} wrong samples, "
                              f"every set of {k} contains a right one.")
        if k > 1 and abs(got - pass_at_k(c / n, k)) < 1e-9:
            raise WrongAnswer(f"pass_at_k_estimate({n}, {c}, {k}) is the plug-in 1 - (1 - c/n)^k, which is biased "
                              "low; count the k-subsets of the n samples instead.")
        if k > 1 and abs(got - c / n) < 1e-9:
            raise WrongAnswer(f"pass_at_k_estimate({n}, {c}, {k}) does not depend on k: c/n is only pass@1.")
        if n > 1000:
            raise WrongAnswer(f"pass_at_k_estimate({n}, {c}, {k}) is wrong for large n: floating-point binomial "
                              "coefficients overflow; use exact integers (math.comb) or Chen et al.'s product form.")
        expect_exact(f"pass_at_k_estimate({n}, {c}, {k})", got, want, "",
                     too_low="Is it 1 minus the chance that a random k-subset holds no right sample?",
                     too_high="Is it 1 minus the chance that a random k-subset holds no right sample?")


def _09_q3(V, q3_accuracy, q3_samples_value):
    args = (V["q3_p"], V["q3_n"], V["q3_tpr"], V["q3_fpr"])
    want = best_of_n_accuracy(*args)
    x = expect_number("q3_accuracy", q3_accuracy, "(a fraction)")
    if abs(x - pass_at_k(V["q3_p"], V["q3_n"])) < 1e-9 and abs(want - x) > 1e-9:
        raise WrongAnswer("that is pass@N, which assumes a perfect verifier; use your verifier's rates.")
    if abs(x - best_of_n_ceiling(V["q3_p"], V["q3_tpr"], V["q3_fpr"])) < 1e-9 and abs(want - x) > 1e-9:
        raise WrongAnswer("that is the ceiling as N grows without bound; the question asks for V['q3_n'] samples.")
    expect_exact("q3_accuracy", x, want, "", too_low="With V['q3_n'] samples, what is left when none is accepted?",
                 too_high="An accepted sample is right only with the verifier's precision.")
    n = expect_number("q3_samples", q3_samples_value, "samples")
    target = q3_samples(V)
    if n != int(n):
        raise WrongAnswer("q3_samples should be a whole number of samples.")
    if n > target:
        raise WrongAnswer("q3_samples is too large: fewer samples already come within V['q3_gap'] of the ceiling.")
    if n < target:
        raise WrongAnswer("q3_samples is too small: that many samples are still more than V['q3_gap'] below the "
                          "ceiling.")


def _09_q4(q4_choice):
    expect_choice("q4_choice", q4_choice, ["a", "b", "c", "d"])


def _09_q5(V, q5_n_params, q5_accuracy, q5_explorer):
    view = compute_test_time(V["q5_budget"], V["q5_fpr"])
    x = expect_number("q5_n_params", q5_n_params, "parameters")
    best_n = float(view.n_params[view.best])
    if x != best_n:
        largest = view.n_params[np.flatnonzero(view.samples >= 1)[-1]]
        if x > largest:
            raise WrongAnswer("that model cannot afford a single sample at your budget.")
        raise WrongAnswer("another affordable model does better at your budget and false-positive rate.")
    a = expect_number("q5_accuracy", q5_accuracy, "(a fraction)")
    if abs(a - view.one_sample[view.best]) < 1e-9 < abs(view.accuracy[view.best] - view.one_sample[view.best]):
        raise WrongAnswer("that is one sample's accuracy; the model draws k samples and the verifier picks one.")
    expect_exact("q5_accuracy", a, float(view.accuracy[view.best]), "",
                 too_low="Average best-of-k over the problems, each with its own probability, with k = "
                         "floor(budget / (2 N T)).",
                 too_high="Use the verifier's false-positive rate V['q5_fpr'], and average over the problems.")
    expect_explorer("q5_explorer", q5_explorer, "InferenceComputeExplorer", "samples",
                    untouched="set the explorer to your budget and false-positive rate, then record it with "
                              "q5_explorer.set(...)")
    v = q5_explorer.result
    if not (math.isclose(v.budget, V["q5_budget"], rel_tol=1e-9) and math.isclose(v.fpr, V["q5_fpr"], abs_tol=1e-9)):
        raise WrongAnswer("The explorer is not at your budget V['q5_budget'] and false-positive rate V['q5_fpr'].")


EXERCISE = "09_from_loss_to_abilities"
QUESTIONS = {
    "q1": Question("q1", ("q1_n_params", "q1_ratio"), _09_q1,
                   "series.exact_match[:, L - 1] holds the measured exact match of each model; compare it with "
                   "series.per_token_accuracy ** L.", variant=True),
    "q2": Question("q2", ("pass_at_k_estimate",), _09_q2,
                   "Chen et al.'s estimator: 1 - C(n - c, k) / C(n, k), lesson 09, section 4.1.", variant=True),
    "q3": Question("q3", ("q3_accuracy", "q3_samples"), _09_q3,
                   "Split each sample into right-and-accepted, wrong-and-accepted and rejected (lesson 09, 4.2).",
                   variant=True),
    "q4": Question("q4", ("q4_choice",), _09_q4,
                   "What can 2,000 test examples resolve, and what does the metric do to a smooth change?",
                   graded_only=True),
    "q5": Question("q5", ("q5_n_params", "q5_accuracy", "q5_explorer"), _09_q5,
                   "Each model affords floor(budget / (2 N T)) samples, T the mean answer length; average "
                   "best_of_n_accuracy over the problems.", variant=True),
}
