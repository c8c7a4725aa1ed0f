"""Memory, rooflines and parallelism: will a model fit, and how fast can a step possibly be?

Bytes of a training step (ZeRO, Rajbhandari et al. 2019, arXiv 1910.02054, section 3.1 and 5),
activations (Korthikanti et al. 2022, arXiv 2205.05198, Table 2), the roofline of a device
(peak FLOP/s against memory bandwidth; Williams et al. 2009), the KV cache and the floor of a
decoding step ("How to Scale Your Model", jax-ml/scaling-book, Part 7), and the pipeline bubble
(Huang et al. 2019, arXiv 1811.06965; Narayanan et al. 2021, arXiv 2104.04473, section 2.2).
Sizes are in bytes (1 GB = 1e9 bytes), times in seconds, rates in FLOP/s and bytes/s.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

from ._checks import ScalingLabError, as_count, as_flag, as_number, as_positive, normalise_name, unknown_name
from .hardware import accelerator as find_accelerator

#: Bytes per parameter by training precision: (weights, gradients, fp32 master copy, one optimizer-state value).
#: Mixed precision keeps 16-bit weights and gradients for the matmuls, and an fp32 master copy and fp32
#: moments for the update (ZeRO section 3.1; Micikevicius et al. 2018, arXiv 1710.03740).
TRAINING_PRECISIONS = {
    "bf16-mixed": (2, 2, 4, 4),
    "fp16-mixed": (2, 2, 4, 4),
    "fp32": (4, 4, 0, 4),
    "bf16": (2, 2, 0, 2),        # everything in bf16, no master copy: small updates are rounded away
}
#: Optimizer-state values kept per parameter: Adam(W) two moments, SGD with momentum one, plain SGD none.
OPTIMIZERS = {"adamw": 2, "adam": 2, "sgd-momentum": 1, "sgd": 0}
#: Activation recomputation (Korthikanti et al. 2022): keep everything, recompute attention only, or
#: keep only each layer's input and recompute the whole layer.
RECOMPUTE = ("none", "selective", "full")
ZERO_STAGES = (0, 1, 2, 3)
_MAX_PARAMS = 1e15            # a quadrillion parameters: beyond any model trained so far
_MAX_DEVICES = 10_000_000
_MAX_COUNT = 10_000_000       # layers, heads, tokens per sequence, micro-batch, stages...


def _choice(argument: str, value, known, kind: str) -> str:
    """A name from ``known``, forgiving case, spaces, dashes and underscores; else suggestions."""
    by_key = {normalise_name(k): k for k in known}
    key = normalise_name(value) if isinstance(value, str) else None
    if key not in by_key:
        raise unknown_name(argument, value, kind, known)
    return by_key[key]


def _n_params(value) -> float:
    N = as_positive("n_params", value, "parameters", scalar=True)
    if N > _MAX_PARAMS:
        raise ScalingLabError(f"n_params must be at most {_MAX_PARAMS:.0e} parameters; got {N:.3g}")
    return N


def _gb(x: float) -> str:
    return f"{x / 1e9:,.1f} GB" if x >= 1e8 else f"{x / 1e6:,.1f} MB"


# --- model states: weights, gradients, optimizer ----------------------------------------------------

@dataclass(frozen=True)
class TrainingMemory:
    """Bytes of the model states of a training run, in total and per device after ZeRO sharding."""

    n_params: float
    optimizer: str
    precision: str
    shards: int
    zero_stage: int
    bytes_per_param: float               # weights + gradients + optimizer (moments and master copy)
    total_bytes: float                   # bytes_per_param x n_params, over all devices, unsharded
    per_device_bytes: float              # what one device holds after sharding
    weight_bytes_per_param: float = field(repr=False, default=0.0)
    gradient_bytes_per_param: float = field(repr=False, default=0.0)
    optimizer_bytes_per_param: float = field(repr=False, default=0.0)
    weights_per_device: float = field(repr=False, default=0.0)      # bytes
    gradients_per_device: float = field(repr=False, default=0.0)    # bytes
    optimizer_per_device: float = field(repr=False, default=0.0)    # bytes

    @property
    def per_device_gb(self) -> float:
        return self.per_device_bytes / 1e9

    @property
    def total_gb(self) -> float:
        return self.total_bytes / 1e9

    def parts(self) -> dict:
        """Per-device bytes of weights, gradients and optimizer states (moments and fp32 master copy)."""
        return {"weights": self.weights_per_device, "gradients": self.gradients_per_device,
                "optimizer": self.optimizer_per_device}

    def fits(self, accelerator, activation_bytes=0.0) -> bool:
        """Whether the per-device model states plus ``activation_bytes`` fit in the device's memory."""
        acc = find_accelerator(accelerator)
        extra = as_positive("activation_bytes", activation_bytes, "bytes", allow_zero=True, scalar=True)
        return self.per_device_bytes + extra <= acc.memory_bytes

    def _repr_html_(self):
        rows = [("bytes per parameter", f"{self.bytes_per_param:g}"), ("total", _gb(self.total_bytes)),
                *((f"{k} per device", _gb(v)) for k, v in self.parts().items()),
                ("per device", _gb(self.per_device_bytes))]
        body = "".join(f"<tr><td>{html.escape(k)}</td><td style='text-align:right'>{v}</td></tr>" for k, v in rows)
        return (f"<b>{self.optimizer}, {self.precision}, ZeRO stage {self.zero_stage} over {self.shards:,} "
                f"device(s)</b><table>{body}</table>")


