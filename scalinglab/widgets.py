"""The lessons' widget explorers and self-checks: every explorer of the course is importable from here.

Each explorer is a thin wrapper (:class:`~scalinglab._explorer.Explorer`): its controls feed a
``compute_*`` function of :mod:`scalinglab.explorers` (or of a later lesson's explorer module), and
the result moves the artists of a ``plot_*`` figure. ipywidgets is imported only by the explorer
modules and ``_progress``.
"""

from __future__ import annotations

import html
import re

import ipywidgets as widgets
import numpy as np

from ._checks import ScalingLabError
from ._explorer import _STYLE, Explorer, _slider_layout, _table
from ._progress import progress_bar  # noqa: F401  (kept importable from here)
from .explorers import (
    compute_isoflop, compute_kaplan, compute_power_law, compute_training_run, compute_transformer,
    plot_isoflop,
    plot_kaplan, plot_power_law, plot_training_run, plot_transformer,
)
from .chinchilla import CHINCHILLA_FITS, chinchilla_fit, compute_optimal
from .fit_explorers import (
    MINISERIES_EXPONENTS, compute_miniseries, compute_refit, known_fits, plot_miniseries, plot_refit,
)
from .fitting import load_runs
from .hardware import PRECISIONS, accelerators
from .ability_explorers import EmergenceExplorer, InferenceComputeExplorer  # noqa: F401  (lesson 09)
from .beyond_explorers import InferenceExplorer, RepetitionExplorer  # noqa: F401  (lesson 08)
from .challenge_explorers import ChallengeExplorer  # noqa: F401  (lesson 11)
from .memory_explorers import MemoryExplorer  # noqa: F401  (lesson 10)
from .models import model_card
from .units import format_quantity, parse_quantity


# --- explorers ------------------------------------------------------------------------------------

class PowerLawExplorer(Explorer):
    """Lesson 01: y = a x^k on linear and log-log axes."""

    title = "Power-law explorer: move a and k"

    def __init__(self, coefficient=10.0, exponent=-0.5):
        controls = {
            "coefficient": widgets.FloatLogSlider(value=coefficient, base=10, min=-1, max=2, step=0.05,
                                                  description="coefficient a", continuous_update=True,
                                                  readout_format=".3g", style=_STYLE, layout=_slider_layout()),
            "exponent": widgets.FloatSlider(value=exponent, min=-2, max=2, step=0.05, description="exponent k",
                                            continuous_update=True, style=_STYLE, layout=_slider_layout()),
        }
        super().__init__(controls, plot_power_law)

    def compute(self, coefficient, exponent):
        return compute_power_law(coefficient, exponent)

    def describe(self, v) -> str:
        halving = "never (y does not fall)" if not np.isfinite(v.halving_multiplier) else \
            f"{v.halving_multiplier:,.3g}×"
        return _table([("y at x = 1, 10, 100", ", ".join(f"{v.coefficient * x ** v.exponent:.3g}" for x in (1, 10, 100))),
                       ("y(2x) / y(x) = 2^k", f"{v.doubling_factor:.3f}"),
                       ("x must grow by this factor to halve y", halving)])


class KaplanExplorer(Explorer):
    """Lesson 02: Kaplan's L(N, D) against N, for a chosen dataset size."""

    title = "Kaplan explorer: loss against model size for a fixed dataset"

    def __init__(self, n_tokens=1e10, n_params=1e9):
        controls = {
            "n_tokens": widgets.FloatLogSlider(value=n_tokens, base=10, min=8, max=12, step=0.1,
                                               description="tokens D", readout_format=".2g", style=_STYLE,
                                               layout=_slider_layout()),
            "n_params": widgets.FloatLogSlider(value=n_params, base=10, min=6, max=12, step=0.1,
                                               description="parameters N", readout_format=".2g", style=_STYLE,
                                               layout=_slider_layout()),
        }
        super().__init__(controls, plot_kaplan)

    def compute(self, n_tokens, n_params):
        return compute_kaplan(n_params, n_tokens)

    def describe(self, v) -> str:
        return _table([
            ("model N (non-embedding parameters)", format_quantity(v.n_params)),
            ("dataset D (tokens)", format_quantity(v.n_tokens)),
            ("L(N, D), nats/token", f"{v.loss:.3f}"),
            ("with unlimited data", f"{v.loss_infinite_data:.3f}"),
            ("penalty for finite data", f"{100 * v.overfit_penalty:.1f}%"),
        ])


