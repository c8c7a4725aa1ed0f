"""The lessons' explorers, without widgets: a pure ``compute_*`` and a ``plot_*`` for each.

``compute_*`` functions turn control values into numbers (testable anywhere);
``plot_*`` functions draw them on a matplotlib Figure and return a
:class:`Plot` whose ``update(result)`` moves the changing artists in place.
:mod:`scalinglab.widgets` wires them to sliders. Figures are built with
``matplotlib.figure.Figure`` (not pyplot), so nothing is shown unless asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from .chinchilla import chinchilla_fit, chinchilla_loss, compute_optimal, isoflop_curve
from .flops import transformer_flops, transformer_params
from .kaplan import kaplan_loss, kaplan_overfit_penalty
from .powerlaw import power_law
from .training import HIGHEST_REPORTED_MFU, training_time
from .units import format_quantity

FIGSIZE = (7.2, 4.0)   # inches; legible at notebook width at 100 dpi


@dataclass
class Plot:
    """A drawn figure and the artists that change; ``update(result)`` moves them.

    ``rescale(result)``, if given, moves axis limits to fit a result and returns whether any moved
    (then the static background must be redrawn). ``widest()``, if given, puts the figure in the
    state with the widest tick labels and returns a function that undoes it: the layout is computed
    once, in that state, and then kept, so later redraws skip the layout engine and no label is cut.
    """

    figure: Figure
    dynamic: list = field(default_factory=list)   # artists redrawn on every update
    updater: object = None
    rescale: object = None
    widest: object = None

    def update(self, result) -> None:
        self.updater(result)


def _no_minor_ticks(ax):
    # Minor ticks on log axes are about half of matplotlib's draw time; explorers do without.
    ax.xaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_minor_locator(NullLocator())


# --- lesson 01: power laws ------------------------------------------------------------------------

@dataclass(frozen=True)
class PowerLawView:
    coefficient: float
    exponent: float
    x: np.ndarray
    y: np.ndarray
    doubling_factor: float     # y(2x) / y(x) = 2**exponent
    halving_multiplier: float  # how many times larger x must be to halve y (inf if y does not fall)


def compute_power_law(coefficient, exponent, x_min=1.0, x_max=1000.0, n_points=200) -> PowerLawView:
    """y = coefficient * x**exponent on a log-spaced grid, and what doubling x does to y."""
    x = np.logspace(np.log10(x_min), np.log10(x_max), n_points)
    y = power_law(x, coefficient, exponent)
    halving = 2.0 ** (-1.0 / exponent) if exponent < 0 else float("inf")
    return PowerLawView(float(coefficient), float(exponent), x, y, 2.0 ** exponent, halving)


def plot_power_law(view: PowerLawView) -> Plot:
    """The same power law on linear axes (left) and log-log axes (right)."""
    fig = Figure(figsize=FIGSIZE, dpi=100, layout="constrained")
    lin, log = fig.subplots(1, 2)
    lines = []
    for ax, scale in ((lin, "linear"), (log, "log")):
        ax.set_xscale(scale)
        ax.set_yscale(scale)
        ax.set_xlim(view.x[0] if scale == "log" else 0, view.x[-1])
        ax.set_ylim((1e-2, 1e4) if scale == "log" else (0, linear_ylim(view)))
        ax.set_xlabel("x (e.g. compute, any unit)")
        ax.set_ylabel("y = a·x^k")
        ax.grid(True, alpha=0.3)
        _no_minor_ticks(ax)
        (line,) = ax.plot(view.x, view.y, lw=2.5, color="C0")
        lines.append(line)
    lin.set_title("linear axes")
    log.set_title("log-log axes")
    title = fig.suptitle("")

    def update(v: PowerLawView):
        for line in lines:
            line.set_data(v.x, v.y)
        title.set_text(f"y = {v.coefficient:.3g} · x^{v.exponent:+.2f}   (slope on log-log axes = {v.exponent:+.2f})")

    def rescale(v: PowerLawView) -> bool:
        # keep the curve inside the linear panel, filling at least a quarter of it; the limit moves on a
        # coarse ladder and only when the curve leaves that band, so most moves are blitted
        top, peak = lin.get_ylim()[1], float(np.max(v.y))
        if top / 4 < peak <= top or (peak <= 1.0 and top == 1.0) or (peak > 1e4 and top == 1e4):
            return False
        lin.set_ylim(0, linear_ylim(v))
        return True

    def widest():
        old = lin.get_ylim()
        lin.set_ylim(0, 1e4)           # "10000": the widest tick label of the linear panel
        return lambda: lin.set_ylim(*old)

    update(view)
    plot = Plot(fig, [*lines, title], update, rescale, widest)
    plot.linear_axes = lin
    return plot


def linear_ylim(view: PowerLawView) -> float:
    """Top of the linear panel: the curve's largest value rounded up on a 1-2.5-5 ladder (1 to 1e4)."""
    peak = float(np.clip(np.max(view.y), 1.0, 1e4))
    for top in (m * 10.0 ** e for e in range(0, 5) for m in (1, 2.5, 5)):
        if top >= peak:
            return top
    return 1e4


