"""Lesson 10's explorer, "Will it fit, and how fast?": a pure ``compute_memory``, a ``plot_memory`` and the widget.

The model's shape is not a control: from the parameter count N it takes n_layer layers of width
d_model = 128 n_layer with heads of 128 channels, so that N ≈ 12 n_layer d_model² (the aspect of
GPT-3 175B: 96 layers of 12,288; Brown et al. 2020, arXiv 2005.14165, Table 2.1). Training is data
parallel over the devices with the chosen ZeRO stage; tensor and pipeline parallelism are lesson
material, not controls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ipywidgets as widgets
from matplotlib.figure import Figure

from .explorers import Plot, _no_minor_ticks
from .hardware import accelerator as find_accelerator, accelerators
from .memory import OPTIMIZERS, RECOMPUTE, TRAINING_PRECISIONS, TrainingMemory, activation_memory, training_memory
from .models import model_card
from .units import format_quantity
from ._explorer import _STYLE, Explorer, _slider_layout, _table

PARTS = ("weights", "gradients", "optimizer", "activations")
ASPECT = 128          # d_model / n_layer, and channels per head
DEVICE_COUNTS = tuple(2 ** k for k in range(15))            # 1 to 16,384
CONTEXTS = tuple(2 ** k for k in range(9, 18))              # 512 to 131,072 tokens
# the precision whose peak the compute bound uses, for each training precision
_PEAK_PRECISION = {"bf16-mixed": "bf16", "fp16-mixed": "fp16", "bf16": "bf16", "fp32": "fp32"}


def model_shape(n_params) -> tuple:
    """(n_layer, d_model, n_head) with d_model = 128 n_layer and N ≈ 12 n_layer d_model²."""
    n_layer = max(1, round((float(n_params) / (12 * ASPECT ** 2)) ** (1 / 3)))
    d_model = ASPECT * n_layer
    return n_layer, d_model, d_model // ASPECT


@dataclass(frozen=True)
class MemoryView:
    """One setting of the explorer: per-device bytes, whether they fit, and lower bounds on the step time."""

    n_params: float
    accelerator: str
    n_devices: int
    n_ctx: int
    micro_batch: int
    recompute: str
    shape: tuple                     # (n_layer, d_model, n_head)
    memory: TrainingMemory
    activation_bytes: float          # per device
    device_bytes: float              # the device's memory
    max_micro_batch: int             # the largest micro-batch that fits (0: not even the model states)
    tokens_per_step: float
    compute_seconds: float           # 6N (8N with full recomputation) FLOPs per token at peak
    memory_seconds: float            # weights read twice, gradients written, optimizer read and written once
    comm_seconds: float              # gradient sync at the device's interconnect rate (nan if unpublished)

    @property
    def parts(self) -> dict:
        return {**self.memory.parts(), "activations": self.activation_bytes}

    @property
    def total_bytes(self) -> float:
        return self.memory.per_device_bytes + self.activation_bytes

    @property
    def fits(self) -> bool:
        return self.total_bytes <= self.device_bytes

    @property
    def step_seconds(self) -> float:
        """The largest of the three lower bounds (each can hide behind the others at best)."""
        return max(x for x in (self.compute_seconds, self.memory_seconds, self.comm_seconds) if not math.isnan(x))


def compute_memory(n_params, precision="bf16-mixed", optimizer="adamw", zero_stage=0, n_devices=1,
                accelerator="A100", n_ctx=4096, micro_batch=1, recompute="none") -> MemoryView:
    """Per-device memory of data-parallel training with ZeRO, and three floors on the time of a step."""
    mem = training_memory(n_params, optimizer, precision, n_devices, zero_stage)
    acc = find_accelerator(accelerator)
    n_layer, d_model, n_head = shape = model_shape(mem.n_params)
    per_sequence = activation_memory(n_layer, d_model, n_head, n_ctx, 1, recompute)
    activations = per_sequence * micro_batch
    free = acc.memory_bytes - mem.per_device_bytes
    max_b = max(0, int(free // per_sequence)) if free > 0 else 0
    N, n = mem.n_params, mem.shards
    tokens = float(n * micro_batch * n_ctx)
    flops_per_token = (8.0 if recompute == "full" else 6.0) * N
    compute = flops_per_token * tokens / (n * acc.peak_flops(_PEAK_PRECISION[mem.precision]))
    hbm = (2 * N * mem.weight_bytes_per_param + mem.gradients_per_device + 2 * mem.optimizer_per_device)
    memory_seconds = hbm / acc.bandwidth_bytes_per_s
    if n == 1:
        comm = 0.0
    elif acc.interconnect_gb_s is None:
        comm = math.nan
    else:   # all-reduce, or reduce-scatter + all-gather: about 2 x the gradient bytes; ZeRO-3 gathers weights twice
        volume = (3.0 if mem.zero_stage == 3 else 2.0) * N * mem.gradient_bytes_per_param * (n - 1) / n
        comm = volume / acc.interconnect_bytes_per_s()
    return MemoryView(N, acc.name, n, int(n_ctx), int(micro_batch), recompute, shape, mem, activations,
                   acc.memory_bytes, max_b, tokens, compute, memory_seconds, comm)


_COLOURS = {"weights": "C0", "gradients": "C1", "optimizer": "C2", "activations": "C4", "total": "0.35"}
_BOUNDS = ("compute (at peak)", "memory traffic", "gradient sync")


def plot_memory(view: MemoryView) -> Plot:
    """Left: per-device GB of each part and the total against the device's memory. Right: floors on the step."""
    fig = Figure(figsize=(9.0, 3.9), dpi=100, layout="constrained")
    ax, tx = fig.subplots(1, 2, width_ratios=[1.35, 1])
    names = (*PARTS, "total")
    ax.set_yscale("log")
    ax.set_ylim(1e-3, 1e5)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_xticks(range(len(names)), labels=["weights", "gradients", "optimizer\nstates", "activations", "total"],
                  fontsize=8)
    ax.set_ylabel("bytes per device (GB)")
    ax.grid(True, axis="y", alpha=0.3)
    _no_minor_ticks(ax)
    bars = ax.bar(range(len(names)), [1e-3] * len(names), bottom=1e-3,
                  color=[_COLOURS[k] for k in names], width=0.65)
    labels = [ax.text(i, 1e-3, "", ha="center", va="bottom", fontsize=8) for i in range(len(names))]
    (limit,) = ax.plot([-0.6, len(names) - 0.4], [1, 1], color="C3", ls="--", lw=1.5)
    verdict = ax.set_title("", fontsize=9)

    tx.set_xscale("log")
    tx.set_xlim(1e-4, 1e4)
    tx.set_ylim(-0.6, len(_BOUNDS) - 0.4)
    tx.set_yticks(range(len(_BOUNDS)), labels=_BOUNDS, fontsize=9)
    tx.invert_yaxis()
    tx.set_xlabel("lower bound on one step (seconds)")
    tx.grid(True, axis="x", alpha=0.3)
    _no_minor_ticks(tx)
    tbars = tx.barh(range(len(_BOUNDS)), [1e-4] * len(_BOUNDS), left=1e-4, color=["C0", "C2", "C1"], height=0.55)
    tx.set_title("floors on one step", fontsize=9)
    fig.suptitle("Training memory per device, and floors on one step (settings and values in the table below)",
                 fontsize=10)

    def update(v: MemoryView):
        gb = [v.parts[k] / 1e9 for k in PARTS] + [v.total_bytes / 1e9]
        for bar, text, x in zip(bars, labels, gb):
            top = min(max(x, 1e-3), 1e5)
            bar.set_height(top - 1e-3)
            text.set_position((text.get_position()[0], top))
            text.set_text(f"{x:,.3g}" if x >= 1e-3 else "0")
        cap = v.device_bytes / 1e9
        limit.set_ydata([cap, cap])
        verdict.set_text(f"{format_quantity(v.n_params)} parameters; red line: {v.accelerator}, {cap:g} GB. " + (
            "Fits." if v.fits else f"Needs {v.total_bytes / v.device_bytes:,.1f}× that."))
        verdict.set_color("C2" if v.fits else "C3")
        for bar, s in zip(tbars, (v.compute_seconds, v.memory_seconds, v.comm_seconds)):
            bar.set_width(0.0 if math.isnan(s) else min(max(s, 1e-4), 1e4) - 1e-4)


    update(view)
    return Plot(fig, [*bars, *labels, limit, verdict, *tbars], update)