class IsoFlopExplorer(Explorer):
    """Lesson 03: a compute budget, a model size on its IsoFLOP curve, and the optimum."""

    title = "IsoFLOP explorer: pick a budget, then slide the model size"

    def __init__(self, flops=5.76e23, n_params=280e9, fit="hoffmann2022"):
        controls = {
            "flops": widgets.FloatLogSlider(value=flops, base=10, min=18, max=26, step=0.01,
                                            description="compute C (FLOPs)", readout_format=".3g", style=_STYLE,
                                            layout=_slider_layout()),
            "n_params": widgets.FloatLogSlider(value=n_params, base=10, min=7, max=13, step=0.01,
                                               description="model size N", readout_format=".3g", style=_STYLE,
                                               layout=_slider_layout()),
            "fit": widgets.Dropdown(options=list(CHINCHILLA_FITS), value=fit, description="fit", style=_STYLE,
                                    layout=widgets.Layout(width="300px")),
        }
        super().__init__(controls, plot_isoflop, layout_rows=[["flops", "n_params"], ["fit"]])

    def compute(self, flops, n_params, fit):
        return compute_isoflop(flops, n_params, fit)

    def needs_redraw(self, change) -> bool:
        if change["owner"] is self.controls["fit"]:
            self.figure.plot.refit(self.result)
            return True
        return False

    def describe(self, v) -> str:
        return _table([
            ("your model", f"{format_quantity(v.n_params)} parameters on {format_quantity(v.n_tokens)} tokens"),
            ("tokens per parameter", f"{v.tokens_per_param:,.1f}"),
            ("predicted loss", f"{v.loss:.4f} nats/token"),
            ("compute-optimal model", f"{format_quantity(v.optimal_n_params)} parameters on "
                                      f"{format_quantity(v.optimal_n_tokens)} tokens "
                                      f"({v.optimal_n_tokens / v.optimal_n_params:,.1f} per parameter)"),
            ("your loss above the optimum", f"{v.excess_loss:.4f} nats/token"),
        ])


TRANSFORMER_PRESETS = {
    "GPT-2 small": dict(n_layer=12, d_model=768, n_ctx=1024, n_vocab=50257),
    "GPT-2 XL": dict(n_layer=48, d_model=1600, n_ctx=1024, n_vocab=50257),
    "GPT-3 175B": dict(n_layer=96, d_model=12288, n_ctx=2048, n_vocab=50257),
    "Chinchilla-like 70B": dict(n_layer=80, d_model=8192, n_ctx=2048, n_vocab=32000),
}


class TransformerExplorer(Explorer):
    """Lesson 04: an architecture in, the parameter and FLOP breakdown out."""

    title = "Transformer explorer: where do the parameters and FLOPs go?"

    def __init__(self, preset="GPT-2 small"):
        p = TRANSFORMER_PRESETS[preset]
        controls = {
            "n_layer": widgets.IntSlider(value=p["n_layer"], min=1, max=128, description="layers n_layer",
                                         style=_STYLE, layout=_slider_layout()),
            "d_model": widgets.IntSlider(value=p["d_model"], min=64, max=16384, step=64, description="width d_model",
                                         style=_STYLE, layout=_slider_layout()),
            "n_ctx": widgets.Dropdown(options=[2 ** k for k in range(7, 18)], value=p["n_ctx"],
                                      description="context n_ctx", style=_STYLE, layout=widgets.Layout(width="260px")),
            "n_vocab": widgets.Dropdown(options=[32000, 50257, 128256, 256000], value=p["n_vocab"],
                                        description="vocabulary", style=_STYLE, layout=widgets.Layout(width="260px")),
        }
        super().__init__(controls, plot_transformer, layout_rows=[["n_layer", "d_model"], ["n_ctx", "n_vocab"]],
                         presets=TRANSFORMER_PRESETS, preset=preset)

    def compute(self, n_layer, d_model, n_ctx, n_vocab):
        return compute_transformer(n_layer, d_model, n_ctx, n_vocab)

    def describe(self, v) -> str:
        p = v.params
        return _table([
            ("parameters (total)", f"{p.total:,}"),
            ("non-embedding ≈ 12·n_layer·d_model²", f"{p.non_embedding:,}  (12·L·d² = {12 * v.n_layer * v.d_model ** 2:,})"),
            ("training FLOPs/token, Kaplan Table 1", f"{v.kaplan.training_per_token:.4g}  = {v.kaplan.ratio_to_6n:.3f} × 6N"),
            ("training FLOPs/token, Hoffmann App. F", f"{v.hoffmann.training_per_token:.4g}  = {v.hoffmann.ratio_to_6n:.3f} × 6N"),
            ("attention over context (Hoffmann)", f"{100 * v.flop_shares()['attention over context']:.1f}% of forward FLOPs"),
        ])