# --- lesson 02: Kaplan et al. 2020 ----------------------------------------------------------------

KAPLAN_N_GRID = np.logspace(6, 12, 200)          # non-embedding parameters
KAPLAN_REFERENCE_TOKENS = (1e8, 1e9, 1e10, 1e11, 1e12)


@dataclass(frozen=True)
class KaplanView:
    n_params: float
    n_tokens: float
    n_grid: np.ndarray
    loss_curve: np.ndarray         # L(N, D) along n_grid at n_tokens
    loss: float                    # L(N, D) at the marker
    loss_infinite_data: float      # the D -> infinity limit of eq. 1.5 at the marker
    overfit_penalty: float         # loss / loss_infinite_data - 1


def compute_kaplan(n_params, n_tokens, n_grid=KAPLAN_N_GRID) -> KaplanView:
    """Kaplan's L(N, D) (eq. 1.5) along a range of model sizes at a fixed dataset size."""
    curve = kaplan_loss(n_params=n_grid, n_tokens=n_tokens)
    loss = kaplan_loss(n_params=n_params, n_tokens=n_tokens)
    penalty = kaplan_overfit_penalty(n_params, n_tokens)
    return KaplanView(float(n_params), float(n_tokens), n_grid, curve, loss, loss / (1 + penalty), penalty)