def _seconds(s: float) -> str:
    return f"{s * 1e3:,.3g} ms" if s < 1 else f"{s:,.3g} s"


def _presets() -> dict:
    """Published models with the hardware they were trained on, and the popular 7B-on-one-A100 claim."""
    presets = {"7B on one A100 (the popular claim)": dict(
        n_params=7e9, precision="bf16-mixed", optimizer="adamw", zero_stage=0, n_devices=1,
        accelerator="A100 SXM4 80GB", n_ctx=2048, micro_batch=4, recompute="none")}
    for name, ctx in (("Llama 3.1 405B", 8192), ("LLaMA-65B", 2048)):
        card = model_card(name)
        presets[f"{name}, its GPUs, ZeRO-3 alone"] = dict(n_params=card.params_total, precision="bf16-mixed", optimizer="adamw",
                             zero_stage=3, n_devices=min(DEVICE_COUNTS, key=lambda d: abs(d - card.n_devices)),
                             accelerator=card.accelerator, n_ctx=ctx, micro_batch=1, recompute="full")
    return presets


class MemoryExplorer(Explorer):
    """Lesson 10: will a model fit for training, per device, and how fast can a step be at best?"""

    title = "Will it fit, and how fast?"

    def __init__(self, n_params=7e9, precision="bf16-mixed", optimizer="adamw", zero_stage=0, n_devices=1,
                 accelerator="A100 SXM4 80GB", n_ctx=2048, micro_batch=1, recompute="none", preset=None):
        names = [a.name for a in accelerators()]
        dropdown = widgets.Layout(width="250px")
        controls = {
            "n_params": widgets.FloatLogSlider(value=n_params, base=10, min=8, max=12, step=0.01,
                                               description="parameters N", readout_format=".3g", style=_STYLE,
                                               layout=_slider_layout()),
            "micro_batch": widgets.IntSlider(value=micro_batch, min=1, max=64, description="micro-batch",
                                             style=_STYLE, layout=_slider_layout()),
            "precision": widgets.Dropdown(options=list(TRAINING_PRECISIONS), value=precision,
                                          description="precision", style=_STYLE, layout=dropdown),
            "optimizer": widgets.Dropdown(options=list(OPTIMIZERS), value=optimizer, description="optimizer",
                                          style=_STYLE, layout=dropdown),
            "zero_stage": widgets.Dropdown(options=[0, 1, 2, 3], value=zero_stage, description="ZeRO stage",
                                           style=_STYLE, layout=dropdown),
            "n_devices": widgets.Dropdown(options=list(DEVICE_COUNTS), value=n_devices, description="devices",
                                          style=_STYLE, layout=dropdown),
            "accelerator": widgets.Dropdown(options=names, value=find_accelerator(accelerator).name,
                                            description="accelerator", style=_STYLE,
                                            layout=widgets.Layout(width="340px")),
            "n_ctx": widgets.Dropdown(options=list(CONTEXTS), value=n_ctx, description="sequence length",
                                      style=_STYLE, layout=dropdown),
            "recompute": widgets.Dropdown(options=list(RECOMPUTE), value=recompute, description="recomputation",
                                          style=_STYLE, layout=dropdown),
        }
        super().__init__(controls, plot_memory,
                         layout_rows=[["n_params", "micro_batch"], ["precision", "optimizer", "zero_stage"],
                                      ["accelerator", "n_devices"], ["n_ctx", "recompute"]],
                         presets=_presets(), preset=preset, preset_label="model")

    def compute(self, n_params, micro_batch, precision, optimizer, zero_stage, n_devices, accelerator, n_ctx,
                recompute):
        return compute_memory(n_params, precision, optimizer, zero_stage, n_devices, accelerator, n_ctx, micro_batch,
                           recompute)

    def describe(self, v: MemoryView) -> str:
        m = v.memory
        n_layer, d_model, n_head = v.shape
        verdict = (f"<span style='color:#060'>fits, {(v.device_bytes - v.total_bytes) / 1e9:,.1f} GB spare</span>"
                   if v.fits else f"<span style='color:#b00'>does not fit: {v.total_bytes / 1e9:,.1f} GB needed, "
                                  f"{v.device_bytes / 1e9:g} GB available</span>")
        largest = ("none: the model states alone exceed the memory" if v.max_micro_batch == 0
                   else f"{v.max_micro_batch:,} sequences of {v.n_ctx:,} tokens")
        comm = ("n/a (no published per-device link)" if math.isnan(v.comm_seconds)
                else "none (one device)" if v.comm_seconds == 0 else _seconds(v.comm_seconds))
        rows = [
            ("setting", f"{format_quantity(v.n_params)} parameters, {m.precision}, {m.optimizer}, ZeRO-{m.zero_stage} "
                        f"on {v.n_devices:,} × {v.accelerator}, {format_quantity(v.tokens_per_step)} tokens per step"),
            ("assumed shape", f"{n_layer} layers × d_model {d_model:,}, {n_head} heads"),
            ("model states per device", f"{m.per_device_bytes / 1e9:,.2f} GB ({m.bytes_per_param:g} bytes/param, "
                                        f"ZeRO-{m.zero_stage} over {m.shards:,})"),
            ("activations per device", f"{v.activation_bytes / 1e9:,.2f} GB ({v.recompute} recomputation)"),
            ("verdict", verdict),
            ("largest micro-batch that fits", largest),
            ("step floor: compute at 100% of peak", _seconds(v.compute_seconds)),
            ("step floor: memory traffic", _seconds(v.memory_seconds)),
            ("step floor: gradient sync at the device link rate", comm),
        ]
        note = ("<small>Floors, not forecasts: real steps run at 30-55% of peak, and across nodes the network is "
                "slower than NVLink. Activations follow Korthikanti et al. (2022), Table 2.</small>")
        return _table([(k, v_) for k, v_ in rows]) + note


__all__ = ["MemoryExplorer", "MemoryView", "compute_memory", "model_shape", "plot_memory"]
