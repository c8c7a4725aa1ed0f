"""Lesson 11's explorer: your challenge runs as IsoFLOP slices, the extrapolated optimum and the budget left.

:func:`study_runs` does the slow part once per set of runs: it groups runs by budget (within 5%),
fits a parabola in log N to each budget with 3 or more sizes (Approach 2 of Hoffmann et al. 2022,
arXiv 2203.15556, section 3.2), fits N_opt = k C**a to the minima, and repeats both on bootstrap
resamples of the runs within each budget (as lesson 07 does for Approach 3). :func:`compute_challenge`
only reads percentiles of those resamples at the chosen confidence level, so a slider move costs a
few milliseconds; :func:`plot_challenge` draws it. :class:`ChallengeExplorer` wires a slider to them;
``explorer.refresh()`` rereads the challenge's runs after you train more.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from ._checks import ScalingLabError, as_count, as_number, as_positive, as_seed
from ._explorer import _STYLE, Explorer, FigureImage, _slider_layout, _table
from .approaches import _budgets
from .challenge_law import BUDGET_FLOPS, TARGET_FLOPS, RunHistory
from .explorers import Plot, _no_minor_ticks
from .units import format_quantity

MAX_BOOT = 2_000


@dataclass(frozen=True, eq=False)
class ChallengeStudy:
    """Runs grouped into IsoFLOP slices, each slice's parabola, and the optimum law with its resamples."""

    n_params: np.ndarray     # parameters, per run
    loss: np.ndarray         # nats/token, per run
    slice_of: np.ndarray     # index of each run's slice
    budgets: np.ndarray      # FLOPs of each slice (geometric mean of its runs)
    optima: np.ndarray       # (slices, 2): N_opt (parameters) and L_opt (nats) of each slice's parabola, NaN if none
    parabolas: np.ndarray    # (slices, 3): coefficients in x = ln N, highest first, NaN if none
    law: tuple | None        # (ln k, a) of N_opt = k C**a, or None with fewer than 2 optima
    samples: np.ndarray      # (resamples, 2) of (ln k, a); rows of NaN where a resample had no law
    budget_left: float       # FLOPs
    budget: float = BUDGET_FLOPS
    target: float = TARGET_FLOPS

    @property
    def n_runs(self) -> int:
        return int(self.n_params.size)


def _parabola(x, y):
    if np.unique(x).size < 3:
        return None
    p = np.polyfit(x, y, 2)
    return p if p[0] > 0 else None


def _optima(x, L, groups, slices, spans=None):
    """(N_opt, L_opt) per slice from the runs ``groups`` (index arrays), NaN where there is no minimum, or
    where it lies outside ``spans`` (per slice: (low, high) of ln N), when given."""
    out = np.full((slices, 2), np.nan)
    coeffs = np.full((slices, 3), np.nan)
    for j, g in enumerate(groups):
        p = _parabola(x[g], L[g])
        if p is not None:
            x_opt = -p[1] / (2 * p[0])
            if spans is not None and not spans[j][0] <= x_opt <= spans[j][1]:
                continue
            out[j] = np.exp(x_opt), np.polyval(p, x_opt)
            coeffs[j] = p
    return out, coeffs


def _law(budgets, n_opt):
    ok = np.isfinite(n_opt)
    if ok.sum() < 2 or np.unique(budgets[ok]).size < 2:
        return None
    a, lnk = np.polyfit(np.log(budgets[ok]), np.log(n_opt[ok]), 1)
    return float(lnk), float(a)