def training_memory(n_params, optimizer="adamw", precision="bf16-mixed", shards=1, zero_stage=0) -> TrainingMemory:
    """Bytes of weights, gradients and optimizer states for training, in total and per device.

    With Ψ parameters, mixed-precision Adam keeps 2Ψ bytes of 16-bit weights, 2Ψ of 16-bit gradients
    and KΨ of optimizer states with K = 12 (an fp32 master copy, momentum and variance): 16 bytes per
    parameter, before any activation (Rajbhandari et al. 2019, "ZeRO", arXiv 1910.02054, section 3.1).
    ZeRO shards these over ``shards`` data-parallel devices N_d: stage 1 the optimizer states
    (4Ψ + KΨ/N_d per device), stage 2 also the gradients (2Ψ + 14Ψ/N_d), stage 3 also the weights
    (16Ψ/N_d) (section 5, Figure 1). Stage 0 is plain data parallelism: every device holds everything.

    ``n_params`` in parameters; ``optimizer`` one of "adamw", "adam", "sgd-momentum", "sgd";
    ``precision`` one of "bf16-mixed", "fp16-mixed", "fp32", "bf16" (all 16-bit, no master copy);
    ``shards`` devices (>= 1); ``zero_stage`` 0 to 3. Sizes in bytes.

    GPT-2 (1.5B parameters) needs 3 GB for its 16-bit weights but at least 24 GB of model states
    with mixed-precision Adam (ZeRO, section 3.1):

    >>> m = training_memory(1.5e9)
    >>> m.bytes_per_param, m.total_bytes / 1e9
    (16.0, 24.0)

    A 7.5B model on 64 devices, ZeRO Figure 1: 120 GB per device, 31.4 GB with stage 1, 16.6 GB
    with stage 2:

    >>> [round(training_memory(7.5e9, shards=64, zero_stage=s).per_device_gb, 1) for s in (0, 1, 2)]
    [120.0, 31.4, 16.6]
    """
    N = _n_params(n_params)
    optimizer = _choice("optimizer", optimizer, OPTIMIZERS, "optimizer")
    precision = _choice("precision", precision, TRAINING_PRECISIONS, "training precision")
    n_d = as_count("shards", shards, "devices", maximum=_MAX_DEVICES, why="ten million devices")
    if isinstance(zero_stage, (bool, np.bool_)) or not isinstance(zero_stage, (int, np.integer)) \
            or int(zero_stage) not in ZERO_STAGES:
        raise ScalingLabError(f"zero_stage must be 0, 1, 2 or 3 (0: no sharding; 1: optimizer states; "
                              f"2: also gradients; 3: also weights); got {zero_stage!r}")
    stage = int(zero_stage)
    w, g, master, state = TRAINING_PRECISIONS[precision]
    o = master + OPTIMIZERS[optimizer] * state            # bytes per parameter of optimizer states
    shard = {"w": stage >= 3, "g": stage >= 2, "o": stage >= 1}
    per = {k: N * b / (n_d if shard[k] else 1) for k, b in (("w", w), ("g", g), ("o", o))}
    return TrainingMemory(
        n_params=N, optimizer=optimizer, precision=precision, shards=n_d, zero_stage=stage,
        bytes_per_param=float(w + g + o), total_bytes=N * (w + g + o), per_device_bytes=sum(per.values()),
        weight_bytes_per_param=float(w), gradient_bytes_per_param=float(g), optimizer_bytes_per_param=float(o),
        weights_per_device=per["w"], gradients_per_device=per["g"], optimizer_per_device=per["o"],
    )


# --- activations -------------------------------------------------------------------------------------

