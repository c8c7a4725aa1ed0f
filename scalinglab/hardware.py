"""Accelerators: peak FLOP/s per precision, memory, bandwidth, interconnect and power.

The numbers live in ``scalinglab/data/accelerators.csv`` with a source on
every row (vendor datasheets); this module only reads them. Memory
bandwidth (HBM to the chip) is in TB/s; the interconnect between devices
(NVLink, Infinity Fabric, ICI) is the vendor's total per device, both
directions together, in GB/s, with its own source column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from ._checks import ScalingLabError, as_flag, normalise_name, unknown_name
from ._tables import lookup, number, read_table

PRECISIONS = ("fp32", "tf32", "bf16", "fp16", "fp8")
_FILE = "accelerators.csv"


@dataclass(frozen=True)
class Accelerator:
    """One accelerator's datasheet: peaks in TFLOP/s, memory in GB, bandwidth in TB/s, power in W.

    ``interconnect_gb_s`` is the device-to-device link (NVLink, Infinity Fabric, ICI) in GB/s, both
    directions added as vendors quote it; None where no per-device figure is published.
    """

    name: str
    vendor: str
    year: int
    memory_gb: float
    bandwidth_tb_s: float
    tdp_w: float | None                 # None where the vendor publishes no figure
    peaks_tflops: dict = field(repr=False)   # (precision, sparse) -> TFLOP/s
    source: str = field(repr=False, default="")
    notes: str = field(repr=False, default="")
    aliases: tuple = field(repr=False, default=())
    interconnect: str = field(repr=False, default="")
    interconnect_gb_s: float | None = field(repr=False, default=None)
    interconnect_source: str = field(repr=False, default="")

    @property
    def memory_bytes(self) -> float:
        """Device memory in bytes (``memory_gb`` x 1e9)."""
        return self.memory_gb * 1e9

    @property
    def bandwidth_bytes_per_s(self) -> float:
        """Memory (HBM) bandwidth in bytes/s (``bandwidth_tb_s`` x 1e12)."""
        return self.bandwidth_tb_s * 1e12

    def interconnect_bytes_per_s(self) -> float:
        """Device-to-device bandwidth in bytes/s, both directions together.

        >>> accelerator("H100").interconnect_bytes_per_s()     # NVLink 4, H100 SXM datasheet
        900000000000.0
        """
        if self.interconnect_gb_s is None:
            raise ScalingLabError(f"accelerator: the {self.name} has no published per-device interconnect "
                                  f"bandwidth ({self.interconnect_source or 'none in the table'})")
        return self.interconnect_gb_s * 1e9

    def peak_flops(self, precision="bf16", sparse=False) -> float:
        """Peak throughput in FLOP/s at ``precision`` ("fp32", "tf32", "bf16", "fp16", "fp8").

        ``sparse=True`` gives the 2:4 structured-sparsity figure, twice the
        dense one, which NVIDIA datasheets print first. Dense training cannot
        use it: estimates of training time should keep ``sparse=False``.

        >>> accelerator("A100").peak_flops("bf16")          # NVIDIA A100 datasheet
        312000000000000.0
        >>> accelerator("A100").peak_flops("bf16", sparse=True)
        624000000000000.0
        """
        if not isinstance(precision, str) or precision.lower() not in PRECISIONS:
            raise unknown_name("precision", precision, "precision", PRECISIONS)
        precision = precision.lower()
        sparse = as_flag("sparse", sparse)
        tflops = self.peaks_tflops.get((precision, bool(sparse)))
        if tflops is None:
            have = sorted({p for (p, s), v in self.peaks_tflops.items() if v and s == bool(sparse)},
                          key=PRECISIONS.index)
            kind = "2:4-sparse" if sparse else "dense"
            raise ScalingLabError(
                f"precision: the {self.name} has no published {kind} {precision} peak; "
                f"its {kind} peaks are for {', '.join(have) if have else 'no precision'}"
            )
        return tflops * 1e12

    def precisions(self, sparse=False) -> list[str]:
        """Precisions with a published peak (dense by default)."""
        sparse = as_flag("sparse", sparse)
        return [p for p in PRECISIONS if (p, sparse) in self.peaks_tflops]

    def _repr_html_(self):
        peaks = ", ".join(f"{p} {self.peaks_tflops[(p, False)]:g}" for p in self.precisions())
        return (
            f"<b>{self.name}</b> ({self.vendor}, {self.year}): {self.memory_gb:g} GB at "
            f"{self.bandwidth_tb_s:g} TB/s, {self.tdp_w or 'n/p'} W; dense TFLOP/s: {peaks}"
            f"<br><small>{self.source}</small>"
        )


def _row_to_accelerator(row: dict) -> Accelerator:
    peaks = {}
    for precision in PRECISIONS:
        if precision == "fp32":
            value = number(row, "fp32_tflops", _FILE)
            if value:
                peaks[("fp32", False)] = value
            continue
        for sparse in (False, True):
            value = number(row, f"{precision}_{'sparse' if sparse else 'dense'}_tflops", _FILE)
            if value:
                peaks[(precision, sparse)] = value
    for (p, s), v in peaks.items():
        if s and (p, False) in peaks and abs(v / peaks[(p, False)] - 2) > 0.01:
            raise RuntimeError(f"{_FILE}: {row['name']} {p} sparse peak is not twice the dense one")
    memory, bandwidth = number(row, "memory_gb", _FILE), number(row, "bandwidth_tb_s", _FILE)
    if memory is None or bandwidth is None:
        raise RuntimeError(f"{_FILE}: {row['name']} needs memory_gb and bandwidth_tb_s")
    if not row["interconnect"] or not row["interconnect_source"]:
        raise RuntimeError(f"{_FILE}: {row['name']} needs an interconnect and an interconnect_source")
    return Accelerator(
        name=row["name"], vendor=row["vendor"], year=int(row["year"]), memory_gb=memory,
        bandwidth_tb_s=bandwidth, tdp_w=number(row, "tdp_w", _FILE), peaks_tflops=peaks,
        source=row["source"], notes=row["notes"],
        aliases=tuple(a.strip() for a in row["aliases"].split(";") if a.strip()),
        interconnect=row["interconnect"], interconnect_gb_s=number(row, "interconnect_gb_s", _FILE),
        interconnect_source=row["interconnect_source"],
    )


@lru_cache(maxsize=None)
def _accelerators() -> dict:
    records = {}
    for row in read_table(_FILE):
        acc = _row_to_accelerator(row)
        for key in (acc.name, *acc.aliases):
            records[normalise_name(key)] = acc
    return records


def accelerators() -> list[Accelerator]:
    """Every accelerator in the table, in table order."""
    return list({id(a): a for a in _accelerators().values()}.values())


def accelerator(name) -> Accelerator:
    """Look up an accelerator by name or alias; case, spaces and dashes do not matter.

    >>> accelerator("h100 sxm").name
    'H100 SXM5'
    >>> accelerator("H100").peak_flops("bf16") / accelerator("A100").peak_flops("bf16")   # 989 / 312
    3.1698717948717947
    """
    if isinstance(name, Accelerator):
        return name
    return lookup(name, _accelerators(), "accelerator", "accelerator")
