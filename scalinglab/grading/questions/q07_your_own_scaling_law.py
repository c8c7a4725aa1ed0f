"""Public tests of exercise 07 (your own scaling law): solutions/07_your_own_scaling_law.ipynb, with per-student
variants."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ...chinchilla import compute_optimal
from ...fit_explorers import MINISERIES_EXPONENTS
from ...fitting import fit_chinchilla
from ..checks import Question, WrongAnswer, expect_close, expect_exact, expect_explorer, expect_number, round_sig
from ...mlp_lm import mlp_params
from ...sweep import load_sweep
from ...zipf import zipf_entropy, zipf_lexicon

Q3_SUBSETS = tuple((h, d) for h in (16, 32, 64) for d in (125_000, 250_000, 500_000)
                   if (h, d) != (16, 125_000))      # smallest width, fewest tokens kept; never the full sweep
LESSON_FLOPS = (1e11, 1e12)                          # the budgets the explorer's readout shows


def _budget(rng, low: float, high: float) -> float:
    """A FLOP budget, log-uniform in [10**low, 10**high], to 2 significant digits, not one the explorer shows."""
    while True:
        c = round_sig(10 ** rng.uniform(low, high), 2)
        if c not in LESSON_FLOPS:
            return c


def make_variant(rng) -> dict:
    """One student's inputs: a lexicon, three model shapes, a subset of a cached sweep, a bootstrap, budgets."""
    while True:                                     # Q1: an exponent whose entropy the lesson does not print
        q1_exponent = round(float(rng.uniform(1.1, 3.0)), 2)
        if q1_exponent not in MINISERIES_EXPONENTS:
            break
    configs = tuple((int(rng.choice([24, 48, 96, 160, 320, 640])), int(rng.integers(2, 13)),
                     int(rng.choice([4, 8, 12, 24, 32])), int(rng.choice([27, 28, 32, 53, 64])))
                    for _ in range(3))              # Q2: (hidden, context, embed, vocab)
    q3_h, q3_d = Q3_SUBSETS[int(rng.integers(len(Q3_SUBSETS)))]
    return {
        "q1_exponent": q1_exponent,
        "q1_n_words": int(rng.choice([2000, 5000, 10000, 20000])),
        "q1_seed": int(rng.integers(1, 1000)),
        "q2_models": configs,
        "q3_exponent": float(rng.choice(MINISERIES_EXPONENTS)),
        "q3_min_hidden": q3_h,                      # hidden units
        "q3_min_tokens": q3_d,                      # tokens
        "q3_flops": _budget(rng, 10, 12.5),         # FLOPs
        "q4_exponent": float(rng.choice(MINISERIES_EXPONENTS)),
        "q4_n_boot": int(rng.choice([100, 150, 250, 300, 400])),
        "q4_seed": int(rng.integers(1, 10_000)),
        "q5_goal": str(rng.choice(["most", "fewest"])),
        "q5_flops": _budget(rng, 10, 13),           # FLOPs
        "q5_start": float(rng.choice(MINISERIES_EXPONENTS)),
    }


def q3_runs(V):
    """(n_params, n_tokens, loss) of the runs of question 3."""
    table = load_sweep(V["q3_exponent"])
    keep = (table["hidden_units"] >= V["q3_min_hidden"]) & (table["n_tokens"] >= V["q3_min_tokens"])
    return table["n_params"][keep], table["n_tokens"][keep], table["loss"][keep]


@lru_cache(maxsize=8)
def _fit(exponent, min_hidden=0, min_tokens=0, n_boot=0, seed=0):
    table = load_sweep(exponent)
    keep = (table["hidden_units"] >= min_hidden) & (table["n_tokens"] >= min_tokens)
    return fit_chinchilla(table["n_params"][keep], table["n_tokens"][keep], table["loss"][keep], n_boot=n_boot,
                          seed=seed, progress=False)


def q4_corr(V) -> float:
    """Question 4: the correlation of E and beta over the resamples that converged."""
    samples = _fit(V["q4_exponent"], n_boot=V["q4_n_boot"], seed=V["q4_seed"]).samples
    samples = samples[np.isfinite(samples).all(axis=1)]
    return float(np.corrcoef(samples[:, 0], samples[:, 4])[0, 1])