def activation_memory(n_layer, d_model, n_head, n_ctx, micro_batch=1, recompute="none", tensor_parallel=1,
                      sequence_parallel=False) -> float:
    """Bytes of activations a transformer stack keeps for the backward pass, per device.

    Per layer, with sequence length s = ``n_ctx``, micro-batch b, width h = ``d_model``, a = ``n_head``
    heads and t = ``tensor_parallel``, in bytes with 16-bit activations (Korthikanti et al. 2022,
    "Reducing Activation Recomputation in Large Transformer Models", arXiv 2205.05198, Table 2):

    - no recomputation: sbh(34 + 5as/h); with tensor parallelism sbh(10 + 24/t + 5as/(ht));
      with sequence parallelism as well (sbh/t)(34 + 5as/h);
    - selective recomputation (the attention scores and softmax are recomputed): sbh(10 + 24/t),
      or 34sbh/t with sequence parallelism;
    - full recomputation (only each layer's input is kept): 2sbh, whatever t (as in Table 2).

    The 5as/h term is the attention matrices: it grows with the square of the sequence length.
    Multiplied by ``n_layer``. Embeddings, the output layer and pipeline schedules are left out.

    For GPT-3 175B (s = 2048, h = 12288, a = 96) the attention term 5as/h = 80 outweighs the 34 of
    the rest of the layer, so selective recomputation keeps 70% less than storing everything:

    >>> gpt3 = dict(n_layer=96, d_model=12288, n_head=96, n_ctx=2048)
    >>> 1 - activation_memory(**gpt3, recompute="selective") / activation_memory(**gpt3)
    0.7017543859649122
    >>> round(activation_memory(**gpt3) / 1e9, 1)     # GB for one sequence, no parallelism
    275.4
    """
    L = as_count("n_layer", n_layer, "layers", maximum=_MAX_COUNT)
    h = as_count("d_model", d_model, "channels", maximum=_MAX_COUNT)
    a = as_count("n_head", n_head, "attention heads", maximum=h, why="at most d_model")
    s = as_count("n_ctx", n_ctx, "tokens per sequence", maximum=_MAX_COUNT)
    b = as_count("micro_batch", micro_batch, "sequences", maximum=_MAX_COUNT)
    recompute = _choice("recompute", recompute, RECOMPUTE, "recomputation mode")
    t = as_count("tensor_parallel", tensor_parallel, "devices", maximum=a, why="at most one head per device")
    sp = as_flag("sequence_parallel", sequence_parallel)
    sbh = float(s) * b * h                        # elements of one (sequence x batch x width) tensor
    attention = 5.0 * a * s / h                   # the attention scores, softmax and dropout mask
    if recompute == "full":
        per_layer = 2.0 * sbh
    elif sp:
        per_layer = sbh / t * (34.0 + (attention if recompute == "none" else 0.0))
    else:
        per_layer = sbh * (10.0 + 24.0 / t + (attention / t if recompute == "none" else 0.0))
    return per_layer * L


# --- rooflines ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Roofline:
    """A device as two numbers: peak FLOP/s and memory bandwidth in bytes/s; their ratio is the ridge."""

    name: str
    precision: str
    peak_flops: float          # FLOP/s
    bandwidth: float           # bytes/s (HBM, or a laptop's DRAM)
    ridge_intensity: float     # FLOP/byte: peak_flops / bandwidth

    def time(self, flops, bytes_moved) -> float:
        """Lower bound on a kernel's time in seconds: max(flops / peak, bytes / bandwidth)."""
        F = as_positive("flops", flops, "FLOPs", allow_zero=True)
        B = as_positive("bytes_moved", bytes_moved, "bytes", allow_zero=True)
        return _finite(np.maximum(F / self.peak_flops, B / self.bandwidth), "the kernel time")

    def attainable_flops(self, intensity):
        """Best FLOP/s at an arithmetic intensity in FLOP/byte: min(peak, intensity x bandwidth)."""
        I = as_positive("intensity", intensity, "FLOP/byte", allow_zero=True)
        return _finite(np.minimum(self.peak_flops, I * self.bandwidth), "the attainable FLOP/s")

    def bound(self, flops, bytes_moved) -> str:
        """"compute" if a kernel's FLOPs take longer than its bytes at peak, else "memory"."""
        F = as_positive("flops", flops, "FLOPs", allow_zero=True, scalar=True)
        B = as_positive("bytes_moved", bytes_moved, "bytes", allow_zero=True, scalar=True)
        return "compute" if F / self.peak_flops >= B / self.bandwidth else "memory"

    def _repr_html_(self):
        return (f"<b>{html.escape(self.name)}</b> ({self.precision}): {self.peak_flops / 1e12:,.3g} TFLOP/s, "
                f"{self.bandwidth / 1e12:,.3g} TB/s, ridge at {self.ridge_intensity:,.0f} FLOP/byte")