def study_runs(n_params, n_tokens, loss, *, budget_left=BUDGET_FLOPS, n_boot=300, seed=0) -> ChallengeStudy:
    """Group runs into IsoFLOP slices, fit each slice's parabola and N_opt ∝ C**a, with ``n_boot`` resamples.

    ``n_params`` in parameters, ``n_tokens`` in tokens, ``loss`` in nats/token (one entry each per run,
    possibly none); ``budget_left`` in FLOPs.
    """
    N = np.atleast_1d(as_positive("n_params", n_params, "parameters")) if np.size(n_params) else np.zeros(0)
    D = np.atleast_1d(as_positive("n_tokens", n_tokens, "tokens")) if np.size(n_tokens) else np.zeros(0)
    L = np.atleast_1d(as_positive("loss", loss, "nats per token")) if np.size(loss) else np.zeros(0)
    if not N.shape == D.shape == L.shape or N.ndim != 1:
        raise ScalingLabError(f"n_params, n_tokens and loss must be lists of one entry per run; got shapes "
                              f"{np.shape(N)}, {np.shape(D)} and {np.shape(L)}")
    left = as_number("budget_left", budget_left, "the FLOPs left, a number >= 0", lambda v: v >= 0)
    n_boot = as_count("n_boot", n_boot, "resamples", minimum=0, maximum=MAX_BOOT, why="more would be slow")
    rng = np.random.default_rng(as_seed("seed", seed))
    C = 6.0 * N * D
    groups = _budgets(C, 0.05) if N.size else []
    budgets = np.array([np.exp(np.log(C[g]).mean()) for g in groups])
    slice_of = np.zeros(N.size, dtype=int)
    for j, g in enumerate(groups):
        slice_of[g] = j
    x = np.log(N)
    optima, parabolas = _optima(x, L, groups, len(groups))
    law = _law(budgets, optima[:, 0]) if len(groups) else None
    samples = np.full((n_boot, 2), np.nan)
    # a resample's minimum counts only within the slice's sizes, widened by a factor 2 each way: a parabola
    # through three nearby points can be nearly flat, with a "minimum" decades away
    spans = [(x[g].min() - np.log(2), x[g].max() + np.log(2)) for g in groups]
    if law is not None:
        for i in range(n_boot):
            picked = [g[rng.integers(0, g.size, g.size)] for g in groups]
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = _law(budgets, _optima(x, L, picked, len(groups), spans)[0][:, 0])
            if fit is not None:
                samples[i] = fit
    return ChallengeStudy(N, L, slice_of, budgets, optima, parabolas, law, samples, left)


@dataclass(frozen=True, eq=False)
class ChallengeView:
    study: ChallengeStudy
    level: float                 # confidence level of the band
    c_grid: np.ndarray           # FLOPs, from the smallest slice to the target
    n_opt: np.ndarray            # fitted N_opt along c_grid (NaN without a law)
    band: np.ndarray             # (2, grid): low and high N_opt at ``level``
    target_n: float              # fitted N_opt at the target, parameters (NaN without a law)
    target_band: tuple           # (low, high) at the target


def compute_challenge(study: ChallengeStudy, level=0.9) -> ChallengeView:
    """The fitted optimum N_opt(C) from the smallest slice to the target, with a ``level`` bootstrap band."""
    level = as_number("level", level, "a confidence level in (0, 1), such as 0.9", lambda v: 0 < v < 1)
    low = study.budgets.min() if study.budgets.size else 1e14
    c_grid = np.logspace(np.log10(low) - 0.2, np.log10(study.target) + 0.2, 60)
    nan = np.full(c_grid.size, np.nan)
    if study.law is None:
        return ChallengeView(study, level, c_grid, nan, np.vstack([nan, nan]), np.nan, (np.nan, np.nan))
    lnk, a = study.law
    n_opt = np.exp(lnk + a * np.log(c_grid))
    good = study.samples[np.isfinite(study.samples[:, 0])]
    if good.shape[0] >= 10:
        lines = good[:, :1] + good[:, 1:] * np.log(c_grid)[None, :]
        q = np.exp(np.percentile(lines, [50 * (1 - level), 50 * (1 + level)], axis=0))
    else:
        q = np.vstack([nan, nan])
    target = np.exp(lnk + a * np.log(study.target))
    at = [float(np.exp(np.interp(np.log(study.target), np.log(c_grid), np.log(row)))) for row in q]
    return ChallengeView(study, level, c_grid, n_opt, q, float(target), tuple(at))


def _limits(values, pad):
    values = values[np.isfinite(values) & (values > 0)]
    return (values.min() / pad, values.max() * pad) if values.size else None


