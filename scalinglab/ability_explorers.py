"""Lesson 09's explorers: what the laptop models of lesson 07 can *do*, and at what cost.

Pure ``compute_*`` and ``plot_*`` functions, as in :mod:`scalinglab.explorers`, and the two
explorers, :class:`EmergenceExplorer` and :class:`InferenceComputeExplorer`. The models' scores come
from :mod:`scalinglab.ability_models`.
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from ._checks import as_count, as_number, as_positive, scalar_or_array, unknown_name
from ._explorer import _STYLE, Explorer, _slider_layout, _table
from .abilities import best_of_n_accuracy
from .ability_models import MAX_LENGTH, load_ability_series
from .explorers import FIGSIZE, Plot, _no_minor_ticks
from .units import format_quantity


# --- explorer 1: emergence or measurement? --------------------------------------------------------

METRICS = ("exact match", "per-token accuracy", "edit-distance credit")


@dataclass(frozen=True)
class EmergenceView:
    length: int
    metric: str
    n_params: np.ndarray
    score: np.ndarray              # the chosen metric of each model at this length
    independent: np.ndarray        # what independent tokens would give: p^L (exact match), else p

    def first_above(self, level: float = 0.5):
        """Parameters of the smallest model whose score reaches ``level`` (None if none does)."""
        hits = np.flatnonzero(self.score >= level)
        return float(self.n_params[hits[0]]) if hits.size else None


def compute_emergence(length, metric="exact match") -> EmergenceView:
    """The cached models' scores on L-character continuations under a metric."""
    s = load_ability_series()
    L = as_count("length", length, "characters", maximum=int(s.lengths[-1]))
    if not isinstance(metric, str) or metric not in METRICS:
        raise unknown_name("metric", metric, "metric", METRICS)
    p = s.per_token_accuracy
    score = {"exact match": s.exact_match[:, L - 1], "per-token accuracy": p,
             "edit-distance credit": s.edit_credit[:, L - 1]}[metric]
    return EmergenceView(L, metric, s.n_params, score, p ** L if metric == "exact match" else p)


def plot_emergence(view: EmergenceView) -> Plot:
    """The metric against model size on a linear axis (left) and a log axis (right)."""
    fig = Figure(figsize=FIGSIZE, dpi=100, layout="constrained")
    lin, log = fig.subplots(1, 2)
    artists = []
    for ax, scale in ((lin, "linear"), (log, "log")):
        ax.set_xscale("log")
        ax.set_yscale(scale)
        ax.set_xlim(view.n_params[0] / 1.5, view.n_params[-1] * 1.5)
        ax.set_ylim((0, 1) if scale == "linear" else (1e-6, 1.5))
        ax.set_xlabel("model size N (parameters)")
        ax.grid(True, alpha=0.3)
        _no_minor_ticks(ax)
        (ind,) = ax.plot([], [], "--", color="0.5", lw=1.5, label="independent tokens: p^L")
        (line,) = ax.plot([], [], "o-", color="C3", lw=2, ms=5, label="measured")
        artists += [ind, line]
    lin.set_ylabel("score (fraction)")
    lin.set_title("linear axis: looks sudden", fontsize=9)
    log.set_title("log axis (a measured 0 is not drawn)", fontsize=9)
    lin.legend(loc="upper left", fontsize=8)
    title = fig.suptitle("")

    def update(v: EmergenceView):
        for (ind, line), floor in ((artists[:2], -np.inf), (artists[2:], 0.0)):   # log axis: no zeros
            ind.set_data(v.n_params, np.where(v.independent > floor, v.independent, np.nan))
            line.set_data(v.n_params, np.where(v.score > floor, v.score, np.nan))
        title.set_text(f"{v.metric} of {v.length}-character continuations, ten laptop models")

    update(view)
    return Plot(fig, [*artists, title], update)


class EmergenceExplorer(Explorer):
    """Lesson 09: the same models under three metrics, for answers of L characters."""

    title = "Emergence explorer: move the answer length L, then change the metric"

    def __init__(self, length=8, metric="exact match"):
        controls = {
            "length": widgets.IntSlider(value=length, min=1, max=MAX_LENGTH, description="answer length L",
                                        style=_STYLE, layout=_slider_layout()),
            "metric": widgets.Dropdown(options=list(METRICS), value=metric, description="metric", style=_STYLE,
                                       layout=widgets.Layout(width="340px")),
        }
        super().__init__(controls, plot_emergence)

    def compute(self, length, metric):
        return compute_emergence(length, metric)

    def describe(self, v) -> str:
        first = v.first_above(0.5)
        return _table([
            ("smallest model, N = " + format_quantity(v.n_params[0]), f"{v.score[0]:.3g}"),
            ("largest model, N = " + format_quantity(v.n_params[-1]), f"{v.score[-1]:.3g}"),
            ("first model scoring ≥ 0.5", "none" if first is None else f"N = {format_quantity(first)}"),
            ("largest / second-largest score", f"{v.score[-1] / max(v.score[-2], 1e-12):.3g}×"),
        ])


# --- explorer 2: test-time compute against model size -------------------------------------------

@dataclass(frozen=True)
class InferenceComputeView:
    budget: float                  # inference FLOPs per problem
    fpr: float                     # verifier's false-positive rate (its true-positive rate is tpr)
    tpr: float
    n_params: np.ndarray
    samples: np.ndarray            # samples each model can afford: floor(budget / (2 N T))
    accuracy: np.ndarray           # best-of-samples accuracy (0 where not even one sample is affordable)
    one_sample: np.ndarray         # expected accuracy of a single sample
    best: int                      # index of the best affordable model (-1 if none)


