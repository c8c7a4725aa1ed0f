"""Tables of training runs, and Chinchilla's Approaches 1 and 2: compute-optimal sizes read off the runs.

Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models"
(arXiv 2203.15556), section 3: Approach 1 takes, for each FLOP budget, the
run with the lowest loss; Approach 2 fits a parabola to loss against log N
along each IsoFLOP curve and takes its minimum. Both then fit power laws
N_opt = k C**a and D_opt = k' C**b. Approach 3 is :func:`scalinglab.fitting.fit_chinchilla`.
Sizes are parameters, data is tokens, compute is FLOPs (C = 6ND unless
given) and losses are nats per token.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ._checks import ScalingLabError, as_number, as_positive, unknown_name
from ._tables import number, read_table
from .chinchilla import Allocation
from .powerlaw import PowerLawFit, fit_power_law

RUN_TABLES = {"synthetic": "synthetic_runs.csv"}


@dataclass(frozen=True, eq=False)
class Runs:
    """Training runs, one entry per run: parameters, tokens, FLOPs and final loss (nats/token)."""

    n_params: np.ndarray   # parameters
    n_tokens: np.ndarray   # training tokens
    flops: np.ndarray      # training compute, FLOPs
    loss: np.ndarray       # final loss, nats/token
    name: str = "runs"
    source: str = ""

    def __len__(self):
        return self.loss.size

    def subset(self, mask) -> "Runs":
        """The runs where ``mask`` is true, e.g. ``runs.subset(runs.flops <= 1e20)``."""
        mask = np.asarray(mask)
        if mask.shape != self.loss.shape:
            raise ScalingLabError(f"mask must hold one entry per run ({self.loss.size}); got shape {mask.shape}")
        return Runs(self.n_params[mask], self.n_tokens[mask], self.flops[mask], self.loss[mask],
                    self.name, self.source)

    def __repr__(self):
        if not len(self):
            return f"Runs({self.name!r}, no runs)"
        budgets = len(_budgets(self.flops))
        return (f"Runs({self.name!r}, {len(self)} runs, {budgets} FLOP budget{'s' * (budgets != 1)} "
                f"{self.flops.min():.3g} to {self.flops.max():.3g})")


def load_runs(name="synthetic") -> Runs:
    """Load a table of training runs from ``scalinglab/data``.

    ``"synthetic"``: 252 runs in nine IsoFLOP sweeps from 1e18 to 1e21 FLOPs,
    drawn from the ``besiroglu2024`` law with 0.75% lognormal noise
    (``tools/make_synthetic_runs.py`` says exactly how), so a fit can be
    checked against the truth.

    >>> runs = load_runs()
    >>> runs
    Runs('synthetic', 252 runs, 9 FLOP budgets 1e+18 to 1e+21)
    >>> float(runs.loss.min()), float(runs.loss.max())
    (2.267865, 3.929938)
    """
    if not isinstance(name, str) or name.strip().lower() not in RUN_TABLES:
        raise unknown_name("name", name, "run table", RUN_TABLES)
    filename = RUN_TABLES[name.strip().lower()]
    rows = read_table(filename)
    N, D, C, L = (np.array([number(r, col, filename) for r in rows])
                  for col in ("n_params", "n_tokens", "flops", "loss_nats"))
    if np.any(np.abs(C / (6 * N * D) - 1) > 1e-5):
        raise RuntimeError(f"{filename}: flops must equal 6 * n_params * n_tokens")
    return Runs(N, D, C, L, name=name.strip().lower(), source=rows[0]["source"])


@dataclass(frozen=True, eq=False)
class Projection:
    """Published compute-optimal projections, one entry per model size."""

    name: tuple            # model sizes as printed ("400 Million", ...)
    n_params: np.ndarray   # parameters
    flops: np.ndarray      # compute-optimal training FLOPs
    n_tokens: np.ndarray   # compute-optimal training tokens
    source: str
    notes: tuple           # per row, empty where there is nothing to say


def hoffmann_projections(approach=1) -> Projection:
    """Hoffmann et al. 2022's projected compute-optimal FLOPs and tokens for nine model sizes.

    Approach 1 is their Table 3; Approaches 2 and 3 are Table A3 (Appendix
    D.3), as printed (arXiv 2203.15556). Printed FLOPs and 6ND agree within
    5%, except Table A3's Approach-3 row for 175B, printed 1.26e24 where 6ND
    is 1.26e25: a misprinted exponent, kept as printed (see its ``notes``).

    >>> t = hoffmann_projections(1)
    >>> float(t.n_params[3]), float(t.flops[3]), float(t.n_tokens[3])
    (67000000000.0, 5.76e+23, 1500000000000.0)
    >>> float(hoffmann_projections(3).n_tokens[-1]) / 1e12    # 10T parameters: 1425.5T tokens
    1425.5
    """
    if isinstance(approach, (bool, np.bool_)) or not isinstance(approach, (int, np.integer, float, np.floating)) \
            or approach not in (1, 2, 3):
        raise ScalingLabError(f"approach must be 1, 2 or 3 (Hoffmann et al. 2022); got {approach!r}")
    approach = int(approach)
    filename = "hoffmann2022_table3.csv" if approach == 1 else "hoffmann2022_table_a3.csv"
    rows = [r for r in read_table(filename) if approach == 1 or r["approach"] == str(approach)]
    N, C, D = (np.array([number(r, column, filename) for r in rows]) for column in ("n_params", "flops", "n_tokens"))
    return Projection(tuple(r["name"] for r in rows), N, C, D, rows[0]["source"],
                      tuple(r.get("notes", "") for r in rows))


def check_runs(n_params, n_tokens, loss, flops=None, *, min_runs=1, purpose=""):
    """Validate a table of runs; return 1-D float arrays N, D, L and C (6ND when ``flops`` is None)."""
    arrays = {"n_params": as_positive("n_params", n_params, "parameters"),
              "n_tokens": as_positive("n_tokens", n_tokens, "tokens"), "loss": as_positive("loss", loss, "nats per token")}
    if flops is not None:
        arrays["flops"] = as_positive("flops", flops, "FLOPs")
    for argument, arr in arrays.items():
        if np.ndim(arr) != 1:
            raise ScalingLabError(f"{argument} must be 1-D, one entry per run; got shape {np.shape(arr)}")
    if len({a.size for a in arrays.values()}) > 1:
        raise ScalingLabError(f"{', '.join(arrays)} need one entry per run, so the same length; got lengths "
                              + ", ".join(f"{k} {v.size}" for k, v in arrays.items()))
    N, D, L = arrays["n_params"], arrays["n_tokens"], arrays["loss"]
    if L.size < min_runs:
        raise ScalingLabError(f"loss: need at least {min_runs} runs{' ' * bool(purpose)}{purpose}; got {L.size}")
    return N, D, L, arrays.get("flops", 6.0 * N * D)


def _budgets(flops, rtol=0.05):
    """Group runs into FLOP budgets: sorted FLOPs within a factor 1 + rtol of a group's smallest."""
    rtol = as_number("rtol", rtol, "a relative tolerance in [0, 1], such as 0.05", lambda x: 0 <= x <= 1)
    order = np.argsort(flops, kind="stable")
    groups, start = [], 0
    for i in range(1, order.size + 1):
        if i == order.size or flops[order[i]] > flops[order[start]] * (1 + rtol):
            groups.append(order[start:i])
            start = i
    return groups