def _training_presets():
    """Model presets with their reported hardware; each sets every setting, so none is left over."""
    presets = {}
    for name in ("LLaMA-65B", "Llama 3.1 405B", "DeepSeek-V3", "GPT-4"):
        card = model_card(name)   # every one of these reports (or, for GPT-4, estimates) its hardware
        mfu = round(sum(card.mfu) / 2, 2) if card.mfu else 0.4
        presets[name] = dict(n_params=card.params_active, n_tokens=card.tokens, accelerator=card.accelerator,
                             n_devices=card.n_devices, precision="bf16", sparse=False, mfu=mfu)
    # The popular "98 days" for GPT-4: all 1.7T parameters, the sparse peak and 100% utilisation.
    presets["GPT-4, the 98-day assumptions"] = dict(n_params=1.7e12, n_tokens=13e12, accelerator="A100 SXM4 80GB",
                                                    n_devices=25_000, precision="bf16", sparse=True, mfu=1.0)
    return presets


class TrainingCalculator(Explorer):
    """Lesson 05: FLOPs to days, GPU-hours, dollars and MWh."""

    title = "Training-run calculator"

    def __init__(self, preset="LLaMA-65B", mfu=0.4, price_per_device_hour=2.0):
        presets = _training_presets()
        p = presets[preset]
        names = [a.name for a in accelerators()]
        controls = {
            "n_params": widgets.FloatLogSlider(value=p["n_params"], base=10, min=8, max=13, step=0.01,
                                               description="parameters N", readout_format=".3g", style=_STYLE,
                                               layout=_slider_layout()),
            "n_tokens": widgets.FloatLogSlider(value=p["n_tokens"], base=10, min=9, max=14, step=0.01,
                                               description="tokens D", readout_format=".3g", style=_STYLE,
                                               layout=_slider_layout()),
            "accelerator": widgets.Dropdown(options=names, value=p["accelerator"], description="accelerator",
                                            style=_STYLE, layout=widgets.Layout(width="340px")),
            "n_devices": widgets.BoundedIntText(value=p["n_devices"], min=1, max=1_000_000, description="devices",
                                                style=_STYLE, layout=widgets.Layout(width="240px")),
            "precision": widgets.Dropdown(options=list(PRECISIONS), value="bf16", description="precision",
                                          style=_STYLE, layout=widgets.Layout(width="240px")),
            "sparse": widgets.Checkbox(value=False, description="use the 2:4-sparse peak", indent=False),
            "mfu": widgets.FloatSlider(value=mfu, min=0.05, max=1.0, step=0.01, description="MFU",
                                       readout_format=".0%", style=_STYLE, layout=_slider_layout()),
            "price_per_device_hour": widgets.BoundedFloatText(value=price_per_device_hour, min=0, max=100, step=0.1,
                                                              description="$ per device-hour", style=_STYLE,
                                                              layout=widgets.Layout(width="240px")),
            "pue": widgets.BoundedFloatText(value=1.1, min=1.0, max=3.0, step=0.05, description="PUE",
                                            style=_STYLE, layout=widgets.Layout(width="240px")),
        }
        super().__init__(controls, plot_training_run,
                         layout_rows=[["n_params", "n_tokens"], ["accelerator", "n_devices"],
                                      ["precision", "sparse"], ["mfu", "price_per_device_hour"], ["pue"]],
                         presets=presets, preset=preset, preset_label="model")

    def compute(self, n_params, n_tokens, accelerator, n_devices, precision, sparse, mfu, price_per_device_hour,
                pue):
        return compute_training_run(n_params, n_tokens, accelerator, n_devices, mfu, precision, sparse,
                                    price_per_device_hour, pue)

    def describe(self, v) -> str:
        e = v.estimate
        rows = [("training compute (6ND)", f"{e.flops:.3g} FLOPs"),
                ("days", f"{e.days:,.1f}"),
                ("device-hours", f"{e.device_hours:,.0f}"),
                ("cost", "n/a" if e.cost_usd is None else f"${e.cost_usd:,.0f}"),
                ("energy", "n/a (no published power)" if e.energy_mwh is None else f"{e.energy_mwh:,.0f} MWh")]
        notes = "".join(f"<li>{html.escape(a)}</li>" for a in e.assumptions)
        return _table(rows) + f"<ul style='font-size:90%'>{notes}</ul>"