def plot_challenge(view: ChallengeView) -> Plot:
    """Left: the runs as IsoFLOP slices with their parabolas. Right: N_opt against C, extrapolated to the
    target with its band, and the 20-tokens-per-parameter rule. Bottom: the budget spent and left."""
    s = view.study
    fig = Figure(figsize=(10.5, 4.6), dpi=100, layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=[9, 1])
    ax, bx, budget_ax = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :])
    ax.set_xscale("log")
    n_lim = _limits(s.n_params, 1.6) or (1e5, 1e10)
    ax.set_xlim(n_lim)
    l_lim = _limits(s.loss, 1.0)
    span = (l_lim[1] - l_lim[0]) if l_lim else 1.0
    ax.set_ylim((l_lim[0] - 0.08 * span - 1e-3, l_lim[1] + 0.08 * span + 1e-3) if l_lim else (0, 3))
    ax.set_xlabel("model size N (parameters)")
    ax.set_ylabel("final loss (nats/token)")
    ax.set_title(f"IsoFLOP slices: {s.n_runs} runs" if s.n_runs else "No runs yet: train some")
    ax.grid(True, alpha=0.3)
    _no_minor_ticks(ax)
    grid_x = np.linspace(np.log(n_lim[0]), np.log(n_lim[1]), 80)
    for j, C in enumerate(s.budgets):
        colour = f"C{j % 10}"
        rows = s.slice_of == j
        ax.plot(s.n_params[rows], s.loss[rows], "o", ms=5, color=colour, label=f"C = {C:.0e}".replace("e+", "e"))
        if np.isfinite(s.parabolas[j, 0]):
            ax.plot(np.exp(grid_x), np.polyval(s.parabolas[j], grid_x), color=colour, lw=1, alpha=0.8)
            ax.plot(*s.optima[j], "x", color="k", ms=7, mew=1.5)
    if s.budgets.size:
        ax.legend(fontsize=7, loc="upper right", ncol=2)
    # right: the optimum against compute
    bx.set_xscale("log")
    bx.set_yscale("log")
    bx.set_xlim(view.c_grid[0], view.c_grid[-1])
    rule = np.sqrt(view.c_grid / 120)           # N = sqrt(C / (6 x 20)): 20 tokens per parameter
    values = np.concatenate([rule, view.n_opt[np.isfinite(view.n_opt)], s.optima[:, 0][np.isfinite(s.optima[:, 0])]])
    bx.set_ylim(values.min() / 3, values.max() * 3)
    bx.plot(view.c_grid, rule, color="0.5", ls="--", lw=1, label="20 tokens per parameter")
    bx.plot(s.budgets, s.optima[:, 0], "x", color="k", ms=7, mew=1.5, label="slice minima")
    bx.axvline(s.target, color="C3", lw=1, ls=":", label=f"target {format_quantity(s.target)}")
    bx.plot(view.c_grid, view.n_opt, color="C3", lw=1.5, label="fitted N_opt ∝ C^a")
    band = Polygon(np.zeros((3, 2)), closed=True, color="C3", alpha=0.18, lw=0)
    bx.add_patch(band)
    band.set_label("bootstrap band")
    bx.set_xlabel("compute C (FLOPs)")
    bx.set_ylabel("compute-optimal N (parameters)")
    bx.grid(True, alpha=0.3)
    _no_minor_ticks(bx)
    bx.legend(fontsize=7, loc="upper left")
    title = bx.set_title("")
    # bottom: the budget
    spent = s.budget - s.budget_left
    budget_ax.barh([0], [spent / s.budget], color="C0")
    budget_ax.barh([0], [s.budget_left / s.budget], left=[spent / s.budget], color="0.85")
    budget_ax.set_xlim(0, 1)
    budget_ax.set_yticks([])
    budget_ax.set_xlabel(f"share of the budget spent: {spent:.3g} FLOPs spent, {s.budget_left:.3g} left of "
                         f"{s.budget:.3g}")

    def update(v: ChallengeView):
        ok = np.isfinite(v.band).all(axis=0)
        if ok.any():
            xs = v.c_grid[ok]
            band.set_xy(np.column_stack([np.r_[xs, xs[::-1]], np.r_[v.band[0, ok], v.band[1, ok][::-1]]]))
        else:
            band.set_xy(np.zeros((3, 2)))
        if np.isfinite(v.target_n):
            title.set_text(f"Optimum at the target: N ≈ {format_quantity(v.target_n)} "
                           f"[{format_quantity(v.target_band[0])}, {format_quantity(v.target_band[1])}] "
                           f"at {v.level:.0%}")
        else:
            title.set_text("Optimum: needs minima at 2 or more budgets")

    update(view)
    return Plot(fig, [band, title], update)


