"""Explorers of lessons 06 and 07, without widgets: refitting a law to a chosen set of runs.

Like :mod:`scalinglab.explorers`: a pure ``compute_*`` and a ``plot_*`` that
returns a :class:`~scalinglab.explorers.Plot` whose ``update`` moves artists
in place. The widget wrappers are in :mod:`scalinglab.widgets`.

A full Approach-3 fit (4,500 starts) takes 0.2 to 0.5 s, too slow for a slider. So a ``compute_*``
given ``warm`` fits (earlier optima) first refines only those starts (a few ms) and marks the view
``provisional``; the widget shows it at once and computes the full fit in the background. Full fits
are cached: the final view is exactly :func:`~scalinglab.fitting.fit_chinchilla`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from threading import Lock

import numpy as np
from matplotlib.figure import Figure

from ._checks import ScalingLabError
from .chinchilla import chinchilla_loss, compute_optimal
from .explorers import FIGSIZE, Plot, _no_minor_ticks
from .fitting import fit_chinchilla, load_runs
from .sweep import load_sweep
from .units import format_quantity
from .zipf import zipf_entropy

N_CURVE = np.logspace(6.5, 10.5, 120)     # parameters, for the fitted IsoFLOP curves of lesson 06


# --- lesson 06: refit on a range of budgets ---------------------------------------------------------

@dataclass(frozen=True)
class RefitView:
    min_flops: float
    max_flops: float
    included: np.ndarray       # bool per run
    runs: object               # scalinglab.fitting.Runs
    fit: object                # Approach3Fit, or None when too few runs are included
    message: str               # why there is no fit, if there is none
    budgets: np.ndarray        # the distinct budgets of the runs, FLOPs
    curves: np.ndarray         # fitted loss along N_CURVE for each budget (NaN without a fit)
    provisional: bool = False  # refined from earlier optima only; the full 4,500-start fit is still to come

    @property
    def tokens_per_param(self):
        """Compute-optimal tokens per parameter of the fit at 1e22 FLOPs (None without a fit)."""
        return None if self.fit is None else compute_optimal(1e22, fit=self.fit).tokens_per_param


_FULL_FITS: dict = {}        # (what, ...) -> (fit or None, message): full fits, computed once
_FULL_FITS_LOCK = Lock()


def _full_fit(key, n_params, n_tokens, loss):
    """fit_chinchilla with its 4,500 starts, cached under ``key``: (fit, "") or (None, why not)."""
    with _FULL_FITS_LOCK:
        if key in _FULL_FITS:
            return _FULL_FITS[key]
    try:
        found = fit_chinchilla(n_params, n_tokens, loss, progress=False), ""
    except ScalingLabError as exc:
        found = None, str(exc)
    with _FULL_FITS_LOCK:
        return _FULL_FITS.setdefault(key, found)


def _quick_fit(key, n_params, n_tokens, loss, warm):
    """The full fit if it is cached; else refine only the optima of the ``warm`` fits: (fit, "", provisional)."""
    with _FULL_FITS_LOCK:
        if key in _FULL_FITS:
            return (*_FULL_FITS[key], False)
    starts = [(np.log(f.A), np.log(f.B), np.log(f.E), f.alpha, f.beta) for f in warm if f is not None]
    if starts:
        try:
            return fit_chinchilla(n_params, n_tokens, loss, starts=starts, progress=False), "", True
        except ScalingLabError:
            pass      # too few runs, say: the full fit says why, as fast
    return (*_full_fit(key, n_params, n_tokens, loss), False)


def known_fits(limit: int = 8) -> list:
    """The most recent full fits of this module's explorers: good starts for a quick refit."""
    with _FULL_FITS_LOCK:
        return [fit for fit, _ in list(_FULL_FITS.values())[-limit:] if fit is not None]


def compute_refit(min_flops, max_flops, runs="synthetic", warm=None) -> RefitView:
    """Fit Approach 3 (Hoffmann's objective and start grid) to the runs whose budget is in [min, max] FLOPs.

    ``warm``: earlier fits; unless the full fit is already cached, only their optima are refined
    (a few milliseconds) and the view is marked ``provisional``.
    """
    lo, hi = sorted((float(min_flops), float(max_flops)))
    table = load_runs(runs)
    keep = (table.flops >= lo * (1 - 1e-9)) & (table.flops <= hi * (1 + 1e-9))
    data, key = (table.n_params[keep], table.n_tokens[keep], table.loss[keep]), ("refit", runs, lo, hi)
    if warm is None:
        fit, message, provisional = (*_full_fit(key, *data), False)
    else:
        fit, message, provisional = _quick_fit(key, *data, warm)
    budgets = np.unique(table.flops)
    if fit is None:
        curves = np.full((budgets.size, N_CURVE.size), np.nan)
    else:
        curves = np.array([chinchilla_loss(N_CURVE, c / (6 * N_CURVE), fit=fit) for c in budgets])
    return RefitView(lo, hi, keep, table, fit, message, budgets, curves, provisional)