class RefitExplorer(Explorer):
    """Lesson 06: choose which runs to fit (a range of compute budgets) and refit Approach 3 live."""

    title = "Refit explorer: which budgets go into the fit?"

    def __init__(self, min_flops=None, max_flops=None, runs="synthetic", truth="besiroglu2024"):
        self.runs_name, self.truth = runs, chinchilla_fit(truth) if truth else None
        budgets = [float(c) for c in np.unique(load_runs(runs).flops)]
        options = [(format_quantity(c), c) for c in budgets]
        controls = {
            "min_flops": widgets.SelectionSlider(options=options, value=min_flops or budgets[0],
                                                 description="smallest budget", continuous_update=False,
                                                 style=_STYLE, layout=_slider_layout()),
            "max_flops": widgets.SelectionSlider(options=options, value=max_flops or budgets[-1],
                                                 description="largest budget", continuous_update=False,
                                                 style=_STYLE, layout=_slider_layout()),
        }
        super().__init__(controls, plot_refit)

    def compute(self, min_flops, max_flops):
        return compute_refit(min_flops, max_flops, self.runs_name)

    def compute_quick(self, min_flops, max_flops):
        return compute_refit(min_flops, max_flops, self.runs_name, warm=[self.result.fit, *known_fits()])

    def describe(self, v) -> str:
        if v.fit is None:
            return f"<span style='color:#b00'>{html.escape(v.message)}</span>"
        f, t = v.fit, self.truth
        rows = [(symbol, f"{getattr(f, key):.4g}" + (f"  (truth {getattr(t, key):.4g})" if t else ""))
                for symbol, key in (("E", "E"), ("A", "A"), ("B", "B"), ("α", "alpha"), ("β", "beta"))]
        rows.append(("a = β/(α+β), N_opt ∝ C^a", f"{f.a:.3f}" + (f"  (truth {t.a:.3f})" if t else "")))
        truth_ratio = f"  (truth {compute_optimal(1e22, fit=t).tokens_per_param:.1f})" if t else ""
        rows.append(("optimal tokens per parameter at 1e22 FLOPs", f"{v.tokens_per_param:.1f}{truth_ratio}"))
        rows.append(("runs in the fit", f"{int(v.included.sum())}"))
        return _table(rows)


class MiniseriesExplorer(Explorer):
    """Lesson 07: the laptop miniseries for a chosen Zipf exponent, its fit and the exact entropy."""

    title = "Miniseries explorer: how does the language change the law?"

    def __init__(self, exponent=1.5):
        controls = {"exponent": widgets.Dropdown(options=list(MINISERIES_EXPONENTS), value=exponent,
                                                 description="Zipf exponent a", style=_STYLE,
                                                 layout=widgets.Layout(width="300px"))}
        super().__init__(controls, plot_miniseries)

    def compute(self, exponent):
        return compute_miniseries(exponent)

    def compute_quick(self, exponent):
        return compute_miniseries(exponent, warm=[self.result.fit, *known_fits()])

    def describe(self, v) -> str:
        f = v.fit
        return _table([
            ("exact entropy E (nats/character)", f"{v.exact_entropy:.4f}"),
            ("fitted E", f"{f.E:.4f} ({100 * v.entropy_error:+.1f}%)"),
            ("fitted α, β", f"{f.alpha:.3f}, {f.beta:.3f}"),
            ("N_opt ∝ C^a, a", f"{f.a:.3f}"),
            ("optimal tokens per parameter at 1e11 / 1e12 FLOPs",
             f"{v.tokens_per_param(1e11):.1f} / {v.tokens_per_param(1e12):.1f}"),
        ])


