"""Lesson 08's explorers: inference-aware model size, and the worth of repeated data.

Each has a pure ``compute_*`` function, a ``plot_*`` function returning a :class:`scalinglab.explorers.Plot`
whose ``update`` only moves artists, and a thin :class:`scalinglab.widgets.Explorer` subclass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import ipywidgets as widgets
from matplotlib.figure import Figure

from .beyond import R_STAR_TOKENS, InferenceOptimum, _law, chinchilla_optimal_tokens, effective_tokens, \
    inference_optimal
from .chinchilla import chinchilla_loss
from .explorers import FIGSIZE, Plot, _no_minor_ticks
from .units import format_quantity
from ._explorer import _STYLE, Explorer, _slider_layout, _table

# --- inference-aware scaling (Sardana et al. 2024, arXiv 2401.00448) --------------------------------------

INFERENCE_N_GRID_POINTS = 200
INFERENCE_XLIM = (3e8, 3e12)          # parameters
INFERENCE_YLIM = (1e20, 1e27)         # FLOPs


@dataclass(frozen=True)
class InferenceView:
    inference_tokens: float          # D_inf, tokens served
    quality_n_params: float          # the Chinchilla-optimal model whose loss is the target
    loss: float                      # target loss, nats/token
    n_grid: np.ndarray               # model sizes that can reach the loss, parameters
    training_flops: np.ndarray       # 6 N D(N) along n_grid
    inference_flops: np.ndarray      # 2 N D_inf along n_grid
    optimum: InferenceOptimum

    @property
    def total_flops(self) -> np.ndarray:
        return self.training_flops + self.inference_flops


def compute_inference(inference_tokens, quality_n_params, fit="sardana2024") -> InferenceView:
    """Lifetime compute of every model that reaches the loss of a Chinchilla-optimal ``quality_n_params`` model.

    ``inference_tokens`` in tokens served, ``quality_n_params`` in parameters; FLOPs out.
    """
    f = _law(fit)
    N_q = float(quality_n_params)
    loss = float(chinchilla_loss(N_q, chinchilla_optimal_tokens(N_q, fit=f), fit=f))
    ell = loss - f.E
    n_min = (f.A / ell) ** (1 / f.alpha)                       # smallest model that can reach the loss
    n_grid = np.logspace(np.log10(n_min * 1.02), np.log10(INFERENCE_XLIM[1]), INFERENCE_N_GRID_POINTS)
    D = (f.B / (ell - f.A / n_grid ** f.alpha)) ** (1 / f.beta)   # tokens along the iso-loss curve
    opt = inference_optimal(loss, inference_tokens, fit=f)
    return InferenceView(float(inference_tokens), N_q, loss, n_grid, 6.0 * n_grid * D,
                         2.0 * n_grid * float(inference_tokens), opt)


def plot_inference(view: InferenceView) -> Plot:
    """Training, inference and lifetime FLOPs against model size at a fixed loss, with both optima marked."""
    fig = Figure(figsize=FIGSIZE, dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*INFERENCE_XLIM)
    ax.set_ylim(*INFERENCE_YLIM)
    ax.set_xlabel("model size N (parameters), each trained to the same loss")
    ax.set_ylabel("compute (FLOPs)")
    ax.grid(True, alpha=0.3)
    _no_minor_ticks(ax)
    (train,) = ax.plot([], [], color="C0", lw=1.5, ls="--", label="training 6ND")
    (serve,) = ax.plot([], [], color="C1", lw=1.5, ls=":", label="inference 2N·D_inf")
    (total,) = ax.plot([], [], color="k", lw=2.5, label="lifetime total")
    (chin,) = ax.plot([], [], "o", color="C3", ms=9, label="Chinchilla-optimal (least training)")
    (best,) = ax.plot([], [], "*", color="C2", ms=16, label="inference-aware optimum")
    ax.legend(loc="upper right", fontsize=8)
    title = ax.set_title("")

    def update(v: InferenceView):
        o = v.optimum
        train.set_data(v.n_grid, v.training_flops)
        serve.set_data(v.n_grid, v.inference_flops)
        total.set_data(v.n_grid, v.total_flops)
        chin.set_data([o.chinchilla_n_params], [o.chinchilla_total_flops])
        best.set_data([o.n_params], [o.total_flops])
        title.set_text(f"Loss {v.loss:.3f} nats/token, {format_quantity(v.inference_tokens)} tokens served: "
                       f"best N = {format_quantity(o.n_params)}")

    update(view)
    return Plot(fig, [train, serve, total, chin, best, title], update)


class InferenceExplorer(Explorer):
    """Lesson 08: how many tokens will the model serve? The model size of least lifetime compute."""

    title = "Inference-aware explorer: how many tokens will this model serve?"

    def __init__(self, inference_tokens=1e12, quality_n_params=13e9, fit="sardana2024"):
        self.fit = fit
        controls = {
            "inference_tokens": widgets.FloatLogSlider(
                value=inference_tokens, base=10, min=9, max=15, step=0.05,
                description="tokens served over the model's life", readout_format=".3g",
                style={"description_width": "230px"}, layout=widgets.Layout(width="520px")),
            "quality_n_params": widgets.FloatLogSlider(
                value=quality_n_params, base=10, min=9, max=11.5, step=0.05,
                description="quality: as good as a Chinchilla-optimal model of N =", readout_format=".3g",
                style={"description_width": "330px"}, layout=widgets.Layout(width="620px")),
        }
        super().__init__(controls, plot_inference, layout_rows=[["inference_tokens"], ["quality_n_params"]])

    def compute(self, inference_tokens, quality_n_params):
        return compute_inference(inference_tokens, quality_n_params, self.fit)

    def describe(self, v) -> str:
        o = v.optimum
        return _table([
            ("target loss", f"{v.loss:.4f} nats/token"),
            ("optimal model N", format_quantity(o.n_params) + " parameters"),
            ("its training tokens D", format_quantity(o.n_tokens)),
            ("tokens per parameter", f"{o.tokens_per_param:,.1f}  (Chinchilla-optimal: "
                                     f"{o.chinchilla_tokens_per_param:,.1f})"),
            ("training / inference FLOPs", f"{o.training_flops:.3g} / {o.inference_flops:.3g}"),
            ("lifetime FLOPs", f"{o.total_flops:.3g}  vs {o.chinchilla_total_flops:.3g} for the "
                               f"Chinchilla-optimal {format_quantity(o.chinchilla_n_params)} model"),
            ("saved", f"{100 * o.savings:.1f}% of the Chinchilla-optimal model's lifetime compute"),
        ])


# --- repeated data (Muennighoff et al. 2023, arXiv 2305.16264) ------------------------------------------

EPOCH_GRID = np.logspace(0, np.log10(200), 200)


@dataclass(frozen=True)
class RepetitionView:
    epochs: float
    r_star: float
    grid: np.ndarray                 # epochs
    ratio_grid: np.ndarray           # D'/U along grid
    ratio: float                     # D'/U at epochs

    @property
    def worth(self) -> float:
        """Effective over processed tokens, D'/D."""
        return self.ratio / self.epochs