def q5_ratios(flops) -> dict:
    """Question 5: optimal tokens per parameter at ``flops`` of each cached sweep's full Approach-3 fit."""
    return {a: compute_optimal(flops, fit=_fit(a)).tokens_per_param for a in MINISERIES_EXPONENTS}


def q5_target(V) -> tuple:
    """(exponent, tokens per parameter) that question 5 asks for."""
    ratios = q5_ratios(V["q5_flops"])
    pick = max if V["q5_goal"] == "most" else min
    exponent = pick(ratios, key=ratios.get)
    return exponent, ratios[exponent]


# --- 07 Your own scaling law ----------------------------------------------------------------------

def _07_q1(V, entropy_rate):
    if not callable(entropy_rate):
        raise WrongAnswer("entropy_rate should be a function of one argument, a lexicon.")
    lexicon = zipf_lexicon(V["q1_exponent"], n_words=V["q1_n_words"], seed=V["q1_seed"])
    label = "entropy_rate of your lexicon"
    got = expect_number(label, entropy_rate(lexicon), "nats per character")
    target = lexicon.entropy_rate
    p = lexicon.probs
    word_entropy, mean_length = -(p * np.log(p)).sum(), (p * lexicon.lengths).sum()
    if math.isclose(got, target / math.log(2), rel_tol=1e-6):
        raise WrongAnswer(f"{label} looks like bits per character: use the natural log.")
    if math.isclose(got, word_entropy / mean_length, rel_tol=1e-6):
        raise WrongAnswer(f"{label} is too high: how many characters does a word take up in the text, counting "
                          "what follows it?")
    if math.isclose(got, word_entropy, rel_tol=1e-6):
        raise WrongAnswer(f"{label} is the entropy per word; the question asks per character.")
    expect_exact(label, got, target, "nats per character",
                 too_low="Weight the word lengths by the word probabilities, and sum over all the words.",
                 too_high="Weight the word lengths by the word probabilities, and sum over all the words.")


def _07_q2(V, count_params):
    if not callable(count_params):
        raise WrongAnswer("count_params should be a function of (hidden, context, embed, vocab).")
    for H, k, d, vocab in V["q2_models"]:
        name = f"count_params({H}, {k}, {d}, {vocab})"
        got = expect_number(name, count_params(H, k, d, vocab), "parameters")
        want = mlp_params(H, context=k, embed=d, vocab=vocab)
        if got == want + (k - 1) * vocab * d and k > 1:
            raise WrongAnswer(f"{name} is too high: the embedding table is shared by the context positions, so it "
                              "is stored once.")
        expect_close(name, got, want, "parameters", rel=0,     # a count: exact, never "rounded"
                     too_low="Count every layer: the embedding table, both weight matrices and both bias vectors.",
                     too_high="Check each layer's shape against its inputs and outputs; count the table once.")


def _07_q3(V, q3_fit, q3_error, q3_tokens_per_param):
    if not all(hasattr(q3_fit, s) for s in ("E", "alpha", "beta")):
        raise WrongAnswer("q3_fit should be the result of fit_chinchilla.")
    fit = _fit(V["q3_exponent"], V["q3_min_hidden"], V["q3_min_tokens"])
    full = _fit(V["q3_exponent"])
    if abs(q3_fit.alpha / full.alpha - 1) < 1e-6 and abs(q3_fit.beta / full.beta - 1) < 1e-6:
        raise WrongAnswer("q3_fit is the fit of the whole sweep: keep only the runs with at least "
                          "V['q3_min_hidden'] hidden units and V['q3_min_tokens'] tokens.")
    for name in ("alpha", "beta", "E"):
        expect_exact(f"q3_fit.{name}", getattr(q3_fit, name), getattr(fit, name), "", rel=1e-3,
                     too_low="Fit the cached sweep of your exponent, only your runs, with n_params, n_tokens and "
                             "the held-out loss.",
                     too_high="Fit the cached sweep of your exponent, only your runs, with n_params, n_tokens and "
                              "the held-out loss.")
    error = expect_number("q3_error", q3_error, "(a fraction)")
    target = fit.E / zipf_entropy(V["q3_exponent"]) - 1
    if math.isclose(error, 100 * target, rel_tol=1e-3):
        raise WrongAnswer("q3_error should be a fraction (0.05 for 5%), not a percentage.")
    if math.isclose(error, -target, rel_tol=1e-3):
        raise WrongAnswer("q3_error has the wrong sign: (fitted - exact) / exact.")
    expect_exact("q3_error", error, target, "(a fraction)", rel=1e-6,
                 too_low="Compare the fitted E with the exact entropy of the same exponent: (fitted - exact) / exact.",
                 too_high="Compare the fitted E with the exact entropy of the same exponent: (fitted - exact) / exact.")
    ratio = expect_number("q3_tokens_per_param", q3_tokens_per_param, "tokens per parameter")
    if any(math.isclose(ratio, compute_optimal(c, fit=fit).tokens_per_param, rel_tol=1e-6) for c in LESSON_FLOPS):
        raise WrongAnswer("q3_tokens_per_param is at one of the explorer's budgets; use yours, V['q3_flops'].")
    expect_exact("q3_tokens_per_param", ratio, compute_optimal(V["q3_flops"], fit=fit).tokens_per_param,
                 "tokens per parameter", rel=1e-6,
                 too_low="Use compute_optimal with your fit, at your budget V['q3_flops'].",
                 too_high="Use compute_optimal with your fit, at your budget V['q3_flops'].")