def sample_flops(n_params, answer_chars):
    """Inference FLOPs of one answer: 2 N per generated character (forward pass only; Kaplan et al. 2020).

    >>> sample_flops(80_331, 4.0)        # the largest laptop model, a 4-character answer
    642648.0
    """
    N = as_positive("n_params", n_params, "parameters")
    T = as_positive("answer_chars", answer_chars, "characters", scalar=True)
    return scalar_or_array(2.0 * N * T, "sample_flops", n_params=n_params, answer_chars=answer_chars)


def compute_test_time(budget_flops, fpr=0.1, tpr=1.0) -> InferenceComputeView:
    """Word completion at a fixed inference budget per problem: each model samples as often as it can afford.

    A model of N parameters pays 2 N T FLOPs per sample (T: mean answer
    length, characters), so it draws k = floor(budget / (2 N T)) samples and
    a verifier (true-positive rate ``tpr``, false-positive rate ``fpr``)
    picks one (:func:`scalinglab.abilities.best_of_n_accuracy`, averaged
    over the cached problems, each with its own probability of being solved).
    """
    s = load_ability_series()
    budget = as_number("budget_flops", budget_flops, "a positive inference budget in FLOPs per problem",
                       lambda x: 0 < x <= 1e15)
    f = as_number("fpr", fpr, "a false-positive rate in [0, 1]", lambda x: 0 <= x <= 1)
    t = as_number("tpr", tpr, "a true-positive rate in [0, 1]", lambda x: 0 <= x <= 1)
    p = np.exp(s.log_prob)                                   # (models, problems)
    k = np.floor(budget / sample_flops(s.n_params, s.answer_lengths.mean()))
    # a model that cannot afford one sample answers nothing: accuracy 0
    accuracy = np.array([float(np.mean(best_of_n_accuracy(row, int(min(kk, 10 ** 7)), t, f))) if kk >= 1 else 0.0
                         for row, kk in zip(p, k)])
    best = int(np.argmax(np.where(k >= 1, accuracy, -1.0))) if (k >= 1).any() else -1
    return InferenceComputeView(budget, f, t, s.n_params, k, accuracy, p.mean(axis=1), best)


def plot_test_time(view: InferenceComputeView) -> Plot:
    """Accuracy against model size: one sample each (grey), and best-of-k at the chosen budget."""
    fig = Figure(figsize=FIGSIZE, dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.set_xscale("log")
    ax.set_xlim(view.n_params[0] / 1.5, view.n_params[-1] * 1.5)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("model size N (parameters)")
    ax.set_ylabel("fraction of words completed")
    ax.grid(True, alpha=0.3)
    _no_minor_ticks(ax)
    ax.plot(view.n_params, view.one_sample, "s--", color="0.55", ms=4, label="one sample (no verifier)")
    (line,) = ax.plot([], [], "o-", color="C0", lw=2, ms=5, label="best of k samples at this budget")
    (star,) = ax.plot([], [], "*", color="C3", ms=16, label="best model at this budget")
    labels = [ax.text(n, 0, "", ha="center", va="bottom", fontsize=7, color="C0") for n in view.n_params]
    ax.legend(loc="lower right", fontsize=8)
    title = ax.set_title("")

    def update(v: InferenceComputeView):
        line.set_data(v.n_params, np.where(v.samples >= 1, v.accuracy, np.nan))    # only affordable models
        star.set_data(([v.n_params[v.best]], [v.accuracy[v.best]]) if v.best >= 0 else ([], []))
        for text, n, k, a in zip(labels, v.n_params, v.samples, v.accuracy):
            text.set_position((n, a + 0.02))
            text.set_text(f"k={format_quantity(k)}" if k >= 1 else "")
        title.set_text(f"{v.budget:.3g} FLOPs per problem; verifier false-positive rate {v.fpr:.2f}")

    update(view)
    return Plot(fig, [line, star, *labels, title], update)


class InferenceComputeExplorer(Explorer):
    """Lesson 09: at equal inference compute, many samples of a small model or few of a large one?"""

    title = "Test-time compute explorer: move the budget, then the verifier's false-positive rate"

    def __init__(self, budget_flops=1e6, fpr=0.1, tpr=1.0):
        self.tpr = tpr
        controls = {
            "budget_flops": widgets.FloatLogSlider(value=budget_flops, base=10, min=4, max=8, step=0.1,
                                                   description="FLOPs per problem", readout_format=".2g",
                                                   style=_STYLE, layout=_slider_layout()),
            "fpr": widgets.FloatSlider(value=fpr, min=0.0, max=0.5, step=0.01, description="false-positive rate",
                                       style=_STYLE, layout=_slider_layout()),
        }
        super().__init__(controls, plot_test_time)

    def compute(self, budget_flops, fpr):
        return compute_test_time(budget_flops, fpr, self.tpr)

    def describe(self, v) -> str:
        if v.best < 0:
            return "<span style='color:#b00'>No model can afford one sample at this budget.</span>"
        largest = int(np.flatnonzero(v.samples >= 1)[-1])
        return _table([
            ("best model at this budget", f"N = {format_quantity(v.n_params[v.best])}, k = "
                                          f"{format_quantity(v.samples[v.best])} samples, accuracy {v.accuracy[v.best]:.3f}"),
            ("largest affordable model", f"N = {format_quantity(v.n_params[largest])}, k = "
                                         f"{format_quantity(v.samples[largest])}, accuracy {v.accuracy[largest]:.3f}"),
            ("samples each model affords, smallest to largest", ", ".join(format_quantity(k) for k in v.samples)),
            ("verifier", f"accepts right answers with probability {v.tpr:g}, wrong ones with {v.fpr:.2f}"),
        ])
