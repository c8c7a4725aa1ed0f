"""Kaplan et al. 2020, "Scaling Laws for Neural Language Models" (arXiv 2001.08361).

Losses are cross-entropies in nats per token on WebText2, with N counted as
non-embedding parameters. They are not comparable with Chinchilla's losses
(MassiveText, a different tokenizer).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import ScalingLabError, as_positive, scalar_or_array
from .units import PF_DAY


@dataclass(frozen=True)
class KaplanConstants:
    """Constants of Kaplan et al. 2020's laws.

    Single-variable fits, section 1.2 (and Table 5): L(N) = (N_c/N)**alpha_N,
    L(D) = (D_c/D)**alpha_D, L(C_min) = (C_c/C_min)**alpha_C. The combined law
    (eq. 1.5) was fitted separately and has its own constants (Table 2).
    """

    alpha_n: float = 0.076      # exponent of L(N)
    n_c: float = 8.8e13         # non-embedding parameters
    alpha_d: float = 0.095      # exponent of L(D)
    d_c: float = 5.4e13         # tokens
    alpha_c: float = 0.050      # exponent of L(C_min)
    c_c: float = 3.1e8          # PF-days (eq. 1.3, Table 5; the legend of Figure 1 prints 2.3e8)
    # Combined L(N, D), eq. 1.5 with Table 2's constants.
    joint_alpha_n: float = 0.076
    joint_alpha_d: float = 0.103
    joint_n_c: float = 6.4e13   # non-embedding parameters
    joint_d_c: float = 1.8e13   # tokens
    # Compute-efficient allocation, Table 6 and Figure 14 (section 6.1): N_opt = 1.3e9 * C_min**0.73,
    # C in PF-days. (eq. 1.7 states only the proportionality.)
    opt_coefficient: float = 1.3e9
    opt_exponent: float = 0.73
    # Data needed to keep the overfitting penalty below about 2% (eq. 4.4): D >~ 5e3 * N**0.74 tokens.
    min_tokens_coefficient: float = 5e3
    min_tokens_exponent: float = 0.74
    source: str = "Kaplan et al. 2020, arXiv 2001.08361, section 1.2, eq. 1.5, Tables 2, 5 and 6"


KAPLAN = KaplanConstants()

# No training run comes near 1e12 PF-days (8.6e31 FLOPs); a larger "budget" is FLOPs passed by mistake.
_MAX_PF_DAYS = 1e12


def _pf_days(value):
    C = as_positive("compute_pf_days", value, "PF-days")
    if np.any(np.asarray(C) > _MAX_PF_DAYS):
        big = float(np.max(C))
        raise ScalingLabError(
            f"compute_pf_days = {big:.3g} looks like FLOPs, not PF-days: divide by PF_DAY "
            f"({PF_DAY:.3g} FLOPs per PF-day) to get {big / PF_DAY:.3g} PF-days"
        )
    return C


def kaplan_loss(n_params=None, n_tokens=None, compute_pf_days=None):
    """Kaplan et al. 2020's predicted test loss, in nats per token.

    Give exactly one of these combinations:

    - ``n_params`` alone: L(N) = (N_c/N)**0.076, N_c = 8.8e13 (model trained to convergence);
    - ``n_tokens`` alone: L(D) = (D_c/D)**0.095, D_c = 5.4e13 (large model, early stopping);
    - ``compute_pf_days`` alone: L(C_min) = (C_c/C_min)**0.050, C_c = 3.1e8 PF-days;
    - ``n_params`` and ``n_tokens``: eq. 1.5,
      L(N, D) = [(N_c/N)**(alpha_N/alpha_D) + D_c/D]**alpha_D
      with alpha_N = 0.076, alpha_D = 0.103, N_c = 6.4e13, D_c = 1.8e13 (Table 2).

    ``n_params`` counts non-embedding parameters, ``n_tokens`` tokens and
    ``compute_pf_days`` PF-days (see :data:`scalinglab.PF_DAY`).
    Source: arXiv 2001.08361, section 1.2 and eq. 1.5.

    >>> round(kaplan_loss(n_params=8.8e13), 6)          # N = N_c gives exactly 1 nat
    1.0
    >>> round(kaplan_loss(n_params=1.5e9), 3)            # a 1.5B non-embedding model
    2.304
    >>> round(kaplan_loss(n_params=1.5e9, n_tokens=1e10), 3)   # eq. 1.5: too few tokens cost loss
    2.373
    >>> round(kaplan_loss(n_params=1.5e9, n_tokens=1e15), 3)   # ... and the penalty vanishes as D grows
    2.248
    """
    given = tuple(v is not None for v in (n_params, n_tokens, compute_pf_days))
    K = KAPLAN
    if given == (True, False, False):
        N = as_positive("n_params", n_params, "non-embedding parameters")
        return scalar_or_array((K.n_c / N) ** K.alpha_n)
    if given == (False, True, False):
        D = as_positive("n_tokens", n_tokens, "tokens")
        return scalar_or_array((K.d_c / D) ** K.alpha_d)
    if given == (False, False, True):
        C = _pf_days(compute_pf_days)
        return scalar_or_array((K.c_c / C) ** K.alpha_c)
    if given == (True, True, False):
        N = as_positive("n_params", n_params, "non-embedding parameters")
        D = as_positive("n_tokens", n_tokens, "tokens")
        a_n, a_d = K.joint_alpha_n, K.joint_alpha_d
        return scalar_or_array(((K.joint_n_c / N) ** (a_n / a_d) + K.joint_d_c / D) ** a_d)
    raise ScalingLabError(
        "kaplan_loss takes n_params alone, n_tokens alone, compute_pf_days alone, "
        "or n_params with n_tokens; got "
        + (", ".join(k for k, g in zip(("n_params", "n_tokens", "compute_pf_days"), given) if g) or "none")
    )


def kaplan_compute_optimal(compute_pf_days):
    """Kaplan's compute-efficient allocation: (n_params, n_tokens) for a budget.

    N_opt = 1.3e9 * C**0.73 non-embedding parameters, C in PF-days
    (Table 6 and Figure 14 of arXiv 2001.08361; eq. 1.7 gives N ∝ C**0.73). The tokens follow from
    C = 6ND: D = C * PF_DAY / (6 N), which grows only as C**0.27. Kaplan
    therefore advised spending most extra compute on parameters; Chinchilla
    later found N and D should grow equally (see :func:`compute_optimal`).

    Convention: the tokens here satisfy 6ND = C_min exactly. Kaplan's own
    Table 6 gives D ≈ 2e10 C**0.27, twice as many, because runs at the
    critical batch size spend about 2 C_min (section 5.1); the paper's two
    conventions disagree by that factor, this function keeps C = 6ND.

    Returns numpy arrays or floats, in parameters and tokens.

    >>> n, d = kaplan_compute_optimal(1.0)
    >>> f"{n:.2g}"                  # the coefficient of Table 6
    '1.3e+09'
    >>> n, d = kaplan_compute_optimal(3.64e3)   # GPT-3's budget (Brown et al. 2020, Table D.1)
    >>> f"{n:.2g} parameters, {d:.2g} tokens"
    '5.2e+11 parameters, 1e+11 tokens'
    """
    C = _pf_days(compute_pf_days)
    N = KAPLAN.opt_coefficient * np.power(C, KAPLAN.opt_exponent)
    D = C * PF_DAY / (6.0 * N)
    return scalar_or_array(N), scalar_or_array(D)


def kaplan_overfit_penalty(n_params, n_tokens):
    """Relative loss from finite data: delta L = L(N, D) / L(N, infinite D) - 1.

    delta L is defined in eq. 4.2; this evaluates its closed form, eq. 4.3,
    from the combined law (eq. 1.5, Table 2 constants), whose D -> infinity
    limit is (N_c / N)**alpha_N. Dimensionless (0.02 is 2%). ``n_params``
    counts non-embedding parameters, ``n_tokens`` tokens; both broadcast.
    Source: Kaplan et al. 2020, arXiv 2001.08361, section 4.2, eqs. 4.2-4.3.

    With the data of eq. 4.4 the penalty stays near 2%, about the
    seed-to-seed noise of a run:

    >>> round(100 * kaplan_overfit_penalty(1e9, kaplan_min_tokens(1e9)), 1)
    2.1
    """
    N = as_positive("n_params", n_params, "non-embedding parameters")
    D = as_positive("n_tokens", n_tokens, "tokens")
    K = KAPLAN
    a_n, a_d = K.joint_alpha_n, K.joint_alpha_d
    limit = (K.joint_n_c / N) ** a_n                                  # L(N, infinite D), nats/token
    return scalar_or_array(((K.joint_n_c / N) ** (a_n / a_d) + K.joint_d_c / D) ** a_d / limit - 1)


def kaplan_min_tokens(n_params):
    """Tokens a model needs to avoid overfitting: D >~ 5e3 * N**0.74 (eq. 4.4).

    Kaplan et al. chose the bound so that the penalty of finite data stays
    under about 2% of the loss. ``n_params`` counts non-embedding
    parameters; the result is in tokens. Source: arXiv 2001.08361, eq. 4.4.

    >>> f"{kaplan_min_tokens(175e9):.3g}"      # GPT-3's size: more than 300B tokens
    '1.04e+12'
    """
    N = as_positive("n_params", n_params, "non-embedding parameters")
    return scalar_or_array(KAPLAN.min_tokens_coefficient * np.power(N, KAPLAN.min_tokens_exponent))
