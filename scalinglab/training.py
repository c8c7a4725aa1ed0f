"""From FLOPs to days, GPU-hours, energy and money.

days = C / (n_devices x peak FLOP/s x MFU) / 86,400. Model FLOPs utilisation
(MFU, Chowdhery et al. 2022, arXiv 2204.02311, section 4.1) is the share of
the peak that goes into the model's own FLOPs; large runs reach 20-55%.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._checks import ScalingLabError, as_count, as_flag, as_fraction, as_positive, scalar_or_array
from .hardware import Accelerator, accelerator as find_accelerator
from .units import SECONDS_PER_DAY, SECONDS_PER_HOUR

#: Highest MFU reported for a large training run we know of: MegaScale, 55.2% on a
#: 175B model (Jiang et al. 2024, arXiv 2402.15627).
HIGHEST_REPORTED_MFU = 0.552
_JOULES_PER_MWH = 3.6e9


@dataclass(frozen=True)
class TrainingEstimate:
    """How long a training run takes, and what it costs, under stated assumptions."""

    flops: float                       # training FLOPs
    accelerator: str
    n_devices: int
    mfu: float                         # fraction of peak achieved
    precision: str
    sparse: bool
    peak_flops_per_device: float       # FLOP/s
    seconds: float
    energy_mwh: float | None           # None when the accelerator's power is not published
    cost_usd: float | None             # None without a price
    pue: float
    price_per_device_hour: float | None
    assumptions: tuple                 # human-readable, one per assumption

    @property
    def days(self) -> float:
        return self.seconds / SECONDS_PER_DAY

    @property
    def device_hours(self) -> float:
        """Devices x hours (GPU-hours for GPUs)."""
        return self.n_devices * self.seconds / SECONDS_PER_HOUR

    @property
    def gpu_hours(self) -> float:
        """Alias of :attr:`device_hours`."""
        return self.device_hours

    @property
    def cluster_flops(self) -> float:
        """Sustained throughput of the whole cluster: n_devices x peak x MFU, in FLOP/s."""
        return self.n_devices * self.peak_flops_per_device * self.mfu

    def explain(self) -> str:
        """The calculation and its assumptions, as text."""
        lines = [
            f"{self.flops:.3g} FLOPs / ({self.n_devices:,} x {self.peak_flops_per_device / 1e12:g} TFLOP/s"
            f" x MFU {self.mfu:.0%}) = {self.seconds:.3g} s = {self.days:.1f} days",
            f"{self.device_hours:,.0f} device-hours",
        ]
        if self.energy_mwh is not None:
            lines.append(f"{self.energy_mwh:,.0f} MWh (TDP x devices x time x PUE {self.pue:g})")
        if self.cost_usd is not None:
            lines.append(f"${self.cost_usd:,.0f} at ${self.price_per_device_hour:g} per device-hour")
        lines += [f"assumes: {a}" for a in self.assumptions]
        return "\n".join(lines)

    def __str__(self):
        return self.explain()

    def _repr_html_(self):
        rows = [
            ("days", f"{self.days:,.1f}"),
            ("device-hours", f"{self.device_hours:,.0f}"),
            ("energy", "n/a (no published power)" if self.energy_mwh is None else f"{self.energy_mwh:,.0f} MWh"),
            ("cost", "n/a (no price given)" if self.cost_usd is None else f"${self.cost_usd:,.0f}"),
        ]
        body = "".join(f"<tr><td>{k}</td><td style='text-align:right'>{v}</td></tr>" for k, v in rows)
        notes = "".join(f"<li>{a}</li>" for a in self.assumptions)
        return f"<table>{body}</table><ul>{notes}</ul>"


def training_time(flops, accelerator, n_devices, mfu, precision="bf16", sparse=False, *,
                  price_per_device_hour=None, pue=1.0) -> TrainingEstimate:
    """Wall-clock time, device-hours, energy and cost of a training run.

    seconds = flops / (n_devices x peak x mfu), with ``flops`` in FLOPs, the
    peak of ``accelerator`` at ``precision`` in FLOP/s (dense unless
    ``sparse=True``) and ``mfu`` a fraction in (0, 1]. Energy in MWh is
    n_devices x TDP x seconds x ``pue`` (the accelerators only: hosts,
    network and cooling beyond the PUE are left out). Cost in USD is
    device-hours x ``price_per_device_hour``.

    The popular "GPT-4 took about 98 days" figure follows from 6ND with all
    1.7T parameters, on 13T tokens and 25,000 A100s -- but only with the
    sparse 624 TFLOP/s peak and 100% utilisation:

    >>> est = training_time(6 * 1.7e12 * 13e12, "A100", 25_000, mfu=1.0, sparse=True)
    >>> round(est.days, 1)
    98.4

    LLaMA-65B processed about 380 tokens/s per A100-80GB, so 1.4T tokens on
    2,048 GPUs took about 21 days and 1,022,362 GPU-hours (Touvron et al. 2023,
    arXiv 2302.13971, section 2.4 and Table 15). That throughput is an MFU of 48%:

    >>> from scalinglab import accelerator
    >>> mfu = 380 * 6 * 65.2e9 / accelerator("A100").peak_flops("bf16")
    >>> round(mfu, 3)
    0.476
    >>> est = training_time(6 * 65.2e9 * 1.4e12, "A100", 2048, mfu)
    >>> round(est.days, 1), round(est.gpu_hours)
    (20.8, 1023392)
    """
    C = as_positive("flops", flops, "FLOPs")
    if not isinstance(C, float):
        raise ScalingLabError("flops must be a single number of FLOPs; for many runs call training_time in a loop")
    acc = find_accelerator(accelerator) if not isinstance(accelerator, Accelerator) else accelerator
    n_devices = as_count("n_devices", n_devices, "devices")
    mfu = as_fraction("mfu", mfu, "a model FLOPs utilisation")
    sparse = as_flag("sparse", sparse)
    peak = acc.peak_flops(precision, sparse)
    pue = as_positive("pue", pue, "(power usage effectiveness, facility / IT power)", scalar=True)
    if pue < 1:
        raise ScalingLabError(f"pue must be at least 1 (facility power / IT power); got {pue!r}")
    seconds = C / (n_devices * peak * mfu)
    energy = None if acc.tdp_w is None else n_devices * acc.tdp_w * seconds * pue / _JOULES_PER_MWH
    cost = None
    if price_per_device_hour is not None:
        price = as_positive("price_per_device_hour", price_per_device_hour, "USD per device-hour",
                            allow_zero=True, scalar=True)
        cost = price * n_devices * seconds / SECONDS_PER_HOUR
    for what, value in (("the training time", seconds), ("the energy", energy), ("the cost", cost)):
        if value is not None:
            scalar_or_array(value, what, flops=C, n_devices=n_devices, mfu=mfu)
    notes = [f"{acc.name} peak of {peak / 1e12:g} TFLOP/s per device ({precision}, "
             f"{'2:4-sparse' if sparse else 'dense'}; {acc.source})"]
    if sparse:
        notes.append("the sparse peak is twice the dense one; training dense weights cannot use it, "
                     "so this halves the time")
    if mfu >= 0.999:
        notes.append("100% utilisation: every device computes at its peak all the time; real runs "
                     f"reach about 20-55% (the best reported is {HIGHEST_REPORTED_MFU:.1%})")
    elif mfu > HIGHEST_REPORTED_MFU:
        notes.append(f"an MFU of {mfu:.0%} is above the best reported for a large run ({HIGHEST_REPORTED_MFU:.1%})")
    else:
        notes.append(f"an MFU of {mfu:.0%} sustained for the whole run, with no restarts or failures")
    notes.append("the FLOP count is the caller's: for a mixture of experts it should use active parameters")
    if energy is None:
        notes.append(f"no energy estimate: {acc.vendor} publishes no power figure for the {acc.name}")
    return TrainingEstimate(
        flops=C, accelerator=acc.name, n_devices=n_devices, mfu=mfu, precision=precision.lower(),
        sparse=bool(sparse), peak_flops_per_device=peak, seconds=seconds, energy_mwh=energy, cost_usd=cost,
        pue=pue, price_per_device_hour=None if cost is None else price, assumptions=tuple(notes),
    )
