"""Chinchilla: the parametric loss L(N, D) = E + A/N**alpha + B/D**beta and compute-optimal allocation.

Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models"
(arXiv 2203.15556), and the replication by Besiroglu et al. 2024,
"Chinchilla Scaling: A replication attempt" (arXiv 2404.10102).
Losses are in nats per token on MassiveText; N counts all parameters and D
training tokens, and training compute is C = 6ND FLOPs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._checks import ScalingLabError, as_positive, scalar_or_array, unknown_name

#: Tokens per parameter of the popular rule, a summary of Hoffmann et al. 2022's
#: Table 3 (Approach 1); the phrase "20 tokens per parameter" is not in the paper.
TOKENS_PER_PARAM = 20.0


@dataclass(frozen=True)
class ChinchillaFit:
    """A fitted Chinchilla loss L(N, D) = E + A/N**alpha + B/D**beta (nats per token).

    E is the irreducible loss, A/N**alpha the penalty for a finite model and
    B/D**beta the penalty for finite data. Make your own with
    ``ChinchillaFit(E=..., A=..., B=..., alpha=..., beta=..., name="mine")``.
    """

    E: float        # irreducible loss, nats/token
    A: float        # model-size coefficient, nats/token * parameters**alpha
    B: float        # data coefficient, nats/token * tokens**beta
    alpha: float    # model-size exponent
    beta: float     # data exponent
    name: str = "custom"
    source: str = "user-supplied"

    def __post_init__(self):
        for field in ("E", "A", "B", "alpha", "beta"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
                raise ScalingLabError(f"ChinchillaFit.{field} must be a positive number; got {value!r}")
            value = float(value)
            if not math.isfinite(value) or value <= 0:
                raise ScalingLabError(f"ChinchillaFit.{field} must be a positive finite number; got {value!r}")
            object.__setattr__(self, field, value)

    @property
    def a(self) -> float:
        """Exponent of N_opt ∝ C**a: beta / (alpha + beta)."""
        return self.beta / (self.alpha + self.beta)

    @property
    def b(self) -> float:
        """Exponent of D_opt ∝ C**b: alpha / (alpha + beta)."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def G(self) -> float:
        """G = (alpha A / (beta B))**(1/(alpha+beta)), so N_opt = G (C/6)**a (Hoffmann eq. 4)."""
        return (self.alpha * self.A / (self.beta * self.B)) ** (1.0 / (self.alpha + self.beta))

    def __repr__(self):
        return (
            f"ChinchillaFit(E={self.E:g}, A={self.A:g}, B={self.B:g}, alpha={self.alpha:g}, "
            f"beta={self.beta:g}, name={self.name!r})"
        )

    def _repr_html_(self):
        cells = "".join(
            f"<td>{v}</td>" for v in (self.name, f"{self.E:g}", f"{self.A:g}", f"{self.B:g}",
                                      f"{self.alpha:g}", f"{self.beta:g}", self.source)
        )
        head = "".join(f"<th>{h}</th>" for h in ("fit", "E", "A", "B", "α", "β", "source"))
        return f"<table><tr>{head}</tr><tr>{cells}</tr></table>"


CHINCHILLA_FITS = {
    fit.name: fit
    for fit in (
        ChinchillaFit(
            E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28, name="hoffmann2022",
            source="Hoffmann et al. 2022, arXiv 2203.15556, Appendix D.2 eq. 10 (Approach 3), constants as printed",
        ),
        ChinchillaFit(
            E=1.6934, A=math.exp(6.0073404), B=math.exp(6.0179186), alpha=0.33917, beta=0.28491,
            name="hoffmann2022-unrounded",
            source="Hoffmann et al. 2022, arXiv 2203.15556, unrounded Approach-3 estimates from the paper's "
                   "TeX source, as reported by Besiroglu et al. 2024, arXiv 2404.10102",
        ),
        ChinchillaFit(
            E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658, name="besiroglu2024",
            source="Besiroglu et al. 2024, arXiv 2404.10102, refit of Approach 3 on data read off "
                   "Hoffmann et al.'s Figure 4",
        ),
    )
}