class ChallengeExplorer(Explorer):
    """Lesson 11: your runs so far, the optimum they imply at the target, and the budget left.

    ``ChallengeExplorer(challenge)``; after more runs, ``explorer.refresh()``. The slider sets the
    confidence level of the bootstrap band. ``ChallengeExplorer(runs=[(n_params, n_tokens, loss), ...])``
    shows a fixed list of runs instead (the budget left is the budget minus their 6ND). Without either,
    your own challenge if you have made runs, else a demonstration on the practice round.
    """

    title = "Your challenge: IsoFLOP slices, the extrapolated optimum, the budget"

    def __init__(self, challenge=None, level=0.9, n_boot=300, runs=None):
        self.note = ""
        if runs is not None:
            challenge = _FixedRuns(runs)
        elif challenge is None:
            challenge, self.note = _yours_or_demonstration()
        self.challenge, self.n_boot = challenge, n_boot
        self.study = self._study()
        controls = {"level": widgets.FloatSlider(value=level, min=0.5, max=0.99, step=0.01,
                                                 description="confidence level", style=_STYLE,
                                                 layout=_slider_layout())}
        super().__init__(controls, plot_challenge)

    def _study(self) -> ChallengeStudy:
        h = self.challenge.history
        return study_runs(h.n_params, h.n_tokens, h.loss, budget_left=self.challenge.budget_left, n_boot=self.n_boot)

    def compute(self, level):
        return compute_challenge(self.study, level)

    def refresh(self) -> None:
        """Reread the challenge's runs, refit, and redraw everything."""
        self.study = self._study()
        result = self.compute(**self.values())
        with self._lock:
            image = self.figure.image
            self.figure = FigureImage(plot_challenge(result))
            self.figure.image = image
            self.result = result
            self.figure.redraw()
            self.readout.value = self.describe(result)

    def describe(self, v: ChallengeView) -> str:
        s = v.study
        rows = [("showing", html.escape(self.note))] if self.note else []
        rows += [("runs", f"{s.n_runs} in {s.budgets.size} slice{'s' if s.budgets.size != 1 else ''}"),
                ("budget left", f"{s.budget_left:.3g} of {s.budget:.3g} FLOPs")]
        if s.law is not None:
            d = s.target / (6 * v.target_n)
            used = int(np.isfinite(s.samples[:, 0]).sum())
            rows += [("fitted exponent a", f"{s.law[1]:.3f} ({used} of {len(s.samples)} resamples gave a law)"),
                     (f"N at {s.target:.0e} FLOPs", f"{format_quantity(v.target_n)} parameters "
                      f"({v.level:.0%}: {format_quantity(v.target_band[0])} to {format_quantity(v.target_band[1])})"),
                     ("D = C / 6N", f"{format_quantity(d)} tokens ({d / v.target_n:.1f} per parameter)")]
        else:
            rows.append(("optimum", html.escape("needs 3+ sizes at each of 2+ budgets")))
        return _table(rows)


class _FixedRuns:
    """A fixed list of runs (n_params, n_tokens, loss) with the challenge's budget: what the explorer reads."""

    def __init__(self, runs):
        try:
            rows = [tuple(float(v) for v in r) for r in runs]
        except (TypeError, ValueError):
            raise ScalingLabError("runs must be a list of (n_params, n_tokens, loss) triples") from None
        if not all(len(r) == 3 for r in rows):
            raise ScalingLabError("runs must be a list of (n_params, n_tokens, loss) triples")
        self.history = RunHistory("fixed runs", tuple({"n_params": n, "n_tokens": d, "flops": 6 * n * d, "loss": x}
                                                      for n, d, x in rows))
        self.budget_left = max(0.0, BUDGET_FLOPS - float(self.history.flops.sum()))


def _yours_or_demonstration():
    """(your challenge, "") if it has runs; else (the practice round with 2 budgets x 4 sizes, a note)."""
    from .challenge import Challenge

    try:
        yours = Challenge()
        if len(yours.history):
            return yours, ""
    except ScalingLabError:      # no server, or a grading kernel: the demonstration still works
        pass
    demo = Challenge(practice=True)
    for flops in (1e15, 1e16):
        for factor in (0.3, 0.7, 1.5, 3.5):
            n = np.sqrt(flops / 120) * factor            # around 20 tokens per parameter
            demo.train(n, flops / (6 * n))
    return demo, "a demonstration on the practice round (you have no runs yet)"