@dataclass(frozen=True, eq=False)
class ComputeOptimalFit:
    """Per-budget optima and the power laws N_opt = k C**a, D_opt = k' C**b fitted to them (Approach 1 or 2)."""

    approach: int
    flops: np.ndarray          # FLOP budgets
    n_params: np.ndarray       # optimal parameters at each budget
    n_tokens: np.ndarray       # optimal tokens at each budget
    loss: np.ndarray           # loss at each optimum, nats/token
    n_params_law: PowerLawFit  # N_opt against C
    n_tokens_law: PowerLawFit  # D_opt against C

    @property
    def a(self) -> float:
        """Exponent of N_opt ∝ C**a (Hoffmann et al. 2022, Table 2)."""
        return self.n_params_law.exponent

    @property
    def b(self) -> float:
        """Exponent of D_opt ∝ C**b."""
        return self.n_tokens_law.exponent

    def __call__(self, flops) -> Allocation:
        """The fitted laws' parameters and tokens for a budget of ``flops`` FLOPs."""
        return Allocation(self.n_params_law(flops), self.n_tokens_law(flops))

    def __repr__(self):
        return (f"ComputeOptimalFit(approach={self.approach}, a={self.a:.3f}, b={self.b:.3f}, "
                f"budgets={self.flops.size}, {self.flops.min():.3g} to {self.flops.max():.3g} FLOPs)")

    def _repr_html_(self):
        rows = "".join(f"<tr><td>{c:.3g}</td><td>{n:.3g}</td><td>{d:.3g}</td><td>{d / n:.1f}</td><td>{l:.4f}</td></tr>"
                       for c, n, d, l in zip(self.flops, self.n_params, self.n_tokens, self.loss))
        return (f"<p>Approach {self.approach}: N<sub>opt</sub> ∝ C<sup>{self.a:.3f}</sup>, "
                f"D<sub>opt</sub> ∝ C<sup>{self.b:.3f}</sup></p><table><tr><th>FLOPs</th><th>N<sub>opt</sub></th>"
                f"<th>D<sub>opt</sub></th><th>D/N</th><th>loss (nats)</th></tr>{rows}</table>")