def chinchilla_fit(fit="hoffmann2022") -> ChinchillaFit:
    """Return a :class:`ChinchillaFit` by name, or ``fit`` itself if it already is one.

    Named fits: ``"hoffmann2022"`` (as printed, the default),
    ``"hoffmann2022-unrounded"`` and ``"besiroglu2024"``.

    >>> chinchilla_fit("besiroglu2024").E
    1.8172
    """
    if isinstance(fit, ChinchillaFit):
        return fit
    if isinstance(fit, str):
        key = fit.strip().lower()
        if key in CHINCHILLA_FITS:
            return CHINCHILLA_FITS[key]
    raise unknown_name("fit", fit, "Chinchilla fit", CHINCHILLA_FITS)


def chinchilla_loss(n_params, n_tokens, fit="hoffmann2022"):
    """Predicted loss L(N, D) = E + A/N**alpha + B/D**beta, in nats per token.

    ``n_params`` (parameters) and ``n_tokens`` (training tokens) broadcast
    against each other like numpy arrays. ``fit`` is a name from
    :data:`CHINCHILLA_FITS` or a :class:`ChinchillaFit`.
    Source: Hoffmann et al. 2022, arXiv 2203.15556, eq. 2, with the constants of Appendix D.2 (eq. 10).

    Chinchilla itself (70B parameters, 1.4T tokens):

    >>> round(chinchilla_loss(70e9, 1.4e12), 3)
    1.937

    A common misquote gives 1.86 for Llama 3 8B-class models trained on 15T
    tokens; with these constants 1.86 belongs to 70B, a 7B model gets 1.96:

    >>> round(chinchilla_loss(70e9, 15e12), 2), round(chinchilla_loss(7e9, 15e12), 2)
    (1.86, 1.96)
    """
    f = chinchilla_fit(fit)
    N = as_positive("n_params", n_params, "parameters")
    D = as_positive("n_tokens", n_tokens, "tokens")
    try:
        with np.errstate(over="ignore", divide="ignore"):
            loss = f.E + f.A / np.power(N, f.alpha) + f.B / np.power(D, f.beta)  # nats/token
    except ValueError as exc:
        raise ScalingLabError(
            f"n_params and n_tokens must broadcast together; got shapes {np.shape(N)} and {np.shape(D)}"
        ) from exc
    return scalar_or_array(loss, "chinchilla_loss", n_params=N, n_tokens=D)


class Allocation(NamedTuple):
    """A split of a compute budget into model size and data (C = 6ND)."""

    n_params: float   # parameters
    n_tokens: float   # tokens

    @property
    def tokens_per_param(self):
        """D / N."""
        return self.n_tokens / self.n_params

    @property
    def flops(self):
        """Training compute 6ND, in FLOPs."""
        return 6.0 * self.n_params * self.n_tokens


def compute_optimal(flops, fit="hoffmann2022") -> Allocation:
    """Model size and tokens that minimise L(N, D) for a FLOP budget C = 6ND.

    Closed form (Hoffmann et al. 2022, arXiv 2203.15556, eq. 4 and Appendix D.2):
    N_opt = G (C/6)**a, D_opt = G**-1 (C/6)**b, with
    G = (alpha A / (beta B))**(1/(alpha+beta)), a = beta/(alpha+beta), b = alpha/(alpha+beta).
    ``flops`` in FLOPs; returns an :class:`Allocation` of parameters and tokens,
    which unpacks as ``n_params, n_tokens``.

    At the Gopher budget (5.76e23 FLOPs) the three fits disagree sharply: the
    printed, rounded Hoffmann constants give about 32B parameters and 93
    tokens per parameter, the unrounded ones the 40B that Hoffmann et al.
    project in their Figure 4 caption, and the Besiroglu
    et al. 2024 refit about 72B and 18 tokens per parameter, close to
    Chinchilla's own 70B on 1.4T:

    >>> for name in ("hoffmann2022", "hoffmann2022-unrounded", "besiroglu2024"):
    ...     n, d = compute_optimal(5.76e23, fit=name)
    ...     print(f"{name:24s} N = {n / 1e9:4.1f}B  D/N = {d / n:4.1f}")
    hoffmann2022             N = 32.2B  D/N = 92.6
    hoffmann2022-unrounded   N = 40.4B  D/N = 58.9
    besiroglu2024            N = 72.2B  D/N = 18.4
    """
    f = chinchilla_fit(fit)
    C = as_positive("flops", flops, "FLOPs")
    with np.errstate(all="ignore"):
        N = f.G * np.power(C / 6.0, f.a)      # parameters
        D = (C / 6.0) / N                     # tokens, so that 6ND = C exactly
    return Allocation(scalar_or_array(N, "the optimal n_params", flops=C),
                      scalar_or_array(D, "the optimal n_tokens", flops=C))