def widget_check():
    """A slider and a line of text that changes with it: if both show, widgets work here."""
    slider = widgets.IntSlider(value=3, min=0, max=10, description="try me")
    echo = widgets.HTML()

    def show(change=None):
        echo.value = f"Widgets work: the slider is at <b>{slider.value}</b>. Move it and this number follows."

    slider.observe(show, names="value")
    show()
    return widgets.VBox([slider, echo])


# --- self-checks ----------------------------------------------------------------------------------

_TIMES_TEN = re.compile(r"^\s*([+-]?[0-9.]+)\s*(?:[x×*]|\*\*)\s*10\s*(?:\^|\*\*)\s*\(?\s*([+-]?[0-9]+)\s*\)?\s*$")
_FRACTION = re.compile(r"^\s*([+-]?[0-9.]+)\s*/\s*([0-9.]+)\s*$")


def read_number(text: str) -> float | None:
    """A learner's typed number: 1.4T, 2.5e23, 8.64 × 10^19, 8.64*10**19, 3/5, -0.5; None if unreadable."""
    text = str(text).strip().replace("−", "-")
    match = _TIMES_TEN.match(text)
    if match:
        try:
            return float(match.group(1)) * 10.0 ** int(match.group(2))
        except ValueError:
            return None
    match = _FRACTION.match(text)
    if match:
        try:
            return float(match.group(1)) / float(match.group(2))
        except (ValueError, ZeroDivisionError):
            return None
    sign = -1.0 if text.startswith("-") else 1.0   # sizes are positive, but some answers are not
    try:
        return sign * parse_quantity(text.lstrip("+-").strip(), name="answer")
    except ScalingLabError:
        return None


class SelfCheck:
    """An ungraded question with immediate feedback: multiple choice, or a number within a tolerance."""

    def __init__(self, question, answer, options=None, explanation="", hint="", rel_tol=0.05):
        self.question, self.answer, self.options = question, answer, options
        self.explanation, self.hint, self.rel_tol = explanation, hint, rel_tol
        if options is not None:
            if answer not in options:
                raise ScalingLabError(f"answer must be one of the options; got {answer!r}")
            self.input = widgets.RadioButtons(options=options, value=None, layout=widgets.Layout(width="auto"))
        else:
            self.input = widgets.Text(placeholder="a number, e.g. 1.4T or 2.5e23", layout=widgets.Layout(width="260px"))
        self.button = widgets.Button(description="Check", button_style="primary")
        self.feedback = widgets.HTML()
        self.button.on_click(lambda _: self.check())
        self.widget = widgets.VBox([widgets.HTML(f"<p><b>{question}</b></p>"), self.input,
                                    widgets.HBox([self.button]), self.feedback])

    def is_correct(self) -> bool | None:
        """True or False, or None when nothing is answered yet."""
        value = self.input.value
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if self.options is not None:
            return value == self.answer
        number = read_number(value)
        if number is None:
            return "unreadable"
        return abs(number - self.answer) <= self.rel_tol * abs(self.answer)

    def check(self) -> bool | None:
        ok = self.is_correct()
        if ok == "unreadable":
            self.feedback.value = ("<span style='color:#555'>Could not read that as a number: write it like "
                                   "2.5e23, 8.64 × 10^19, 1.4T or -0.5.</span>")
            return False
        if ok is None:
            self.feedback.value = "<span style='color:#555'>Not answered yet.</span>"
        elif ok:
            self.feedback.value = f"<span style='color:#060'>✓ Correct.</span> {self.explanation}"
        else:
            self.feedback.value = f"<span style='color:#b00'>✗ Not quite.</span> {self.hint}"
        return ok

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def quiz(*checks: SelfCheck):
    """Several self-checks in one box."""
    for check in checks:
        check.widget.layout.margin = "0 0 12px 0"
    return widgets.VBox([c.widget for c in checks])