def _07_q4(V, q4_corr_value):
    corr = expect_number("q4_corr", q4_corr_value, "(a correlation between -1 and 1)")
    if not -1 <= corr <= 1:
        raise WrongAnswer("q4_corr should be a correlation coefficient, between -1 and 1.")
    expect_exact("q4_corr", corr, q4_corr(V), "", rel=1e-6,
                 too_low="Use the columns E and beta of fit.samples, from your number of resamples and your seed, "
                         "on your exponent's full sweep.",
                 too_high="Use the columns E and beta of fit.samples, from your number of resamples and your seed, "
                          "on your exponent's full sweep.")


def _07_q5(V, q5_prediction, q5_explorer):
    exponent, ratio = q5_target(V)
    x = expect_number("q5_prediction", q5_prediction, "tokens per parameter")
    ratios = q5_ratios(V["q5_flops"])
    other = [a for a, r in ratios.items() if a != exponent and math.isclose(x, r, rel_tol=1e-6)]
    if other:
        raise WrongAnswer(f"q5_prediction is the ratio of another language than the one that wants the "
                          f"{V['q5_goal']} tokens per parameter at your budget.")
    if any(math.isclose(x, compute_optimal(c, fit=_fit(exponent)).tokens_per_param, rel_tol=1e-6)
           for c in LESSON_FLOPS):
        raise WrongAnswer("q5_prediction is at one of the explorer's budgets; predict at yours, V['q5_flops'].")
    expect_exact("q5_prediction", x, ratio, "tokens per parameter", rel=1e-6,
                 too_low="Fit each cached sweep and compare compute_optimal at your budget.",
                 too_high="Fit each cached sweep and compare compute_optimal at your budget.")
    expect_explorer("q5_explorer", q5_explorer, "MiniseriesExplorer", "exponent")
    if not math.isclose(q5_explorer.result.exponent, exponent):
        raise WrongAnswer("The explorer shows another language than the one of your prediction: choose that one "
                          "and record it with q5_explorer.set(...).")


EXERCISE = "07_your_own_scaling_law"
QUESTIONS = {
    "q1": Question("q1", ("entropy_rate",), _07_q1,
                   "Spread the information of one word over the characters it takes up in the text "
                   "(lesson 07, section 1).", variant=True),
    "q2": Question("q2", ("count_params",), _07_q2,
                   "One embedding table, then the weights and the biases of two layers (lesson 07, section 2).",
                   variant=True),
    "q3": Question("q3", ("q3_fit", "q3_error", "q3_tokens_per_param"), _07_q3,
                   "load_sweep(a) gives the runs (select yours with its columns), fit_chinchilla fits them, "
                   "zipf_entropy(a) is the truth, compute_optimal(C, fit=...) the allocation.", variant=True),
    "q4": Question("q4", ("q4_corr",), _07_q4,
                   "fit_chinchilla(..., n_boot=..., seed=...) keeps its resamples in .samples, one row "
                   "(E, A, B, alpha, beta) each; np.corrcoef gives the correlation.", variant=True),
    "q5": Question("q5", ("q5_prediction", "q5_explorer"), _07_q5,
                   "Fit each of the three cached sweeps; compute_optimal(C, fit=...) at your budget, and compare.",
                   variant=True),
}