def plot_refit(view: RefitView, truth=None) -> Plot:
    """The runs (included: dark, left out: faint) and the fitted IsoFLOP curves of every budget."""
    fig = Figure(figsize=FIGSIZE, dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.set_xscale("log")
    ax.set_xlim(N_CURVE[0], N_CURVE[-1])
    loss = view.runs.loss
    ax.set_ylim(loss.min() - 0.05, loss.max() + 0.05)     # every run in view, the smallest budget's too
    ax.set_xlabel("model size N (parameters)")
    ax.set_ylabel("final loss (nats/token)")
    ax.grid(True, alpha=0.3)
    _no_minor_ticks(ax)
    out = ax.scatter([], [], s=12, color="0.75", label="runs left out")
    inside = ax.scatter([], [], s=14, color="C0", label="runs in the fit")
    lines = [ax.plot(N_CURVE, row, color="C3", lw=1.2)[0] for row in view.curves]
    lines[0].set_label("fitted law, each budget")
    ax.legend(loc="upper right", fontsize=8)
    title = ax.set_title("")

    def update(v: RefitView):
        points = np.column_stack([v.runs.n_params, v.runs.loss])
        inside.set_offsets(points[v.included])
        out.set_offsets(points[~v.included])
        for line, row in zip(lines, v.curves):
            line.set_ydata(row)
        span = f"{format_quantity(v.min_flops)}–{format_quantity(v.max_flops)} FLOPs"
        title.set_text((f"Approach 3 refitted on {int(v.included.sum())} runs, budgets {span}"
                        + (" (refining…)" if v.provisional else ""))
                       if v.fit is not None else f"No fit on {int(v.included.sum())} runs ({span})")

    update(view)
    return Plot(fig, [out, inside, *lines, title], update)


# --- lesson 07: the miniseries for several Zipf exponents ---------------------------------------------

@dataclass(frozen=True)
class MiniseriesView:
    exponent: float
    table: object            # SweepTable
    fit: object              # Approach3Fit
    exact_entropy: float     # nats per character
    n_grid: np.ndarray
    token_values: np.ndarray
    fitted_curves: np.ndarray   # fitted loss along n_grid, one row per token budget
    provisional: bool = False   # refined from earlier optima only; the full 4,500-start fit is still to come

    @property
    def entropy_error(self) -> float:
        """(fitted E - exact E) / exact E."""
        return self.fit.E / self.exact_entropy - 1

    def tokens_per_param(self, flops: float) -> float:
        return compute_optimal(flops, fit=self.fit).tokens_per_param


MINISERIES_EXPONENTS = (1.3, 1.5, 2.0)   # the Zipf exponents with a cached sweep in scalinglab/data


@lru_cache(maxsize=1)
def _miniseries_loss_range():
    tables = [load_sweep(a) for a in MINISERIES_EXPONENTS]
    low = min(zipf_entropy(a) for a in MINISERIES_EXPONENTS) - 0.1
    high = max(float(t["loss"].max()) for t in tables) + 0.05
    return max(low, 0.0), high


def compute_miniseries(exponent, warm=None) -> MiniseriesView:
    """The cached sweep for a Zipf exponent, its Approach-3 fit and the exact irreducible loss.

    ``warm``: earlier fits; unless the full fit is already cached, only their optima are refined
    (a few milliseconds) and the view is marked ``provisional``.
    """
    table = load_sweep(float(exponent))
    data, key = (table["n_params"], table["n_tokens"], table["loss"]), ("miniseries", float(exponent))
    if warm is None:
        fit, message, provisional = (*_full_fit(key, *data), False)
    else:
        fit, message, provisional = _quick_fit(key, *data, warm)
    if fit is None:
        raise ScalingLabError(f"exponent {exponent}: {message}")
    n_grid = np.logspace(np.log10(table["n_params"].min()) - 0.1, np.log10(table["n_params"].max()) + 0.1, 100)
    tokens = np.unique(table["n_tokens"])
    curves = np.array([chinchilla_loss(n_grid, d, fit=fit) for d in tokens])
    return MiniseriesView(float(exponent), table, fit, zipf_entropy(float(exponent)), n_grid, tokens, curves,
                          provisional)


def plot_miniseries(view: MiniseriesView) -> Plot:
    """Measured losses against model size for each data budget, the fitted law, and both entropies."""
    fig = Figure(figsize=FIGSIZE, dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.set_xscale("log")
    ax.set_xlim(view.n_grid[0], view.n_grid[-1])
    low, high = _miniseries_loss_range()
    ax.set_ylim(low, high)                   # one range for every exponent, so the axes never move
    ax.set_xlabel("model size N (parameters)")
    ax.set_ylabel("held-out loss (nats/character)")
    ax.grid(True, alpha=0.3)
    _no_minor_ticks(ax)
    colours = [f"C{i}" for i in range(len(view.token_values))]
    dots = [ax.plot([], [], "o", color=c, ms=5, label=f"D = {format_quantity(d)}")[0]
            for c, d in zip(colours, view.token_values)]
    curves = [ax.plot(view.n_grid, row, color=c, lw=1.2)[0] for c, row in zip(colours, view.fitted_curves)]
    exact = ax.axhline(view.exact_entropy, color="k", ls="--", lw=1.2, label="exact entropy E")
    fitted = ax.axhline(view.fit.E, color="C3", ls=":", lw=1.5, label="fitted E")
    ax.legend(loc="lower left", fontsize=7, ncol=4)
    title = ax.set_title("")

    def update(v: MiniseriesView):
        for dot, curve, d, row in zip(dots, curves, v.token_values, v.fitted_curves):
            rows = v.table["n_tokens"] == d
            dot.set_data(v.table["n_params"][rows], v.table["loss"][rows])
            curve.set_data(v.n_grid, row)
        exact.set_ydata([v.exact_entropy, v.exact_entropy])
        fitted.set_ydata([v.fit.E, v.fit.E])
        title.set_text(f"Zipf exponent a = {v.exponent:g}: fitted E is {100 * v.entropy_error:+.1f}% off the exact"
                       + (" (refining…)" if v.provisional else ""))

    update(view)
    return Plot(fig, [*dots, *curves, exact, fitted, title], update)