def _finite(x, what):
    arr = np.asarray(x, dtype=float)
    if not np.isfinite(arr).all():
        raise ScalingLabError(f"{what} is not a finite number: the arguments are too large for 64-bit floats")
    return float(arr) if arr.ndim == 0 else arr


def roofline(accelerator, precision="bf16", sparse=False, *, peak_flops=None, bandwidth=None,
             name=None) -> Roofline:
    """The roofline of a device: peak FLOP/s, memory bandwidth and the ridge point between them.

    ridge_intensity = peak FLOP/s / bandwidth (bytes/s), in FLOP/byte: a kernel doing fewer FLOPs per
    byte it moves is memory-bound, one doing more is compute-bound (Williams, Waterman & Patterson 2009,
    "Roofline", CACM 52(4); jax-ml/scaling-book, Part 1). ``accelerator`` is a name in the accelerator
    table (dense peak at ``precision`` unless ``sparse=True``, HBM bandwidth from its datasheet), or
    None with ``peak_flops`` (FLOP/s) and ``bandwidth`` (bytes/s) measured yourself; either overrides
    the table.

    H100 SXM, dense BF16: 989 TFLOP/s over 3.35 TB/s (NVIDIA H100 datasheet):

    >>> r = roofline("H100 SXM")
    >>> round(r.ridge_intensity)
    295
    >>> r.bound(flops=2 * 8192**3, bytes_moved=3 * 2 * 8192**2)   # a large bf16 matmul
    'compute'
    """
    if accelerator is None:
        if peak_flops is None or bandwidth is None:
            raise ScalingLabError("roofline: give an accelerator name, or accelerator=None with both "
                                  "peak_flops (FLOP/s) and bandwidth (bytes/s)")
        label, peak, bw = "measured", None, None
    else:
        acc = find_accelerator(accelerator)
        label, peak, bw = acc.name, acc.peak_flops(precision, sparse), acc.bandwidth_bytes_per_s
    if peak_flops is not None:
        peak = as_positive("peak_flops", peak_flops, "FLOP/s", scalar=True)
    if bandwidth is not None:
        bw = as_positive("bandwidth", bandwidth, "bytes/s", scalar=True)
    if name is not None:
        if not isinstance(name, str):
            raise ScalingLabError(f"name must be a string; got {name!r}")
        label = name
    precision_label = precision if isinstance(precision, str) else str(precision)
    return Roofline(label, precision_label, float(peak), float(bw), _finite(peak / bw, "the ridge intensity"))


# --- inference: the KV cache and the floor of a decoding step -------------------------------------

def kv_cache_bytes(n_layers, n_kv_heads, head_dim, n_tokens, bytes_per_value=2):
    """Bytes of the key-value cache: 2 (keys and values) x layers x KV heads x head dim x tokens x bytes.

    With grouped-query attention (Ainslie et al. 2023, arXiv 2305.13245) several query heads share one
    key-value head, so ``n_kv_heads`` is smaller than the number of query heads and the cache shrinks
    by that factor. ``n_tokens`` counts every cached token of every sequence (context x batch);
    ``bytes_per_value`` is 2 for bf16. Formula and example: jax-ml/scaling-book, Part 7.

    LLaMA-2 13B (40 layers, 40 KV heads of 128) caches 6.7 GB for one 8,192-token sequence:

    >>> kv_cache_bytes(40, 40, 128, 8192) / 1e9
    6.7108864

    Llama 3 70B (80 layers, 8 KV heads of 128; Llama 3 report, arXiv 2407.21783, Table 3), per token:

    >>> kv_cache_bytes(80, 8, 128, 1)
    327680
    """
    L = as_count("n_layers", n_layers, "layers", maximum=_MAX_COUNT)
    K = as_count("n_kv_heads", n_kv_heads, "key-value heads", maximum=_MAX_COUNT)
    H = as_count("head_dim", head_dim, "channels per head", maximum=_MAX_COUNT)
    T = as_count("n_tokens", n_tokens, "tokens", maximum=10 ** 12, why="a trillion cached tokens")
    nbytes = as_number("bytes_per_value", bytes_per_value, "a number of bytes per value in (0, 8], "
                       "e.g. 2 for bf16 or 1 for fp8", lambda x: 0 < x <= 8)
    total = 2 * L * K * H * T * nbytes
    return int(total) if float(nbytes).is_integer() else float(total)


