"""Beyond compute-optimal: inference cost, repeated data, hyperparameter fits and real training recipes.

- Inference-aware scaling: Sardana, Portes, Doubov & Frankle 2024, "Beyond Chinchilla-Optimal: Accounting for
  Inference in Language Model Scaling Laws" (arXiv 2401.00448). Lifetime cost = 6 N D (training) + 2 N D_inf
  (serving D_inf tokens), minimised at a fixed target loss of a Chinchilla law.
- Data-constrained scaling: Muennighoff et al. 2023, "Scaling Data-Constrained Language Models"
  (arXiv 2305.16264), effective data D' and effective parameters N'.
- Hyperparameter fits: DeepSeek-AI 2024, "DeepSeek LLM" (arXiv 2401.02954), section 3.1.
- Tokens per parameter of published recipes: ``scalinglab/data/recipes.csv``.

Losses are in nats per token; N counts parameters, D tokens, C FLOPs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from ._checks import ScalingLabError, as_number, as_positive, scalar_or_array, unknown_name
from ._tables import number, read_table
from .chinchilla import CHINCHILLA_FITS, ChinchillaFit
from .units import format_quantity

#: The Chinchilla law Sardana et al. 2024 use (arXiv 2401.00448, section 2 and Appendix A): Hoffmann et al.'s
#: Approach-3 constants E, A, B, with alpha = 0.336 and beta = 0.283 in place of Hoffmann et al.'s printed, rounded
#: 0.34 and 0.28 (following de Vries). With them the paper's Figure 1 example comes out as printed (1.7e22 FLOPs,
#: 17%); with 0.34 and 0.28 it would save only about 9%.
SARDANA_FIT = replace(
    CHINCHILLA_FITS["hoffmann2022"], alpha=0.336, beta=0.283, name="sardana2024",
    source="Sardana et al. 2024, arXiv 2401.00448, section 2 (Hoffmann et al.'s Approach 3)",
)
_FITS = {**CHINCHILLA_FITS, SARDANA_FIT.name: SARDANA_FIT}

#: Muennighoff et al. 2023's decay constants (arXiv 2305.16264, section 3.1; unrounded values from their
#: repository huggingface/datablations, "Parametric Fit"): repeated tokens lose value with R*_D = 15.4
#: repetitions, excess parameters with R*_N = 5.3.
R_STAR_TOKENS = 15.387756
R_STAR_PARAMS = 5.309743


#: Upper bound on the tokens a model serves in ``inference_optimal``: 1e30 is a million times all text ever written.
MAX_INFERENCE_TOKENS = 1e30


def _law(fit) -> ChinchillaFit:
    if isinstance(fit, ChinchillaFit):
        return fit
    if isinstance(fit, str) and fit.strip().lower() in _FITS:
        return _FITS[fit.strip().lower()]
    raise unknown_name("fit", fit, "Chinchilla fit", _FITS)


def _target_loss(loss) -> float:
    return as_number("loss", loss, "a target loss in nats per token, a finite number such as 2.0")


# --- inference-aware scaling ------------------------------------------------------------------------

def tokens_for_loss(n_params, loss, fit="sardana2024"):
    """Training tokens D a model of ``n_params`` parameters needs to reach ``loss`` under L = E + A/N^α + B/D^β.

    Closed form: D = (B / (L - E - A/N^α))^(1/β). ``loss`` in nats per token; returns tokens.
    Raises if the model is too small ever to reach ``loss`` (L - E - A/N^α <= 0).
    Source: the inverse of Hoffmann et al. 2022's eq. 2 (arXiv 2203.15556), as used by Sardana et al. 2024.

    The 7B model of Sardana et al.'s Figure 1, matched to a Chinchilla-optimal 13B:

    >>> round(tokens_for_loss(7e9, 2.0453) / 7e9)
    177
    """
    f = _law(fit)
    N = as_positive("n_params", n_params, "parameters", scalar=True)
    L = _target_loss(loss)
    room = L - f.E - f.A / N ** f.alpha            # what the data term may still cost, nats/token
    if room <= 0:
        n_min = (f.A / (L - f.E)) ** (1 / f.alpha) if L > f.E else math.inf
        need = f"at least {format_quantity(n_min)} parameters" if math.isfinite(n_min) else "a loss above E"
        raise ScalingLabError(f"a model of {format_quantity(N)} parameters cannot reach loss = {L:g} nats/token "
                              f"under the {f.name} law (E = {f.E:g}) with any amount of data: expected {need}")
    with np.errstate(over="ignore"):
        D = (f.B / room) ** (1 / f.beta)            # tokens
    return scalar_or_array(D, "the tokens needed", n_params=N, loss=L)


def chinchilla_optimal_tokens(n_params, fit="sardana2024"):
    """Training tokens that make ``n_params`` compute-optimal: α A/N^α = β B/D^β, so D = (β B N^α / (α A))^(1/β).

    The same allocation as Hoffmann et al. 2022's eq. 4 (arXiv 2203.15556), solved for D given N.
    ``n_params`` in parameters; returns tokens. Sardana et al. (2024)'s Chinchilla-optimal 13B model:

    >>> round(chinchilla_optimal_tokens(13e9) / 13e9, 1)
    44.3
    """
    f = _law(fit)
    N = as_positive("n_params", n_params, "parameters")
    with np.errstate(over="ignore"):
        D = (f.beta * f.B * np.power(N, f.alpha) / (f.alpha * f.A)) ** (1 / f.beta)   # tokens
    return scalar_or_array(D, "chinchilla_optimal_tokens", n_params=N)


def lifetime_flops(n_params, n_tokens, inference_tokens):
    """Training plus inference compute: 6 N D + 2 N D_inf, in FLOPs.

    ``n_tokens`` D are training tokens, ``inference_tokens`` D_inf the tokens the model processes in service
    (prompts and generations). Source: Sardana et al. 2024, arXiv 2401.00448, section 2 (2N FLOPs per
    token of inference, Kaplan et al. 2020's forward-pass count).

    >>> f"{lifetime_flops(13e9, 576.5e9, 2e12):.3g}"
    '9.7e+22'
    """
    N = as_positive("n_params", n_params, "parameters")
    D = as_positive("n_tokens", n_tokens, "tokens")
    D_inf = as_positive("inference_tokens", inference_tokens, "tokens", allow_zero=True)
    with np.errstate(over="ignore"):
        C = 6.0 * N * D + 2.0 * N * D_inf         # FLOPs
    return scalar_or_array(C, "lifetime_flops", n_params=N, n_tokens=D, inference_tokens=D_inf)


@dataclass(frozen=True)
class InferenceOptimum:
    """The model of least lifetime compute that reaches a loss, and the Chinchilla-optimal model of equal loss."""

    loss: float                     # target loss, nats/token
    inference_tokens: float         # D_inf, tokens served
    n_params: float                 # N, parameters
    n_tokens: float                 # D, training tokens
    chinchilla_n_params: float      # the Chinchilla-optimal model of the same loss
    chinchilla_n_tokens: float
    fit: str = field(default="sardana2024", repr=False)

    @property
    def tokens_per_param(self) -> float:
        return self.n_tokens / self.n_params

    @property
    def chinchilla_tokens_per_param(self) -> float:
        return self.chinchilla_n_tokens / self.chinchilla_n_params

    @property
    def training_flops(self) -> float:
        return 6.0 * self.n_params * self.n_tokens

    @property
    def inference_flops(self) -> float:
        return 2.0 * self.n_params * self.inference_tokens

    @property
    def total_flops(self) -> float:
        return self.training_flops + self.inference_flops

    @property
    def chinchilla_total_flops(self) -> float:
        """Lifetime compute of the Chinchilla-optimal model serving the same tokens, FLOPs."""
        return 6.0 * self.chinchilla_n_params * self.chinchilla_n_tokens + \
            2.0 * self.chinchilla_n_params * self.inference_tokens

    @property
    def savings(self) -> float:
        """Fraction of the Chinchilla-optimal model's lifetime compute saved (0 to 1)."""
        return 1.0 - self.total_flops / self.chinchilla_total_flops

    def __repr__(self):
        return (f"InferenceOptimum(loss={self.loss:g}, inference_tokens={self.inference_tokens:.3g}: "
                f"N={format_quantity(self.n_params)}, D={format_quantity(self.n_tokens)} "
                f"({self.tokens_per_param:,.0f} tokens/param), total {self.total_flops:.3g} FLOPs; "
                f"Chinchilla-optimal N={format_quantity(self.chinchilla_n_params)}, saves {100 * self.savings:.1f}%)")


def inference_optimal(loss, inference_tokens, fit="sardana2024") -> InferenceOptimum:
    """Model size and training tokens that reach ``loss`` with the least lifetime compute 6ND + 2N·D_inf.

    Along the curve L(N, D) = loss, D is a function of N (:func:`tokens_for_loss`). Setting the derivative of
    6 N D(N) + 2 N D_inf with respect to ln N to zero gives the optimality condition

        α A/N^α = β B/D^β · (1 + D_inf / (3 D)),

    which at D_inf = 0 is Chinchilla's α A/N^α = β B/D^β. The left side falls and the right side rises with N,
    so the root is unique; it is found by bisection in ln N. ``loss`` in nats per token, ``inference_tokens``
    in tokens; returns an :class:`InferenceOptimum` (parameters, tokens, FLOPs).
    Source: Sardana et al. 2024, arXiv 2401.00448, section 2 (who solve it numerically with Newton's method).

    More inference moves the optimum to smaller models trained longer:

    >>> a = inference_optimal(2.0453, 0)
    >>> round(a.n_params / 1e9, 1), round(a.tokens_per_param, 1)
    (13.0, 44.3)
    >>> b = inference_optimal(2.0453, 2e12)
    >>> b.n_params < a.n_params and b.tokens_per_param > a.tokens_per_param
    True
    """
    f = _law(fit)
    L = _target_loss(loss)
    D_inf = as_positive("inference_tokens", inference_tokens, "tokens", allow_zero=True, scalar=True)
    if D_inf > MAX_INFERENCE_TOKENS:
        raise ScalingLabError(f"inference_tokens must be at most {MAX_INFERENCE_TOKENS:g} tokens (more than any model "
                              f"could serve); got {D_inf:g}")
    if L <= f.E:
        raise ScalingLabError(f"loss must be above the irreducible loss E = {f.E:g} nats/token of the {f.name} "
                              f"law; got {L:g}")
    ell = L - f.E                                    # reducible loss to share between the two terms
    if not 1e-6 <= ell <= 50:
        raise ScalingLabError(f"loss = {L:g} nats/token is outside what the {f.name} law describes: expected a "
                              f"loss between {f.E + 1e-6:g} and {f.E + 50:g}")
    ln_n_min = math.log(f.A / ell) / f.alpha         # below this N the loss is out of reach

    def gap(ln_n, d_inf):
        x = f.A * math.exp(-f.alpha * ln_n)         # model term A/N^alpha
        y = ell - x                                  # data term B/D^beta
        if y <= 0:
            return f.alpha * ell
        ln_d = (math.log(f.B) - math.log(y)) / f.beta
        ratio = d_inf * math.exp(-ln_d) / 3.0 if d_inf else 0.0
        return f.alpha * x - f.beta * y * (1.0 + ratio)

    def solve(d_inf):
        lo, hi = ln_n_min + 1e-12, ln_n_min + 60.0
        if gap(lo, d_inf) <= 0:
            return math.exp(lo)
        return math.exp(brentq(gap, lo, hi, args=(d_inf,), xtol=1e-12, rtol=1e-13, maxiter=500))

    def tokens(N):
        y = ell - f.A / N ** f.alpha
        return (f.B / y) ** (1 / f.beta)

    N_opt, N_chin = solve(D_inf), solve(0.0)
    D_opt, D_chin = tokens(N_opt), tokens(N_chin)
    if not all(math.isfinite(v) and v > 0 for v in (N_opt, D_opt, N_chin, D_chin)):
        raise ScalingLabError(f"no finite optimum for loss = {L:g} and inference_tokens = {D_inf:g}: expected "
                              "a loss a real model can reach")
    return InferenceOptimum(L, D_inf, N_opt, D_opt, N_chin, D_chin, fit=f.name)


# --- data-constrained scaling -------------------------------------------------------------------------

def effective_tokens(unique_tokens, epochs, r_star=R_STAR_TOKENS):
    """Effective data D' = U + U R* (1 - exp(-R/R*)) of U unique tokens seen for ``epochs`` epochs (R = epochs - 1).

    A repeated token is worth less each time: the k-th repetition is worth about exp(-k/R*) of a fresh one,
    so D' never exceeds U (1 + R*). ``unique_tokens`` in tokens, ``epochs`` >= 1 (may be fractional),
    ``r_star`` in repetitions; returns tokens.
    Source: Muennighoff et al. 2023, arXiv 2305.16264, eq. 5, R*_D = 15.4 (section 3.1).

    Four epochs of 100B unique tokens are worth about 373B fresh ones, 93% of the 400B seen; forty epochs
    are worth about 15 times the unique data, not 40 (the cap is 1 + R* = 16.4):

    >>> round(effective_tokens(100e9, 4) / 1e9), round(effective_tokens(100e9, 40) / 100e9, 1)
    (373, 15.2)
    """
    U = as_positive("unique_tokens", unique_tokens, "tokens")
    E = as_positive("epochs", epochs, "epochs (1 = every token seen once)")
    if np.any(np.asarray(E) < 1):
        raise ScalingLabError(f"epochs must be at least 1 (one pass over the unique data); got {epochs!r}")
    Rs = as_positive("r_star", r_star, "repetitions")
    R = np.asarray(E) - 1.0                            # repetitions beyond the first epoch
    with np.errstate(over="ignore", invalid="ignore"):
        D_eff = U + U * Rs * (1.0 - np.exp(-R / Rs))   # tokens
    return scalar_or_array(D_eff, "effective_tokens", unique_tokens=U, epochs=E)


def effective_params(n_params, unique_params, r_star=R_STAR_PARAMS):
    """Effective parameters N' = U_N + U_N R*_N (1 - exp(-R_N/R*_N)) with R_N = N/U_N - 1.

    U_N is the compute-optimal model size for the unique data; parameters beyond it are worth less and less.
    ``n_params`` and ``unique_params`` in parameters (``n_params`` >= ``unique_params``); returns parameters.
    Source: Muennighoff et al. 2023, arXiv 2305.16264, eq. 6, R*_N = 5.3 (section 3.1).

    >>> round(effective_params(2e9, 1e9) / 1e9, 2)
    1.91
    """
    N = as_positive("n_params", n_params, "parameters")
    U = as_positive("unique_params", unique_params, "parameters")
    if np.any(np.asarray(N) < np.asarray(U)):
        raise ScalingLabError("n_params must be at least unique_params (the excess is N - U_N)")
    Rs = as_positive("r_star", r_star, "repetitions")
    with np.errstate(over="ignore", invalid="ignore"):
        R = np.asarray(N) / U - 1.0
        N_eff = U + U * Rs * (1.0 - np.exp(-R / Rs))
    return scalar_or_array(N_eff, "effective_params", n_params=N, unique_params=U)


#: Muennighoff et al. 2023's fitted data-constrained law (arXiv 2305.16264; huggingface/datablations README,
#: "Parametric Fit"): E, A, B from exp of the fitted logs, alpha = beta.
MUENNIGHOFF_FIT = ChinchillaFit(
    E=math.exp(0.6254804), A=math.exp(6.255414), B=math.exp(7.3049974), alpha=0.3526596, beta=0.3526596,
    name="muennighoff2023", source="Muennighoff et al. 2023, arXiv 2305.16264; huggingface/datablations README",
)


def data_constrained_loss(n_params, n_tokens, unique_tokens):
    """Loss E + A/N'^α + B/D'^β of a model trained on ``n_tokens`` drawn from ``unique_tokens`` unique ones.

    N' and D' as in :func:`effective_params` and :func:`effective_tokens`, with U_N the compute-optimal size
    for U unique tokens; constants :data:`MUENNIGHOFF_FIT`. Arguments in parameters and tokens; nats per token.
    Source: Muennighoff et al. 2023, arXiv 2305.16264, eq. 7 and Figure 1 (right), whose two models for
    25B unique tokens are reproduced here (the repository prints 2.2256 and 2.2270):

    >>> round(data_constrained_loss(6.34e9, 242e9, 25e9), 4), round(data_constrained_loss(8.67e9, 178e9, 25e9), 4)
    (2.2256, 2.227)
    """
    f = MUENNIGHOFF_FIT
    N = as_positive("n_params", n_params, "parameters", scalar=True)
    D = as_positive("n_tokens", n_tokens, "tokens", scalar=True)
    U = as_positive("unique_tokens", unique_tokens, "tokens", scalar=True)
    if U > D:
        raise ScalingLabError(f"unique_tokens must be at most n_tokens ({D:g}); got {U:g}")
    if min(N, U) < 1:
        raise ScalingLabError(f"n_params and unique_tokens must be at least 1; got {N:g} and {U:g}")
    G = (f.alpha * f.A / (f.beta * f.B)) ** (1 / (f.alpha + f.beta))
    U_N = min(N, (U * G) ** (f.beta / f.alpha) * G)    # compute-optimal size for U tokens
    N_eff = U_N + U_N * R_STAR_PARAMS * (1 - math.exp(-(N / U_N - 1) / R_STAR_PARAMS))
    D_eff = U + U * R_STAR_TOKENS * (1 - math.exp(-(D / U - 1) / R_STAR_TOKENS))
    return scalar_or_array(f.E + f.A / N_eff ** f.alpha + f.B / D_eff ** f.beta, "data_constrained_loss",
                           n_params=N, n_tokens=D, unique_tokens=U)


def equivalent_fresh_tokens(loss, fresh_tokens, fresh_loss):
    """How many fresh tokens give ``loss``, read off a measured fresh-data curve (fresh_tokens, fresh_loss).

    Interpolates ln D linearly in the loss between measured points, and extends the end segments. Used to
    turn the loss of a repeated-data run into its effective data D'. Tokens and nats per token; the fresh
    losses must fall as D grows.

    >>> round(equivalent_fresh_tokens(1.5, [1e4, 1e5], [2.0, 1.0]))
    31623
    """
    D = np.asarray(as_positive("fresh_tokens", fresh_tokens, "tokens"), dtype=float).ravel()
    L = np.asarray(as_positive("fresh_loss", fresh_loss, "nats per token"), dtype=float).ravel()
    if D.size != L.size or D.size < 2:
        raise ScalingLabError(f"fresh_tokens and fresh_loss must be two lists of equal length >= 2; got "
                              f"{D.size} and {L.size}")
    order = np.argsort(D)
    D, L = D[order], L[order]
    if np.any(np.diff(D) <= 0) or np.any(np.diff(L) >= 0):
        raise ScalingLabError("fresh_loss must fall strictly as fresh_tokens grows (one run per data size)")
    target = as_positive("loss", loss, "nats per token")
    x, y = -L, np.log(D)                                # increasing in x
    t = -np.asarray(target, dtype=float)
    i = np.clip(np.searchsorted(x, t) - 1, 0, x.size - 2)
    ln_d = y[i] + (t - x[i]) * (y[i + 1] - y[i]) / (x[i + 1] - x[i])
    with np.errstate(over="ignore"):
        out = np.exp(np.clip(ln_d, -700, 700))
    return scalar_or_array(out, "equivalent_fresh_tokens", loss=target)


@dataclass(frozen=True)
class RStarFit:
    """R* fitted to repeated-data runs: the number of repetitions after which a token's worth has decayed to 1/e."""

    r_star: float                   # repetitions
    epochs: np.ndarray = field(repr=False)
    measured_ratio: np.ndarray = field(repr=False)   # D' / U measured
    rmse: float = 0.0                # of ln(D'/U), fitted vs measured

    def predicted_ratio(self, epochs=None):
        """D'/U of the fitted law at ``epochs`` (default: the runs' epochs)."""
        e = self.epochs if epochs is None else np.asarray(epochs, dtype=float)
        return 1.0 + self.r_star * (1.0 - np.exp(-(e - 1.0) / self.r_star))

    def __repr__(self):
        return f"RStarFit(r_star={self.r_star:.3g}, runs={self.epochs.size}, rmse={self.rmse:.3g})"


def fit_r_star(epochs, effective_ratio) -> RStarFit:
    """Fit R* in D'/U = 1 + R* (1 - exp(-(epochs - 1)/R*)) by least squares on ln(D'/U).

    ``epochs`` (>= 1) and ``effective_ratio`` = D'/U (effective over unique tokens, > 0) of repeated-data runs;
    runs at one epoch carry no information and are ignored. R* is searched in [0.01, 10,000] repetitions.
    Source: the functional form of Muennighoff et al. 2023, arXiv 2305.16264, eq. 5, fitted to your own runs.

    Ratios made with R* = 15.4 give it back:

    >>> e = np.array([2, 4, 8, 16]); round(fit_r_star(e, effective_tokens(1.0, e)).r_star, 1)
    15.4
    """
    e = np.atleast_1d(np.asarray(as_positive("epochs", epochs, "epochs"), dtype=float)).ravel()
    r = np.atleast_1d(np.asarray(as_positive("effective_ratio", effective_ratio, "(D'/U)"), dtype=float)).ravel()
    if e.size != r.size:
        raise ScalingLabError(f"epochs and effective_ratio must have the same length; got {e.size} and {r.size}")
    if np.any(e < 1):
        raise ScalingLabError("epochs must be at least 1")
    keep = e > 1
    if keep.sum() < 1:
        raise ScalingLabError("fit_r_star needs at least one run with more than one epoch")
    e, r = e[keep], r[keep]
    R = e - 1.0

    def sse(log_rs):
        rs = math.exp(log_rs)
        pred = 1.0 + rs * (1.0 - np.exp(-R / rs))
        return float(np.sum((np.log(pred) - np.log(r)) ** 2))

    res = minimize_scalar(sse, bounds=(math.log(0.01), math.log(1e4)), method="bounded",
                          options={"xatol": 1e-10, "maxiter": 500})
    rs = math.exp(res.x)
    return RStarFit(rs, e, r, math.sqrt(sse(res.x) / e.size))


# --- hyperparameter fits (DeepSeek LLM) ----------------------------------------------------------------

def deepseek_flops_per_token(n_layer, d_model, seq_len):
    """Non-embedding FLOPs per token M = 72 n_layer d_model² + 12 n_layer d_model l_seq (training, attention incl.).

    DeepSeek LLM's measure of model scale, used instead of 6N; C = M D. Returns FLOPs per token.
    Source: DeepSeek-AI 2024, arXiv 2401.02954, section 3.2.

    DeepSeek LLM 7B (30 layers, width 4096, sequence 4096):

    >>> f"{deepseek_flops_per_token(30, 4096, 4096):.4g}"
    '4.228e+10'
    """
    L = as_positive("n_layer", n_layer, "layers")
    d = as_positive("d_model", d_model, "units")
    s = as_positive("seq_len", seq_len, "tokens")
    with np.errstate(over="ignore"):
        d = np.asarray(d, dtype=float)
        M = 72.0 * L * np.square(d) + 12.0 * L * d * s   # FLOPs per token
    return scalar_or_array(M, "deepseek_flops_per_token", n_layer=L, d_model=d, seq_len=s)


def deepseek_learning_rate(flops):
    """Near-optimal peak learning rate η = 0.3118 · C^-0.1250 for a compute budget C = M D (FLOPs).

    Source: DeepSeek-AI 2024, "DeepSeek LLM", arXiv 2401.02954, section 3.1, eq. 1 (fitted from 1e17 to
    2e19 FLOPs). DeepSeek LLM 7B (C = 4.228e10 FLOPs/token x 2T tokens) gets 4.2e-4, the rate it was trained
    with (Table 2):

    >>> f"{deepseek_learning_rate(4.228e10 * 2e12):.2g}"
    '0.00042'
    """
    C = as_positive("flops", flops, "FLOPs")
    return scalar_or_array(0.3118 * np.power(C, -0.1250), "deepseek_learning_rate", flops=C)


def deepseek_batch_size(flops):
    """Near-optimal batch size B = 0.2920 · C^0.3271 tokens for a compute budget C = M D (FLOPs).

    Source: DeepSeek-AI 2024, "DeepSeek LLM", arXiv 2401.02954, section 3.1, eq. 1. For DeepSeek LLM 7B it gives
    about 9.2M tokens, 2,252 sequences of 4,096 tokens (the model used 2,304, Table 2):

    >>> round(deepseek_batch_size(4.228e10 * 2e12) / 4096)
    2252
    """
    C = as_positive("flops", flops, "FLOPs")
    with np.errstate(over="ignore"):
        B = 0.2920 * np.power(C, 0.3271)
    return scalar_or_array(B, "deepseek_batch_size", flops=C)


# --- tokens per parameter of real recipes ----------------------------------------------------------------

_RECIPES = "recipes.csv"


@dataclass(frozen=True)
class Recipe:
    """A published pretraining recipe: (active) parameters and training tokens."""

    name: str
    year: int
    n_params: float           # parameters (active parameters for a mixture of experts)
    n_tokens: float           # training tokens
    source: str = field(repr=False)
    notes: str = field(default="", repr=False)

    @property
    def tokens_per_param(self) -> float:
        return self.n_tokens / self.n_params

    def __repr__(self):
        return (f"Recipe({self.name!r}, {self.year}: {format_quantity(self.n_params)} parameters, "
                f"{format_quantity(self.n_tokens)} tokens, {self.tokens_per_param:,.1f} tokens/param)")


def load_recipes() -> tuple[Recipe, ...]:
    """Published training recipes (``scalinglab/data/recipes.csv``), each with its primary source.

    >>> {r.name: round(r.tokens_per_param) for r in load_recipes()}["Chinchilla"]
    20
    """
    rows = read_table(_RECIPES)
    out = []
    for row in rows:
        out.append(Recipe(row["name"], int(number(row, "year", _RECIPES, integer=True)),
                          number(row, "n_params", _RECIPES), number(row, "n_tokens", _RECIPES),
                          row["source"], row.get("notes", "")))
    return tuple(out)


_REPEATED = "repeated_runs.csv"


@dataclass(frozen=True)
class RepeatedRuns:
    """Laptop runs on repeated and on fresh data (``scalinglab/data/repeated_runs.csv``), as arrays."""

    hidden_units: np.ndarray
    n_params: np.ndarray
    n_tokens: np.ndarray            # D, tokens processed
    unique_tokens: np.ndarray       # U (= D for fresh runs)
    loss: np.ndarray                # held-out, nats per character
    train_loss: np.ndarray

    @property
    def epochs(self) -> np.ndarray:
        return self.n_tokens / self.unique_tokens

    @property
    def n_runs(self) -> int:
        return int(self.loss.size)

    def __repr__(self):
        return f"RepeatedRuns({self.n_runs} runs, H in {sorted(set(self.hidden_units.tolist()))})"


def load_repeated_runs(hidden_units=None, unique_tokens=None) -> RepeatedRuns:
    """The shipped repeated-data runs (made by ``tools/make_repeated_runs.py``), optionally for one H and one U.

    With ``unique_tokens`` the result holds that pool's repeated runs *and* the fresh runs of the same width
    whose D is a multiple of U (the fresh-data curve to read D' from).

    >>> runs = load_repeated_runs(64, 25_000)
    >>> sorted(set(runs.epochs.tolist()))[:3]
    [1.0, 2.0, 4.0]
    """
    for name, value in (("hidden_units", hidden_units), ("unique_tokens", unique_tokens)):
        if value is not None and (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer))):
            raise ScalingLabError(f"{name} must be None or a whole number; got {value!r}")
    rows = read_table(_REPEATED)
    cols = {k: np.array([float(r[k]) for r in rows]) for k in
            ("hidden_units", "n_params", "n_tokens", "unique_tokens", "loss_nats", "train_loss_nats")}
    keep = np.ones(len(rows), dtype=bool)
    if hidden_units is not None:
        widths = sorted(set(cols["hidden_units"].astype(int).tolist()))
        if hidden_units not in widths:
            raise ScalingLabError(f"hidden_units must be one of {widths}; got {hidden_units!r}")
        keep &= cols["hidden_units"] == hidden_units
    if unique_tokens is not None:
        pools = sorted(set(cols["unique_tokens"][cols["unique_tokens"] < cols["n_tokens"]].astype(int).tolist()))
        if unique_tokens not in pools:
            raise ScalingLabError(f"unique_tokens must be one of {pools}; got {unique_tokens!r}")
        U = float(unique_tokens)
        fresh = cols["unique_tokens"] == cols["n_tokens"]
        keep &= (cols["unique_tokens"] == U) | (fresh & (np.mod(cols["n_tokens"], U) == 0))
    return RepeatedRuns(cols["hidden_units"][keep].astype(int), cols["n_params"][keep].astype(int),
                        cols["n_tokens"][keep], cols["unique_tokens"][keep], cols["loss_nats"][keep],
                        cols["train_loss_nats"][keep])


def effective_ratio(runs: RepeatedRuns, unique_tokens) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, D'/U) of the repeated runs on ``unique_tokens`` in ``runs``, D' read off its fresh-data curve.

    The fresh curve is the runs with U = D; each repeated run's loss is turned into fresh tokens by
    :func:`equivalent_fresh_tokens`. Epochs in epochs, the ratio without unit.
    """
    if not isinstance(runs, RepeatedRuns):
        raise ScalingLabError(f"runs must be the RepeatedRuns of load_repeated_runs(); got {type(runs).__name__}")
    U = as_positive("unique_tokens", unique_tokens, "tokens", scalar=True)
    fresh = (runs.unique_tokens == runs.n_tokens)
    repeated = (runs.unique_tokens == U) & (runs.n_tokens > U)
    if fresh.sum() < 2 or repeated.sum() < 1:
        raise ScalingLabError("effective_ratio needs at least two fresh runs and one repeated run on unique_tokens")
    d_eff = np.atleast_1d(equivalent_fresh_tokens(runs.loss[repeated], runs.n_tokens[fresh], runs.loss[fresh]))
    return runs.epochs[repeated], d_eff / U