def _laws(approach, C, N, D, L) -> ComputeOptimalFit:
    if C.size < 2:
        raise ScalingLabError(f"flops: Approach {approach} needs optima at 2 or more FLOP budgets to fit "
                              f"N_opt ∝ C**a; got {C.size}")
    return ComputeOptimalFit(approach, C, N, D, L, fit_power_law(C, N), fit_power_law(C, D))


def fit_approach1(n_params, n_tokens, loss, flops=None, *, rtol=0.05) -> ComputeOptimalFit:
    """Approach 1: for each FLOP budget the lowest-loss run, then N_opt ∝ C**a and D_opt ∝ C**b.

    Hoffmann et al. 2022 (arXiv 2203.15556, section 3.1) take the envelope of
    the loss over every point of every training curve; from final losses
    only, the envelope at a budget is its best run. Runs whose FLOPs (6ND
    unless ``flops`` is given) lie within a factor 1 + ``rtol`` form one
    budget. Units: parameters, tokens, nats/token, FLOPs.

    On the synthetic runs (truth a = 0.513) the best run of each sweep is a
    coarse, noisy optimum:

    >>> runs = load_runs("synthetic")
    >>> round(fit_approach1(runs.n_params, runs.n_tokens, runs.loss).a, 2)
    0.55
    """
    N, D, L, C = check_runs(n_params, n_tokens, loss, flops, min_runs=2)
    best = [g[np.argmin(L[g])] for g in _budgets(C, rtol)]
    return _laws(1, C[best], N[best], D[best], L[best])


def fit_approach2(n_params, n_tokens, loss, flops=None, *, rtol=0.05) -> ComputeOptimalFit:
    """Approach 2: fit a parabola to loss against log N along each IsoFLOP curve, take its minimum.

    Hoffmann et al. 2022 (arXiv 2203.15556, section 3.2): for each budget C,
    L ≈ p0 + p1 log N + p2 (log N)**2, so N_opt = exp(-p1 / (2 p2)) and
    D_opt = C / (6 N_opt); then N_opt ∝ C**a, D_opt ∝ C**b. A budget needs 3
    or more model sizes; one whose parabola opens downwards has no minimum
    and is an error, and a minimum outside the sizes tried is a warning.

    On the synthetic runs (truth a = 0.513):

    >>> runs = load_runs("synthetic")
    >>> fit = fit_approach2(runs.n_params, runs.n_tokens, runs.loss)
    >>> round(fit.a, 2), round(fit.b, 2)
    (0.52, 0.48)
    """
    N, D, L, C = check_runs(n_params, n_tokens, loss, flops, min_runs=3)
    out, skipped = [], []
    for g in _budgets(C, rtol):
        budget = float(np.exp(np.log(C[g]).mean()))
        x = np.log(N[g])
        if np.unique(x).size < 3:
            skipped.append(f"{budget:.3g}")
            continue
        p2, p1, p0 = np.polyfit(x - x.mean(), L[g], 2)
        if not p2 > 0:
            raise ScalingLabError(f"loss: the IsoFLOP curve at {budget:.3g} FLOPs curves downwards "
                                  f"(parabola coefficient {p2:.3g} on (log N)**2): it has no minimum")
        x_opt = x.mean() - p1 / (2 * p2)
        if not x.min() <= x_opt <= x.max():
            warnings.warn(f"the IsoFLOP minimum at {budget:.3g} FLOPs, N = {math.exp(x_opt):.3g}, lies outside "
                          f"the model sizes tried ({N[g].min():.3g} to {N[g].max():.3g}): an extrapolation",
                          stacklevel=2)
        n_opt = math.exp(x_opt)
        out.append((budget, n_opt, budget / (6 * n_opt), p0 - p1 ** 2 / (4 * p2)))
    if skipped:
        warnings.warn(f"skipped FLOP budgets with fewer than 3 model sizes: {', '.join(skipped)}", stacklevel=2)
    C_, N_, D_, L_ = (np.array(v) for v in zip(*out)) if out else (np.array([]),) * 4
    return _laws(2, C_, N_, D_, L_)