@dataclass(frozen=True)
class DecodeStep:
    """The lower bound on one decoding step: every weight (and every cached token) read once."""

    n_params: float
    accelerator: str
    n_devices: int
    batch: int
    seconds: float                    # max(compute_seconds, memory_seconds)
    compute_seconds: float            # 2 x n_params x batch FLOPs at the devices' peak
    memory_seconds: float             # weights + KV cache read from HBM at full bandwidth
    bound: str                        # "memory" or "compute"
    bytes_moved: float = field(repr=False, default=0.0)
    flops: float = field(repr=False, default=0.0)
    fits: bool = field(repr=False, default=True)   # weights + KV cache within the devices' memory

    @property
    def tokens_per_second(self) -> float:
        """Tokens per second over the whole batch at this floor."""
        return self.batch / self.seconds

    @property
    def tokens_per_second_per_sequence(self) -> float:
        """What one user sees: 1 / seconds."""
        return 1.0 / self.seconds


def decode_time(n_params, accelerator, n_devices=1, batch=1, *, kv_bytes_per_sequence=0.0, bytes_per_param=2.0,
                precision="bf16") -> DecodeStep:
    """Lower bound on the time of one decoding step (one new token for each of ``batch`` sequences).

    Each step reads every weight once and each sequence's KV cache once, and does about 2N FLOPs per
    token, so seconds >= max(2 N batch / (n_devices x peak), (N x bytes_per_param + batch x KV) /
    (n_devices x bandwidth)), after "How to Scale Your Model" (jax-ml/scaling-book, Part 7), whose
    memory-bound "theoretical min step time" is the second term; its general form adds the KV reads outside
    the maximum (batch x KV / bandwidth + max(FLOP time, weight-read time)), which equals this floor while
    memory-bound and exceeds it once compute-bound. At small batch
    the bytes win: decoding is memory-bound, and a larger batch costs almost no extra time until the
    FLOPs catch up. Communication between devices is left out, so this is a floor, not a forecast.
    ``n_params`` in parameters, ``kv_bytes_per_sequence`` in bytes (see :func:`kv_cache_bytes`),
    ``bytes_per_param`` 2 for bf16 weights.

    A 70B model in bf16 on 8 H100 SXM: 140 GB over 8 x 3.35 TB/s, at least 5.2 ms a token:

    >>> step = decode_time(70e9, "H100", n_devices=8)
    >>> round(step.seconds * 1e3, 2), step.bound
    (5.22, 'memory')
    """
    N = _n_params(n_params)
    acc = find_accelerator(accelerator)
    n = as_count("n_devices", n_devices, "devices", maximum=_MAX_DEVICES, why="ten million devices")
    B = as_count("batch", batch, "sequences", maximum=_MAX_COUNT)
    kv = as_positive("kv_bytes_per_sequence", kv_bytes_per_sequence, "bytes", allow_zero=True, scalar=True)
    bpp = as_number("bytes_per_param", bytes_per_param, "a number of bytes per weight in (0, 8], e.g. 2 for "
                    "bf16 or 0.5 for 4-bit weights", lambda x: 0 < x <= 8)
    flops = 2.0 * N * B                                   # one multiply-add per weight per token
    moved = N * bpp + B * kv                              # bytes read from memory
    compute = flops / (n * acc.peak_flops(precision))
    memory = moved / (n * acc.bandwidth_bytes_per_s)
    seconds = _finite(max(compute, memory), "the step time")
    return DecodeStep(N, acc.name, n, B, seconds, compute, memory, "compute" if compute >= memory else "memory",
                      moved, flops, moved <= n * acc.memory_bytes)


# --- pipelines ---------------------------------------------------------------------------------------

def pipeline_bubble(stages, microbatches) -> float:
    """Fraction of a pipeline-parallel step each device sits idle: (p - 1) / (m + p - 1).

    With p = ``stages`` and m = ``microbatches`` per step, a GPipe or 1F1B schedule takes m + p - 1
    slots of which each stage works m (Huang et al. 2019, "GPipe", arXiv 1811.06965, section 2.3;
    Narayanan et al. 2021, arXiv 2104.04473, section 2.2.1, who give the bubble as (p - 1)/m of the
    ideal time). GPipe calls the bubble negligible once m >= 4p:

    >>> round(pipeline_bubble(4, 16), 3)
    0.158
    >>> pipeline_bubble(1, 1)          # no pipeline, no bubble
    0.0
    """
    p = as_count("stages", stages, "pipeline stages", maximum=_MAX_COUNT)
    m = as_count("microbatches", microbatches, "micro-batches per step", maximum=_MAX_COUNT)
    return (p - 1) / (m + p - 1)