def plot_kaplan(view: KaplanView, reference_tokens=KAPLAN_REFERENCE_TOKENS) -> Plot:
    """Loss against model size for several dataset sizes, with the chosen one highlighted."""
    fig = Figure(figsize=FIGSIZE, dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(view.n_grid[0] / 1.5, view.n_grid[-1] * 1.5)   # room for the marker at either end
    ax.set_ylim(1.3, 6.0)
    ax.set_yticks([1.5, 2, 3, 4, 5, 6], labels=["1.5", "2", "3", "4", "5", "6"])
    ax.set_xlabel("non-embedding parameters N")
    ax.set_ylabel("test loss L(N, D) (nats/token)")
    ax.grid(True, alpha=0.3)
    _no_minor_ticks(ax)
    for i, d in enumerate(reference_tokens):
        curve = kaplan_loss(n_params=view.n_grid, n_tokens=d)
        ax.plot(view.n_grid, curve, color="0.6", lw=1)
        ax.annotate(f"D = {format_quantity(d)}", (view.n_grid[-1], curve[-1]), xytext=(-4, 4),
                    textcoords="offset points", ha="right", fontsize=8, color="0.4")
    ax.plot(view.n_grid, kaplan_loss(n_params=view.n_grid, n_tokens=1e30), color="k", ls="--", lw=1,
            label="infinite data")
    (line,) = ax.plot(view.n_grid, view.loss_curve, color="C3", lw=2.5, label="chosen D")
    (marker,) = ax.plot([view.n_params], [view.loss], "o", color="C3", ms=9)
    ax.legend(loc="lower left", fontsize=9)
    title = ax.set_title("")

    def update(v: KaplanView):
        line.set_data(v.n_grid, v.loss_curve)
        marker.set_data([v.n_params], [v.loss])
        title.set_text(f"Kaplan L(N, D), eq. 1.5: D = {format_quantity(v.n_tokens)} tokens")

    update(view)
    return Plot(fig, [line, marker, title], update)


# --- lesson 03: Chinchilla IsoFLOP curves -----------------------------------------------------------

ISOFLOP_N_GRID = np.logspace(7, 13, 240)          # parameters
ISOFLOP_REFERENCE_BUDGETS = (1e18, 1e20, 1e22, 1e24, 1e26)


@dataclass(frozen=True)
class IsoFlopView:
    flops: float
    n_params: float
    fit: str
    n_grid: np.ndarray
    loss_curve: np.ndarray
    n_tokens: float                 # tokens the marker's model gets: C / (6N)
    loss: float
    tokens_per_param: float
    optimal_n_params: float
    optimal_n_tokens: float
    optimal_loss: float

    @property
    def excess_loss(self) -> float:
        """How much worse the marker's model is than the optimum, in nats/token."""
        return self.loss - self.optimal_loss


def compute_isoflop(flops, n_params, fit="hoffmann2022", n_grid=ISOFLOP_N_GRID) -> IsoFlopView:
    """One IsoFLOP curve, a model size on it, and the compute-optimal point."""
    f = chinchilla_fit(fit)
    curve = isoflop_curve(flops, n_grid, fit=f)
    n_opt, d_opt = compute_optimal(flops, fit=f)
    d = flops / (6.0 * n_params)
    return IsoFlopView(
        float(flops), float(n_params), f.name, n_grid, curve.loss, d, chinchilla_loss(n_params, d, fit=f),
        d / n_params, n_opt, d_opt, chinchilla_loss(n_opt, d_opt, fit=f),
    )


def plot_isoflop(view: IsoFlopView, reference_budgets=ISOFLOP_REFERENCE_BUDGETS) -> Plot:
    """IsoFLOP curves for several budgets, the chosen one, its optimum and a model-size marker."""
    fig = Figure(figsize=FIGSIZE, dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.set_xscale("log")
    ax.set_xlim(view.n_grid[0], view.n_grid[-1])
    ax.set_ylim(1.6, 4.0)
    ax.set_xlabel("model size N (parameters)")
    ax.set_ylabel("predicted loss (nats/token)")
    ax.grid(True, alpha=0.3)
    _no_minor_ticks(ax)
    references = []
    for c in reference_budgets:
        curve = isoflop_curve(c, view.n_grid, fit=view.fit)
        (ref,) = ax.plot(view.n_grid, curve.loss, color="0.7", lw=1)
        label = ax.text(view.n_grid[curve.best], curve.loss[curve.best] - 0.03, f"{format_quantity(c)}",
                        ha="center", va="top", fontsize=8, color="0.45")
        references.append((c, ref, label))
    (line,) = ax.plot(view.n_grid, view.loss_curve, color="C0", lw=2.5, label="chosen budget")
    (optimum,) = ax.plot([view.optimal_n_params], [view.optimal_loss], "*", color="C2", ms=16,
                         label="compute-optimal")
    (marker,) = ax.plot([view.n_params], [view.loss], "o", color="C3", ms=10, label="your model")
    ax.legend(loc="upper right", fontsize=9)
    ax.text(0.01, 0.01, "grey: other budgets (FLOPs), labelled at their minimum", transform=ax.transAxes,
            fontsize=8, color="0.45")
    title = ax.set_title("")

    def update(v: IsoFlopView):
        line.set_data(v.n_grid, v.loss_curve)
        optimum.set_data([v.optimal_n_params], [v.optimal_loss])
        marker.set_data([v.n_params], [v.loss])
        title.set_text(f"IsoFLOP curve at C = {format_quantity(v.flops)} FLOPs ({v.fit} fit)")

    def refit(v: IsoFlopView):   # the grey reference curves depend on the fit
        for c, ref, label in references:
            curve = isoflop_curve(c, v.n_grid, fit=v.fit)
            ref.set_ydata(curve.loss)
            label.set_position((v.n_grid[curve.best], curve.loss[curve.best] - 0.03))

    update(view)
    plot = Plot(fig, [line, optimum, marker, title], update)
    plot.refit = refit
    return plot


# --- lesson 04: counting a transformer ------------------------------------------------------------

@dataclass(frozen=True)
class TransformerView:
    n_layer: int
    d_model: int
    n_ctx: int
    n_vocab: int
    params: object        # ParamCount
    kaplan: object        # FlopCount, method="kaplan"
    hoffmann: object      # FlopCount, method="hoffmann"

    def flop_shares(self) -> dict:
        """Shares of Hoffmann's forward FLOPs per token: weight matmuls, attention over context, vocabulary."""
        c = self.hoffmann.components
        vocab = c["embeddings"] + c["final logits"]
        context = c["attention: QK logits"] + c["attention: values"] + c["attention: softmax"]
        total = self.hoffmann.forward_per_token
        return {"weight matmuls (2N)": (total - vocab - context) / total, "attention over context": context / total,
                "vocabulary (embed + logits)": vocab / total}


def compute_transformer(n_layer, d_model, n_ctx, n_vocab, n_head=None) -> TransformerView:
    """Parameter and FLOP breakdowns of a GPT-style model (d_ff = 4 d_model, learned positions, tied)."""
    n_head = n_head or max(1, d_model // 64)
    params = transformer_params(n_layer, d_model, n_vocab, n_ctx, n_head=n_head)
    kaplan = transformer_flops(n_layer, d_model, n_vocab, n_ctx, n_head=n_head, method="kaplan")
    hoffmann = transformer_flops(n_layer, d_model, n_vocab, n_ctx, n_head=n_head, method="hoffmann")
    return TransformerView(n_layer, d_model, n_ctx, n_vocab, params, kaplan, hoffmann)


_PARAM_PARTS = ("embeddings", "attention", "MLP", "norms")
_FLOP_PARTS = ("weight matmuls (2N)", "attention over context", "vocabulary (embed + logits)")


def _param_shares(view: TransformerView) -> dict:
    p = view.params
    parts = {"embeddings": p.token_embedding + p.position_embedding + p.lm_head, "attention": p.attention,
             "MLP": p.mlp, "norms": p.norms}
    return {k: v / p.total for k, v in parts.items()}


def plot_transformer(view: TransformerView) -> Plot:
    """Where the parameters sit, and where the forward FLOPs per token go, as 100% bars."""
    fig = Figure(figsize=(FIGSIZE[0], 3.0), dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, 1.6)
    ax.set_yticks([1, 0], labels=["parameters", "forward FLOPs\nper token"])
    ax.set_xlabel("share of the total (%)")
    ax.grid(True, axis="x", alpha=0.3)
    colours = ["C0", "C1", "C2", "C7"]
    bars, labels = [], []
    for row, parts in ((1, _PARAM_PARTS), (0, _FLOP_PARTS)):
        for i, name in enumerate(parts):
            (bar,) = ax.barh([row], [0], left=[0], height=0.6, color=colours[i] if row else f"C{i + 3}", label=name)
            text = ax.text(0, row, "", ha="center", va="center", fontsize=8, color="white")
            bars.append((row, name, bar))
            labels.append(text)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=4, fontsize=8, frameon=False)
    title = ax.set_title("")

    def update(v: TransformerView):
        shares = {1: _param_shares(v), 0: v.flop_shares()}
        left = {1: 0.0, 0: 0.0}
        for (row, name, bar), text in zip(bars, labels):
            w = 100 * shares[row][name]
            bar.set_x(left[row])
            bar.set_width(w)
            text.set_position((left[row] + w / 2, row))
            text.set_text(f"{w:.0f}%" if w >= 6 else "")
            left[row] += w
        title.set_text(f"{format_quantity(v.params.total)} parameters · training ≈ "
                       f"{v.hoffmann.ratio_to_6n:.2f} × 6N FLOPs/token (Hoffmann)")

    update(view)
    return Plot(fig, [b for _, _, b in bars] + labels + [title], update)


# --- lesson 05: a training run --------------------------------------------------------------------

MFU_GRID = np.linspace(0.05, 1.0, 96)


@dataclass(frozen=True)
class TrainingView:
    estimate: object              # TrainingEstimate at the chosen MFU
    mfu_grid: np.ndarray
    days_curve: np.ndarray        # days at each MFU of the grid, other settings fixed


def compute_training_run(n_params, n_tokens, accelerator, n_devices, mfu, precision="bf16", sparse=False,
                         price_per_device_hour=None, pue=1.0) -> TrainingView:
    """A training-time estimate (6ND FLOPs) and how the days depend on MFU."""
    est = training_time(6.0 * float(n_params) * float(n_tokens), accelerator, n_devices, mfu, precision, sparse,
                        price_per_device_hour=price_per_device_hour, pue=pue)
    days_curve = est.days * est.mfu / MFU_GRID    # time is inversely proportional to MFU
    return TrainingView(est, MFU_GRID, days_curve)


def plot_training_run(view: TrainingView) -> Plot:
    """Training days against MFU, with the band real large runs achieve and the chosen point."""
    fig = Figure(figsize=FIGSIZE, dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.set_yscale("log")
    ax.set_xlim(0, 100)
    ax.set_ylim(*days_window(view))
    ax.set_xlabel("model FLOPs utilisation, MFU (%)")
    ax.set_ylabel("training time (days)")
    ax.grid(True, alpha=0.3)
    _no_minor_ticks(ax)
    best = 100 * HIGHEST_REPORTED_MFU
    ax.axvspan(20, best, color="C2", alpha=0.12, label=f"reported for large runs (20-{best:.0f}%)")
    (line,) = ax.plot(100 * view.mfu_grid, view.days_curve, color="C0", lw=2.5)
    (marker,) = ax.plot([100 * view.estimate.mfu], [view.estimate.days], "o", color="C3", ms=10)
    ax.legend(loc="upper right", fontsize=9)
    title = ax.set_title("")

    def update(v: TrainingView):
        e = v.estimate
        line.set_data(100 * v.mfu_grid, v.days_curve)
        marker.set_data([100 * e.mfu], [e.days])
        title.set_text(f"{format_quantity(e.flops)} FLOPs on {e.n_devices:,} × {e.accelerator}: "
                       f"{e.days:,.1f} days at {e.mfu:.0%} MFU")

    def rescale(v: TrainingView) -> bool:
        low, high = ax.get_ylim()
        if low <= np.min(v.days_curve) and np.max(v.days_curve) <= high:
            return False                # the curve is still inside: keep the axis, blit
        ax.set_ylim(*days_window(v))
        return True

    def widest():
        old = ax.get_ylim()
        ax.set_ylim(1e-13, 1e-10)      # two-digit negative powers of ten: the widest tick labels
        return lambda: ax.set_ylim(*old)

    update(view)
    return Plot(fig, [line, marker, title], update, rescale, widest)


def days_window(view: TrainingView) -> tuple:
    """Days axis of the calculator: three decades that hold the whole MFU curve (it spans 1.3), with room on both sides."""
    low = float(10.0 ** np.floor(np.log10(np.min(view.days_curve)) - 0.5))
    return low, low * 1e3