def compute_repetition(epochs, r_star=R_STAR_TOKENS) -> RepetitionView:
    """Effective data over unique data, D'/U, against epochs for a decay constant R*."""
    grid = EPOCH_GRID
    return RepetitionView(float(epochs), float(r_star), grid, effective_tokens(1.0, grid, r_star),
                          float(effective_tokens(1.0, epochs, r_star)))


def plot_repetition(view: RepetitionView) -> Plot:
    """D'/U against epochs (log-log), with fresh data (D'/U = epochs) and the ceiling 1 + R*."""
    fig = Figure(figsize=FIGSIZE, dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1, 200)
    ax.set_ylim(1, 200)
    ax.set_xlabel("epochs over the unique data (D / U)")
    ax.set_ylabel("effective data D' / U")
    ax.grid(True, alpha=0.3)
    _no_minor_ticks(ax)
    ax.plot(view.grid, view.grid, color="0.5", ls="--", lw=1, label="fresh data (D' = D)")
    (curve,) = ax.plot([], [], color="C0", lw=2.5, label="repeated data, D' = U + U R*(1 - e^(-R/R*))")
    (ceiling,) = ax.plot([], [], color="C3", ls=":", lw=1.5, label="ceiling 1 + R*")
    (marker,) = ax.plot([], [], "o", color="C0", ms=10)
    ax.legend(loc="upper left", fontsize=8)
    title = ax.set_title("")

    def update(v: RepetitionView):
        curve.set_data(v.grid, v.ratio_grid)
        ceiling.set_data([1, 200], [1 + v.r_star, 1 + v.r_star])
        marker.set_data([v.epochs], [v.ratio])
        title.set_text(f"{v.epochs:.3g} epochs with R* = {v.r_star:.3g}: worth {v.ratio:.3g} epochs of fresh data")

    update(view)
    return Plot(fig, [curve, ceiling, marker, title], update)


class RepetitionExplorer(Explorer):
    """Lesson 08: how much is repeated data worth? Epochs in, effective data out."""

    title = "Repeated-data explorer: what are E epochs of the same data worth?"

    def __init__(self, epochs=4.0, r_star=R_STAR_TOKENS):
        controls = {
            "epochs": widgets.FloatLogSlider(value=epochs, base=10, min=0, max=np.log10(200), step=0.02,
                                             description="epochs", readout_format=".3g", style=_STYLE,
                                             layout=_slider_layout()),
            "r_star": widgets.FloatLogSlider(value=r_star, base=10, min=-0.5, max=2.5, step=0.02,
                                             description="decay constant R*", readout_format=".3g", style=_STYLE,
                                             layout=_slider_layout()),
        }
        super().__init__(controls, plot_repetition)

    def compute(self, epochs, r_star):
        return compute_repetition(epochs, r_star)

    def describe(self, v) -> str:
        return _table([
            ("tokens processed D", f"{v.epochs:.3g} × U"),
            ("effective data D'", f"{v.ratio:.3g} × U"),
            ("worth of the processed tokens, D'/D", f"{100 * v.worth:.1f}%"),
            ("most repeated data can ever be worth", f"{1 + v.r_star:.3g} × U"),
        ])
