"""From loss to abilities: the formulas of lesson 09.

A language model's loss falls smoothly with scale; the scores people care about
are other functions of the same predictions. This module collects those
functions, each with its source:

* exact match of an L-token answer, p^L (Schaeffer, Miranda & Koyejo 2023,
  arXiv 2304.15004, section 2), against per-token accuracy p;
* pass@k with independent samples, 1 - (1 - p)^k, and the unbiased estimator
  of pass@k from n samples with c correct (Chen et al. 2021, arXiv 2107.03374,
  section 2.1);
* best-of-N with an imperfect verifier (the model is defined in
  :func:`best_of_n_accuracy`), its ceiling, and the KL divergence of best-of-N
  from the sampling policy, log N - (N - 1)/N (Stiennon et al. 2020, arXiv
  2009.01325, Table 10; Gao, Schulman & Hilton 2022, arXiv 2210.10760);
* the functional forms of reward-model over-optimisation (Gao et al. 2022);
* the Llama 3 two-step forecast: training compute to the negative
  log-likelihood of the right answers, then that NLL to accuracy through a
  sigmoid (Dubey et al. 2024, arXiv 2407.21783, section 3.2.1).

Probabilities and accuracies are fractions in [0, 1]; log-likelihoods are in nats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._checks import ScalingLabError, as_count, as_number, as_positive, scalar_or_array

#: Most samples or tokens a formula accepts: beyond this no run is realistic, and loops stay bounded.
MAX_SAMPLES = 10 ** 7


def _probability(name: str, value, what: str = "a probability"):
    """``value`` as a float or array in [0, 1]."""
    p = as_positive(name, value, "", allow_zero=True)
    if np.any(np.asarray(p) > 1):
        hint = " (give a fraction, not a percentage)" if np.all(np.asarray(p) <= 100) else ""
        raise ScalingLabError(f"{name} must be {what} in [0, 1]; got {value!r}{hint}")
    return p


def exact_match(per_token_accuracy, length):
    """Probability that all ``length`` tokens of an answer are right: p^L.

    If each token is right with probability p, independently, an L-token
    answer is exactly right with probability p^L -- the "nonlinear metric"
    of Schaeffer, Miranda & Koyejo 2023 (arXiv 2304.15004, section 2), under
    which a smooth rise of p looks like a sudden ability. Per-token accuracy
    and the result are fractions; length is in tokens.

    >>> round(exact_match(0.9, 10), 4), round(exact_match(0.99, 10), 4)
    (0.3487, 0.9044)
    """
    p = _probability("per_token_accuracy", per_token_accuracy, "a per-token accuracy")
    L = as_count("length", length, "tokens", maximum=MAX_SAMPLES)
    return scalar_or_array(np.power(p, L))


def per_token_accuracy_needed(exact_match_target, length):
    """Per-token accuracy p at which an L-token answer is exactly right with probability q: p = q^(1/L).

    The inverse of :func:`exact_match`. Fractions in, fraction out; length in tokens.

    >>> round(per_token_accuracy_needed(0.5, 10), 4)      # half of 10-token answers right
    0.933
    """
    q = _probability("exact_match_target", exact_match_target, "an exact-match rate")
    L = as_count("length", length, "tokens", maximum=MAX_SAMPLES)
    return scalar_or_array(np.power(q, 1.0 / L))


def pass_at_k(success_probability, k):
    """Probability that at least one of k independent samples is right: 1 - (1 - p)^k.

    p is the probability that one sample solves the problem (a fraction), k
    the number of samples. Averaged over problems of different difficulty,
    pass@k is the mean of 1 - (1 - p_i)^k, which is *not* 1 - (1 - mean p)^k:
    Chen et al. 2021 (arXiv 2107.03374, abstract) report that Codex-12B
    solves 28.8% of HumanEval with one sample and 70.2% with 100 (their
    Table 1: 28.81% and 72.31%), far below what 28.8% on every problem would
    give. The two are sampled at different temperatures (0.2 and 0.8, their
    section 3.3), but any uniform one-sample rate above a few percent would
    still give pass@100 near 1:

    >>> round(pass_at_k(0.288, 1), 3), round(pass_at_k(0.288, 100), 6)
    (0.288, 1.0)
    """
    p = _probability("success_probability", success_probability)
    k = as_count("k", k, "samples", maximum=MAX_SAMPLES)
    return scalar_or_array(1.0 - np.power(1.0 - p, k))


def pass_at_k_unbiased(n_samples, n_correct, k):
    """Unbiased estimate of pass@k from n samples of which c are correct: 1 - C(n-c, k) / C(n, k).

    Chen et al. 2021 (arXiv 2107.03374, section 2.1, eq. 1 and Figure 3):
    draw n >= k samples, count the c correct ones, and average over problems
    the probability that a random k-subset of the n contains a correct one.
    Computed as 1 - prod_{i=n-c+1}^{n} (1 - k/i), which never forms the huge
    binomial coefficients. (The plug-in 1 - (1 - c/n)^k is biased low;
    Chen et al., Appendix A.)
    Counts in, fraction out. For k = 1 it is c/n:

    >>> round(pass_at_k_unbiased(200, 57, 1), 12), round(pass_at_k_unbiased(200, 57, 10), 4)
    (0.285, 0.9682)
    >>> pass_at_k_unbiased(10, 8, 3)        # only 2 wrong: any 3 contain a right one
    1.0
    """
    n = as_count("n_samples", n_samples, "samples", maximum=MAX_SAMPLES)
    c = as_count("n_correct", n_correct, "correct samples", minimum=0, maximum=MAX_SAMPLES)
    k = as_count("k", k, "samples", maximum=MAX_SAMPLES)
    if c > n:
        raise ScalingLabError(f"n_correct must be at most n_samples ({n}); got {c}")
    if k > n:
        raise ScalingLabError(f"k must be at most n_samples ({n}): pass@k needs n >= k samples; got k = {k}")
    if n - c < k:
        return 1.0
    i = np.arange(n - c + 1, n + 1, dtype=float)
    return float(1.0 - np.prod(1.0 - k / i))


def best_of_n_accuracy(success_probability, n, tpr=1.0, fpr=0.0):
    """Accuracy of best-of-N with an imperfect verifier.

    The model: N independent samples, each right with probability p. A
    verifier looks at each sample and accepts a right one with probability
    ``tpr`` (true-positive rate) and a wrong one with probability ``fpr``
    (false-positive rate), independently. We return a uniformly random
    accepted sample; if none is accepted, a random sample (all were rejected).
    With a = p tpr (right and accepted), b = (1 - p) fpr (wrong and
    accepted) and r = 1 - a - b (rejected):

        accuracy = a/(a + b) (1 - r^N) + p (1 - tpr) r^(N-1).

    The first term: at least one sample is accepted, and an accepted sample
    is right with probability a/(a+b) whatever the count. The second: all N
    rejected, and the returned one is right with probability p(1 - tpr)/r.
    N = 1 gives p; a perfect verifier (tpr 1, fpr 0) gives pass@N; as N
    grows the accuracy tends to the verifier's precision a/(a+b), a ceiling
    no number of samples can pass (:func:`best_of_n_ceiling`). Fractions in
    and out; N in samples.

    >>> best_of_n_accuracy(0.288, 1, tpr=0.9, fpr=0.1)      # one sample: the verifier changes nothing
    0.288
    >>> round(best_of_n_accuracy(0.288, 100), 6) == round(pass_at_k(0.288, 100), 6)
    True
    >>> round(best_of_n_accuracy(0.3, 100, tpr=0.95, fpr=0.05), 4)
    0.8906
    """
    p = _probability("success_probability", success_probability)
    N = as_count("n", n, "samples", maximum=MAX_SAMPLES)
    t = _probability("tpr", tpr, "a true-positive rate")
    f = _probability("fpr", fpr, "a false-positive rate")
    a = p * t                               # right and accepted, per sample
    b = (1.0 - p) * f                       # wrong and accepted
    r = 1.0 - a - b                         # rejected
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(a + b > 0, a / np.where(a + b > 0, a + b, 1.0), 0.0)
    accuracy = precision * (1.0 - np.power(r, N)) + p * (1.0 - t) * np.power(r, N - 1)
    return scalar_or_array(np.clip(accuracy, 0.0, 1.0))


def best_of_n_ceiling(success_probability, tpr=1.0, fpr=0.0):
    """Accuracy of best-of-N as N grows without bound: the verifier's precision p tpr / (p tpr + (1-p) fpr).

    See :func:`best_of_n_accuracy`. With any false positives, more samples
    cannot push accuracy past this (Stroebl, Kapoor & Narayanan 2024, arXiv
    2411.17501, make the same point for code with imperfect unit tests).
    0 when p is 0. When the verifier accepts nothing (p tpr + (1-p) fpr = 0:
    tpr = 0 and fpr = 0, or tpr = 0 and p = 1) every sample is rejected and a
    random one is returned, so accuracy stays p for every N, and so does the limit.

    >>> best_of_n_ceiling(0.3, tpr=0.0, fpr=0.0)
    0.3

    >>> round(best_of_n_ceiling(0.3, tpr=0.95, fpr=0.05), 4)
    0.8906
    """
    p = _probability("success_probability", success_probability)
    t = _probability("tpr", tpr, "a true-positive rate")
    f = _probability("fpr", fpr, "a false-positive rate")
    a, b = p * t, (1.0 - p) * f
    with np.errstate(invalid="ignore", divide="ignore"):
        return scalar_or_array(np.where(a + b > 0, a / np.where(a + b > 0, a + b, 1.0), p))


def best_of_n_kl(n):
    """KL divergence of best-of-N from the policy it samples, in nats: log N - (N - 1)/N.

    The analytic value used by Stiennon et al. 2020 (arXiv 2009.01325, Table
    10 and Appendix G.3) and Gao, Schulman & Hilton 2022 (arXiv 2210.10760,
    section 2, citing Stiennon's Appendix G.3). Beirami et al. 2024 (arXiv
    2401.01879) show it is an upper bound on the true KL, tight when the N
    samples are practically never repeated (every output improbable).
    Stiennon et al.'s Table 10 lists 1.2, 3.2, 3.9, 4.5 and 5.2 nats for
    N = 8, 64, 128, 256 and 512:

    >>> [round(best_of_n_kl(n), 1) for n in (8, 64, 128, 256, 512)]
    [1.2, 3.2, 3.9, 4.5, 5.2]
    """
    N = as_count("n", n, "samples", maximum=MAX_SAMPLES)
    return math.log(N) - (N - 1) / N


def overoptimization_gold_reward(kl, alpha, beta, method="bon"):
    """Gold reward against the KL divergence spent optimising a proxy reward model (Gao et al. 2022).

    With d = sqrt(KL) (KL in nats) and the reward measured from the initial
    policy's (so R(0) = 0), Gao, Schulman & Hilton 2022 (arXiv 2210.10760,
    the two boxed forms of section 1, fitted and validated in section 3) fit

        best-of-N:  R(d) = d (alpha - beta d)
        RL:         R(d) = d (alpha - beta log d)

    The proxy reward keeps rising while the gold reward peaks -- at
    d = alpha / (2 beta) for best-of-N and d = exp(alpha/beta - 1) for RL --
    and then falls: Goodhart's law with a functional form. alpha and beta
    are fitted per reward-model size (their coefficients change smoothly with
    it); the numbers below are illustrative, not theirs.

    >>> overoptimization_gold_reward(4.0, 1.0, 0.25)        # d = 2, the best-of-N peak
    1.0
    """
    KL = as_positive("kl", kl, "nats", allow_zero=True)
    a = as_number("alpha", alpha, "a finite coefficient alpha (reward per unit of sqrt(KL))")
    b = as_number("beta", beta, "a finite coefficient beta")
    if not isinstance(method, str) or method not in ("bon", "rl"):
        raise ScalingLabError(f"method must be 'bon' (best-of-N) or 'rl'; got {method!r}")
    d = np.sqrt(KL)
    if method == "bon":
        return scalar_or_array(d * (a - b * d))
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.where(d > 0, d * (a - b * np.log(np.where(d > 0, d, 1.0))), 0.0)
    return scalar_or_array(R)


# --- the Llama 3 two-step forecast ----------------------------------------------------------------

def sigmoid_accuracy(task_nll, midpoint, slope, chance=0.0):
    """Accuracy from the normalised NLL of the right answers through a falling sigmoid (Llama 3, step 2).

    accuracy = chance + (1 - chance) / (1 + exp(slope (nll - midpoint))),

    nll in nats per character of the answer, ``midpoint`` where accuracy is
    half-way between chance and 1, ``slope`` in 1/nats (> 0: lower NLL, higher
    accuracy). Dubey et al. 2024 (arXiv 2407.21783, section 3.2.1, Figure 4)
    describe a "sigmoidal relation" between the two; they do not print its
    formula, so this parametrisation is the course's.

    >>> sigmoid_accuracy(1.0, 1.0, 5.0, chance=0.25)
    0.625
    """
    x = as_positive("task_nll", task_nll, "nats per character", allow_zero=True)
    m = as_number("midpoint", midpoint, "a finite NLL in nats per character")
    s = as_number("slope", slope, "a positive slope in 1/nats", lambda v: v > 0)
    c = _probability("chance", chance, "a chance accuracy")
    z = np.clip(s * (x - m), -700, 700)
    return scalar_or_array(c + (1.0 - c) / (1.0 + np.exp(z)))


@dataclass(frozen=True)
class TwoStepFit:
    """Llama 3's two-step forecast: ln nll(C) = intercept + slope_per_decade log10 C, then a sigmoid to accuracy.

    Step 1 is a straight line of the task NLL against log10 of training
    compute on log-log axes (a power law, NLL ∝ C^(slope/ln 10)); step 2 is
    :func:`sigmoid_accuracy`. ``predict(flops)`` chains them.
    """

    intercept: float           # ln(nats per character) at C = 1 FLOP (an extrapolation, no meaning of its own)
    slope_per_decade: float    # change of ln NLL per tenfold compute
    midpoint: float            # nats per character
    slope: float               # 1/nats
    chance: float

    def task_nll(self, flops):
        """Forecast task NLL at ``flops`` of training compute, nats per answer character."""
        C = as_positive("flops", flops, "FLOPs")
        return scalar_or_array(np.exp(self.intercept + self.slope_per_decade * np.log10(C)))

    def accuracy(self, task_nll):
        return sigmoid_accuracy(task_nll, self.midpoint, self.slope, self.chance)

    def predict(self, flops):
        """Accuracy forecast at ``flops`` of training compute."""
        return self.accuracy(self.task_nll(flops))

    def __repr__(self):
        return (f"TwoStepFit(ln nll = {self.intercept:.3f} {self.slope_per_decade:+.3f}·log10 C; accuracy = "
                f"{self.chance:g} + (1 - {self.chance:g}) σ(-{self.slope:.2f} (nll - {self.midpoint:.3f})))")


def fit_two_step(flops, task_nll, accuracy, *, chance=0.0, step1=None):
    """Fit a two-step forecast of accuracy from compute, after Llama 3 (Dubey et al. 2024, arXiv 2407.21783, section 3.2.1).

    Step 1 fits the task NLL (nats per character of the right answers)
    against log10 ``flops`` on the runs selected by ``step1`` (a boolean mask;
    default all) -- Llama 3 used only its scaling-law runs up to 1e22 FLOPs
    here. Llama 3 correlates the two linearly, over a range where the NLL
    changes by about a tenth; the laptop models' NLL changes twentyfold and
    heads for a floor near 0, so this fit draws the line on log-log axes (a
    power law; over a narrow range the two agree). Step 2 fits
    :func:`sigmoid_accuracy` to (task_nll, accuracy) on *all* runs given --
    Llama 3 added its Llama 2 models, which reach higher accuracy. Least
    squares both times.
    """
    from scipy.optimize import curve_fit

    C = np.atleast_1d(as_positive("flops", flops, "FLOPs"))
    x = np.atleast_1d(as_positive("task_nll", task_nll, "nats per character"))
    y = np.atleast_1d(_probability("accuracy", accuracy, "an accuracy"))
    c = float(_probability("chance", chance, "a chance accuracy"))
    if not (C.shape == x.shape == y.shape) or C.ndim != 1:
        raise ScalingLabError(f"flops, task_nll and accuracy must be 1-d arrays of one length; got shapes "
                              f"{C.shape}, {x.shape} and {y.shape}")
    mask = np.ones(C.size, bool) if step1 is None else np.asarray(step1, dtype=bool)
    if mask.shape != C.shape or mask.sum() < 2 or C.size < 3 or np.ptp(np.log10(C[mask])) == 0:
        raise ScalingLabError("fit_two_step needs at least 2 runs of different compute for step 1 and 3 runs "
                              "for step 2")
    slope_c, intercept = np.polyfit(np.log10(C[mask]), np.log(x[mask]), 1)

    def model(nll, m, s):
        return c + (1 - c) / (1 + np.exp(np.clip(s * (nll - m), -700, 700)))

    try:
        (m, s), _ = curve_fit(model, x, y, p0=(float(np.median(x)), 5.0 / max(np.ptp(x), 1e-6)), maxfev=20000)
    except RuntimeError:
        raise ScalingLabError("the sigmoid of step 2 did not converge: give runs on both sides of the rise")
    if not (np.isfinite(m) and np.isfinite(s)) or s <= 0:
        raise ScalingLabError("the sigmoid of step 2 came out flat or rising with NLL: give runs on both sides "
                              "of the rise")
    return TwoStepFit(float(intercept), float(slope_c), float(m), float(s), c)