def compute_optimal_by_ratio(flops, tokens_per_param=TOKENS_PER_PARAM) -> Allocation:
    """Split a FLOP budget with a fixed tokens-per-parameter ratio r: C = 6 N (r N).

    So N = sqrt(C / (6 r)) and D = r N. With r = 20 this is the popular
    Chinchilla rule, which summarises Hoffmann et al. 2022's Table 3
    (arXiv 2203.15556; Approach 1). At the Gopher budget it gives Chinchilla:

    >>> n, d = compute_optimal_by_ratio(5.76e23)
    >>> f"{n / 1e9:.0f}B parameters, {d / 1e12:.2f}T tokens"
    '69B parameters, 1.39T tokens'
    """
    C = as_positive("flops", flops, "FLOPs")
    r = as_positive("tokens_per_param", tokens_per_param, "tokens per parameter")
    with np.errstate(all="ignore"):
        N = np.sqrt(C / (6.0 * r))
        D = r * N
    return Allocation(scalar_or_array(N, "n_params", flops=C, tokens_per_param=r),
                      scalar_or_array(D, "n_tokens", flops=C, tokens_per_param=r))


def chinchilla_tokens(n_params, tokens_per_param=TOKENS_PER_PARAM):
    """Training tokens for a model of ``n_params`` parameters under the D = r N rule (r = 20).

    >>> chinchilla_tokens(70e9) / 1e12      # Chinchilla: 70B parameters, 1.4T tokens
    1.4
    """
    N = as_positive("n_params", n_params, "parameters")
    r = as_positive("tokens_per_param", tokens_per_param, "tokens per parameter")
    with np.errstate(over="ignore"):
        D = r * N
    return scalar_or_array(D, "chinchilla_tokens", n_params=N, tokens_per_param=r)


class IsoFlopCurve(NamedTuple):
    """Loss along a fixed compute budget: each model size gets D = C / (6N) tokens."""

    n_params: np.ndarray   # parameters
    n_tokens: np.ndarray   # tokens
    loss: np.ndarray       # nats/token

    @property
    def best(self) -> int:
        """Index of the lowest loss on the curve."""
        return int(np.argmin(self.loss))


def isoflop_curve(flops, n_params, fit="hoffmann2022") -> IsoFlopCurve:
    """Loss of each model size in ``n_params`` when trained with ``flops`` FLOPs (C = 6ND).

    Hoffmann et al. 2022's Approach 2 (arXiv 2203.15556, Figure 3) reads the
    optimum off the minimum of such IsoFLOP curves. Returns an
    :class:`IsoFlopCurve` of parameters, tokens and loss (nats/token).

    >>> curve = isoflop_curve(5.76e23, [35e9, 70e9, 140e9, 280e9], fit="besiroglu2024")
    >>> [f"{x:.3f}" for x in curve.loss]
    ['1.980', '1.974', '1.979', '1.993']
    >>> float(curve.n_params[curve.best]) / 1e9
    70.0
    """
    C = as_positive("flops", flops, "FLOPs")
    if np.ndim(C) != 0:
        raise ScalingLabError(f"flops must be a single budget in FLOPs; got an array of shape {np.shape(C)}")
    N = np.atleast_1d(as_positive("n_params", n_params, "parameters"))
    with np.errstate(all="ignore"):
        D = scalar_or_array(C / (6.0 * N), "n_tokens = flops / (6 n_params)", flops=C, n_params=N)
    D = np.atleast_1d(D)
    return IsoFlopCurve(N, D, np.atleast_1d(chinchilla_loss(N, D, fit=fit)))
