"""Public tests of exercise 07 (your own scaling law): solutions/07_your_own_scaling_law.ipynb."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ...chinchilla import compute_optimal
from ...fitting import fit_chinchilla
from ..checks import NotAnswered, Question, WrongAnswer, expect_choice, expect_close, expect_number
from ...mlp_lm import mlp_params
from ...sweep import load_sweep
from ...zipf import zipf_entropy, zipf_lexicon

Q3_EXPONENT, Q3_FLOPS = 1.3, 1e11        # question 3: the cached sweep and the budget
Q4_EXPONENT, Q4_BOOT, Q4_SEED = 1.5, 200, 0
Q5_FLOPS = 1e12


@lru_cache(maxsize=4)
def _fit(exponent, n_boot=0, seed=0):
    table = load_sweep(exponent)
    return fit_chinchilla(table["n_params"], table["n_tokens"], table["loss"], n_boot=n_boot, seed=seed,
                          progress=False)


# --- 07 Your own scaling law ----------------------------------------------------------------------

def _07_q1(entropy_rate):
    if not callable(entropy_rate):
        raise WrongAnswer("entropy_rate should be a function of one argument, a lexicon.")
    lexicon = zipf_lexicon(2.0)
    got = expect_number("entropy_rate(zipf_lexicon(2.0))", entropy_rate(lexicon), "nats per character")
    target = zipf_entropy(2.0)
    p = lexicon.probs
    word_entropy, mean_length = -(p * np.log(p)).sum(), (p * lexicon.lengths).sum()
    if math.isclose(got, target / math.log(2), rel_tol=1e-3):
        raise WrongAnswer("entropy_rate(zipf_lexicon(2.0)) looks like bits per character: use the natural log.")
    if math.isclose(got, word_entropy / mean_length, rel_tol=1e-3):
        raise WrongAnswer("entropy_rate(zipf_lexicon(2.0)) is too high: how many characters does a word take "
                          "up in the text, counting what follows it?")
    if math.isclose(got, word_entropy, rel_tol=1e-3):
        raise WrongAnswer("entropy_rate(zipf_lexicon(2.0)) is the entropy per word; the question asks per character.")
    expect_close("entropy_rate(zipf_lexicon(2.0))", got, target, "nats per character", rel=1e-6,
                 too_low="Weight the word lengths by the word probabilities, and take -sum p ln p over all words.",
                 too_high="Weight the word lengths by the word probabilities, and take -sum p ln p over all words.")


def _07_q2(count_params):
    if not callable(count_params):
        raise WrongAnswer("count_params should be a function of (hidden, context, embed, vocab).")
    for H in (16, 100, 512):
        name = f"count_params({H}, 8, 16, 27)"
        got = expect_number(name, count_params(H, 8, 16, 27), "parameters")
        expect_close(name, got, mlp_params(H), "parameters", rel=0,
                     too_low="Count every layer: the embedding table, both weight matrices and both bias vectors.",
                     too_high="The embedding table is shared by the context positions: it is stored once.")


def _07_q3(q3_fit, q3_error, q3_tokens_per_param):
    if not all(hasattr(q3_fit, s) for s in ("E", "alpha", "beta")):
        raise WrongAnswer("q3_fit should be the result of fit_chinchilla.")
    fit = _fit(Q3_EXPONENT)
    expect_close("q3_fit.E", q3_fit.E, fit.E, "nats per character", rel=1e-3,
                 too_low="Fit the cached sweep of the exponent the question names, with n_params, n_tokens and "
                         "the held-out loss.",
                 too_high="Fit the cached sweep of the exponent the question names, with n_params, n_tokens and "
                          "the held-out loss (not the training loss).")
    error = expect_number("q3_error", q3_error, "(a fraction)")
    target = fit.E / zipf_entropy(Q3_EXPONENT) - 1
    if math.isclose(error, 100 * target, rel_tol=1e-2):
        raise WrongAnswer("q3_error should be a fraction (0.05 for 5%), not a percentage.")
    if math.isclose(error, -target, rel_tol=1e-2):
        raise WrongAnswer("q3_error has the wrong sign: (fitted - exact) / exact.")
    expect_close("q3_error", error, target, "(a fraction)", rel=0.01,
                 too_low="Compare the fitted E with the exact entropy of the same exponent: (fitted - exact) / exact.",
                 too_high="Compare the fitted E with the exact entropy of the same exponent: (fitted - exact) / exact.")
    expect_close("q3_tokens_per_param", q3_tokens_per_param, compute_optimal(Q3_FLOPS, fit=fit).tokens_per_param,
                 "tokens per parameter", rel=0.01,
                 too_low="Use compute_optimal with your fit, at the budget the question names.",
                 too_high="Use compute_optimal with your fit, at the budget the question names.")


def _07_q4(q4_corr, q4_choice):
    corr = expect_number("q4_corr", q4_corr, "(a correlation between -1 and 1)")
    if not -1 <= corr <= 1:
        raise WrongAnswer("q4_corr should be a correlation coefficient, between -1 and 1.")
    samples = _fit(Q4_EXPONENT, Q4_BOOT, Q4_SEED).samples
    target = float(np.corrcoef(samples[:, 0], samples[:, 4])[0, 1])
    expect_close("q4_corr", corr, target, "", rel=0.02,
                 too_low="Use the columns E (0) and beta (4) of fit.samples, from 200 resamples with seed 0.",
                 too_high="Use the columns E (0) and beta (4) of fit.samples, from 200 resamples with seed 0.")
    expect_choice("q4_choice", q4_choice, ["a", "b", "c", "d"])


def _07_q5(q5_explorer, q5_tokens_per_param):
    if not hasattr(q5_explorer, "result") or not hasattr(q5_explorer.result, "tokens_per_param"):
        raise WrongAnswer("q5_explorer should be the MiniseriesExplorer created in the cell above.")
    if q5_explorer.untouched:
        raise NotAnswered("choose an exponent in the explorer, then record it with q5_explorer.set(...).")
    v = q5_explorer.result
    best = max((compute_optimal(Q5_FLOPS, fit=_fit(a)).tokens_per_param, a) for a in (1.3, 1.5, 2.0))[1]
    if not math.isclose(v.exponent, best):
        raise WrongAnswer("Another exponent's fit wants more training tokens per parameter at 1e12 FLOPs.")
    expect_close("q5_tokens_per_param", q5_tokens_per_param, v.tokens_per_param(Q5_FLOPS), "tokens per parameter",
                 rel=0.01,
                 too_low="Read the optimal tokens per parameter at 1e12 FLOPs (the second number of that row).",
                 too_high="Read the optimal tokens per parameter at 1e12 FLOPs (the second number of that row).")


EXERCISE = "07_your_own_scaling_law"
QUESTIONS = {
    "q1": Question("q1", ("entropy_rate",), _07_q1,
                   "E = H(W) / (mean word length + 1), H(W) = -sum_i p_i ln p_i (lesson 07, section 1)."),
    "q2": Question("q2", ("count_params",), _07_q2,
                   "N = V d + (k d + 1) H + (H + 1) V: one table, then weights and biases of two layers "
                   "(lesson 07, section 2)."),
    "q3": Question("q3", ("q3_fit", "q3_error", "q3_tokens_per_param"), _07_q3,
                   "load_sweep(a) gives the runs, fit_chinchilla fits them, zipf_entropy(a) is the truth, "
                   "compute_optimal(C, fit=...) the allocation (lesson 07, sections 4 and 6)."),
    "q4": Question("q4", ("q4_corr", "q4_choice"), _07_q4,
                   "fit_chinchilla(..., n_boot=200, seed=0) keeps its resamples in .samples, one row "
                   "(E, A, B, alpha, beta) each; np.corrcoef gives the correlation (lesson 07, section 6).", graded_only=True),
    "q5": Question("q5", ("q5_explorer", "q5_tokens_per_param"), _07_q5,
                   "The explorer's table shows the optimal tokens per parameter at 1e11 and 1e12 FLOPs for the "
                   "exponent chosen; try all three."),
}
