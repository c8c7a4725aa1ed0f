"""A scaling sweep on this computer: many small MLP language models, all cores, one table.

:func:`run_sweep` trains one model per (hidden width H, token budget D) pair
on fresh Zipf-lexicon text (:mod:`scalinglab.mlp_lm`, :mod:`scalinglab.zipf`)
and returns a :class:`SweepTable` with the columns a Chinchilla fit needs,
``n_params`` (parameters), ``n_tokens`` (tokens), ``flops`` (6ND, FLOPs) and
``loss`` (held-out nats per token), plus timings. Runs go to worker
processes, one per core, each with single-threaded BLAS: small matrices gain
nothing from several threads, and two processes sharing two cores with two
BLAS threads each would fight over them.

:func:`measure_machine` times a float32 matrix product to find this
machine's peak FLOP/s, one thread and all threads, and the trainer's achieved
FLOP/s, hence its model FLOPs utilisation (MFU, Chowdhery et al. 2022,
arXiv 2204.02311, section 4.1): 6N x tokens/s over the peak.
"""

from __future__ import annotations

import csv
import io
import math
import os
import pickle
import platform
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from ._checks import ScalingLabError, as_count, as_positive, as_progress, as_seed
from .mlp_lm import BATCH_SIZE, MAX_HIDDEN, MAX_TRAIN_TOKENS, Adam, MLPLanguageModel, mlp_flops, mlp_params, train_mlp, training_contexts
from ._progress import reporter
from .zipf import DEFAULT_EXPONENT, zipf_lexicon

SWEEP_HIDDEN = (16, 32, 64, 128, 256, 512)                          # hidden units
SWEEP_TOKENS = (125_000, 250_000, 500_000, 1_000_000, 2_000_000)    # tokens
QUICK_HIDDEN = (16, 32, 64, 128)
QUICK_TOKENS = (31_250, 62_500, 125_000)
CACHED_EXPONENTS = (1.3, 1.5, 2.0)

#: Columns of a sweep table, in order, with their units.
COLUMNS = {
    "hidden_units": "hidden units H",
    "n_params": "parameters N",
    "n_tokens": "training tokens D",
    "unique_tokens": "distinct training tokens (D for one epoch)",
    "flops": "6ND, FLOPs",
    "counted_flops": "FLOPs the trainer executes (mlp_flops x D)",
    "loss": "held-out loss, nats per token",
    "train_loss": "training loss over the last tenth of steps, nats per token",
    "seconds": "training time, s",
    "tokens_per_second": "tokens/s",
    "flops_per_second": "achieved FLOP/s (counted FLOPs / seconds)",
    "zipf_exponent": "Zipf exponent a of the text",
    "seed": "seed",
}
_INTEGER = ("hidden_units", "n_params", "n_tokens", "unique_tokens", "seed")
# in CSV files the unit goes into the name where the in-memory name has none
_CSV_NAMES = {"loss": "loss_nats", "train_loss": "train_loss_nats"}
MAX_SECONDS = 60.0        # measuring time per timing; the lessons use 1 s
MAX_STEPS = 10_000        # timed training steps; the lessons use 100
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS")


@dataclass(frozen=True, eq=False)
class SweepTable(Mapping):
    """Training runs as columns: ``table["loss"]`` is a numpy array, one entry per run.

    A read-only mapping from column name (see ``COLUMNS``) to array, so
    ``dict(table)`` or ``pandas.DataFrame(table)`` work; :meth:`records` gives
    rows. ``source`` says how the runs were made. A table fresh from a sweep
    also keeps each run's :class:`~scalinglab.mlp_lm.TrainResult` (learning
    curve, trained model) in ``runs``; one read from CSV has none.

    The fitting functions take its columns::

        fit_chinchilla(table["n_params"], table["n_tokens"], table["loss"])
    """

    columns: dict = field(repr=False)
    source: str = ""
    runs: tuple = field(repr=False, default=())   # TrainResult per row, with learning curve and model

    def __getitem__(self, name):
        return self.columns[name]

    def __iter__(self):
        return iter(self.columns)

    def __len__(self):
        return len(self.columns)

    @property
    def n_runs(self) -> int:
        return len(self.columns["loss"])

    def records(self) -> list[dict]:
        """One dict per run."""
        return [{k: v[i].item() for k, v in self.columns.items()} for i in range(self.n_runs)]

    def where(self, **conditions) -> "SweepTable":
        """The runs whose columns equal the given values, e.g. ``table.where(hidden_units=64)``."""
        keep = np.ones(self.n_runs, bool)
        for name, value in conditions.items():
            if name not in self.columns:
                raise ScalingLabError(f"{name}: no such column; columns are {', '.join(self.columns)}")
            keep &= self.columns[name] == value
        runs = tuple(r for r, k in zip(self.runs, keep) if k) if self.runs else ()
        return SweepTable({k: v[keep] for k, v in self.columns.items()}, self.source, runs)

    def to_csv(self, path=None) -> str:
        """Write the table as CSV (units in column names, a ``source`` column); return the text."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([_CSV_NAMES.get(k, k) for k in self.columns] + ["source"])
        for row in self.records():
            writer.writerow([_format(k, v) for k, v in row.items()] + [self.source])
        text = out.getvalue()
        if path is not None:
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        return text

    def __repr__(self):
        return f"SweepTable({self.n_runs} runs, columns {', '.join(self.columns)})"

    def _repr_html_(self):
        shown = ("hidden_units", "n_params", "n_tokens", "flops", "loss", "seconds", "tokens_per_second")
        head = "".join(f"<th>{k}</th>" for k in shown)
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:right'>{_format(k, r[k], short=True)}</td>" for k in shown)
            + "</tr>" for r in self.records())
        return f"<table><tr>{head}</tr>{body}</table><small>{self.source}</small>"


def _format(name, value, short=False) -> str:
    if name in _INTEGER:
        return f"{int(value):,}" if short else str(int(value))
    if short:
        return f"{value:.4g}"
    return repr(float(value))


def sweep_table(results, source="") -> SweepTable:
    """Build a :class:`SweepTable` from :class:`~scalinglab.mlp_lm.TrainResult` records, sorted by H then D."""
    results = sorted(results, key=lambda r: (r.hidden, r.n_tokens, r.unique_tokens))
    rows = [r.record() for r in results]
    if not rows:
        raise ScalingLabError("results must hold at least one training run; got none")
    names = {"hidden_units": "hidden", "zipf_exponent": "exponent"}
    columns = {k: np.array([r[names.get(k, k)] for r in rows], dtype=np.int64 if k in _INTEGER else float)
               for k in COLUMNS}
    return SweepTable(columns, source, tuple(results))


# ------------------------------------------------------------------ worker processes

class _Workers:
    """Fresh Python processes whose BLAS uses ``n_threads`` threads, running functions sent by pickle.

    BLAS libraries read their thread count once, when they load, so it is set
    in the environment a worker starts with, before it imports numpy. A worker
    is started as ``python -c`` rather than by ``multiprocessing``: that works
    the same in a notebook, in a script without an ``if __name__ ==
    "__main__"`` guard and on every operating system.
    """

    def __init__(self, n_workers, n_threads=1):
        env = dict(os.environ, **{k: str(n_threads) for k in _THREAD_VARIABLES})
        package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        command = [sys.executable, "-c", "from scalinglab.sweep import _serve; _serve()"]
        self.processes = [subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
                          for _ in range(n_workers)]

    def call(self, process, fn, *args, **kwargs):
        pickle.dump((fn, args, kwargs), process.stdin)
        process.stdin.flush()
        try:
            ok, value = pickle.load(process.stdout)
        except EOFError:
            raise RuntimeError(f"a sweep worker process stopped (exit code {process.wait()})") from None
        if not ok:
            raise value
        return value

    def map_unordered(self, fn, jobs):
        """Yield fn(**job) for every job, as the workers finish them (one job per worker at a time)."""
        todo, done = queue.SimpleQueue(), queue.SimpleQueue()
        for job in jobs:
            todo.put(job)

        def feed(process):
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    done.put((True, self.call(process, fn, **job)))
                except BaseException as error:        # handed to the main thread, which raises it
                    done.put((False, error))
                    return

        threads = [threading.Thread(target=feed, args=(p,), daemon=True) for p in self.processes]
        for t in threads:
            t.start()
        for _ in range(len(jobs)):
            ok, value = done.get()
            if not ok:
                raise value
            yield value

    def close(self):
        for p in self.processes:
            if p.poll() is None:
                p.stdin.close()
        for p in self.processes:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            p.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:                # interrupted or failed: do not wait for running jobs
            for p in self.processes:
                p.kill()
        self.close()


def _serve():
    """Body of a worker process: run (function, args, kwargs) read from stdin, pickle results to stdout."""
    channel_in, channel_out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr                   # a stray print must not corrupt the channel
    while True:
        try:
            fn, args, kwargs = pickle.load(channel_in)
        except EOFError:
            return
        try:
            reply = (True, fn(*args, **kwargs))
        except Exception as error:
            reply = (False, error)
        pickle.dump(reply, channel_out)
        channel_out.flush()


def default_workers() -> int:
    """Worker processes for a sweep: the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:            # macOS and Windows
        return os.cpu_count() or 1


def run_sweep(hidden=SWEEP_HIDDEN, n_tokens=SWEEP_TOKENS, *, exponent=DEFAULT_EXPONENT, seed=0,
              unique_tokens=None, n_workers=None, progress=True, source=None, **train_kwargs) -> SweepTable:
    """Train one model for every (H, D) in ``hidden`` x ``n_tokens``; return the runs as a table.

    ``hidden`` in hidden units, ``n_tokens`` in tokens, ``exponent`` the Zipf
    exponent a of the text. Every run sees fresh text for a single epoch,
    unless ``unique_tokens`` is given (then D / U epochs over U tokens).
    ``n_workers`` processes (default: the cores available) each run one
    model at a time with single-threaded BLAS, the largest models first so
    that the cores finish together. Other keyword arguments go to
    :func:`~scalinglab.mlp_lm.train_mlp`. Results do not depend on
    ``n_workers``: every run is seeded by ``seed`` alone.

    The full default sweep is 30 runs (N from 2,955 to 80,331 parameters,
    D from 125k to 2M tokens); :func:`quick_sweep` takes a few seconds.
    """
    widths = _as_counts("hidden", hidden, "hidden units", MAX_HIDDEN)
    budgets = _as_counts("n_tokens", n_tokens, "tokens", MAX_TRAIN_TOKENS)
    seed, progress = as_seed("seed", seed), as_progress("progress", progress)
    if unique_tokens is not None:
        U = as_count("unique_tokens", unique_tokens, "tokens")
        if U > min(budgets):
            raise ScalingLabError(f"unique_tokens must be at most the smallest n_tokens ({min(budgets):,}); got {U:,}")
        train_kwargs["unique_tokens"] = U
    a = zipf_lexicon(exponent).exponent            # checks the exponent before any process starts
    jobs = [dict(hidden=H, n_tokens=D, exponent=a, seed=seed, **train_kwargs) for H in widths for D in budgets]
    if source is None:
        source = (f"scalinglab.sweep.run_sweep(hidden={list(widths)}, n_tokens={list(budgets)}, "
                  f"exponent={a:g}, seed={seed}) on {machine_description()}")
    return sweep_table(_run_jobs(jobs, n_workers, progress, f"a = {a:g}"), source)


def isoflop_sweep(flops, hidden=SWEEP_HIDDEN, *, exponent=DEFAULT_EXPONENT, seed=0, n_workers=None,
                  progress=True, **train_kwargs) -> SweepTable:
    """IsoFLOP profiles: for every budget C in ``flops`` (FLOPs) and width H, train on D = C / (6N) tokens.

    Chinchilla's Approach 2 (Hoffmann et al. 2022, arXiv 2203.15556,
    section 3.2) fits a parabola to each budget's loss against log N. The
    cost of a budget grows with C and is largest for the smallest models
    (D = C / 6N): 1e11 FLOPs is D = 5.6M tokens at H = 16, about 7 s.
    """
    budgets = np.atleast_1d(as_positive("flops", flops, "FLOPs"))
    widths = _as_counts("hidden", hidden, "hidden units", MAX_HIDDEN)
    seed, progress = as_seed("seed", seed), as_progress("progress", progress)
    most = float(budgets.max()) / (6 * mlp_params(min(widths)))
    if most > MAX_TRAIN_TOKENS:
        raise ScalingLabError(f"flops: a budget of {budgets.max():.3g} FLOPs gives the H = {min(widths)} model "
                              f"{most:.3g} tokens; expected at most {MAX_TRAIN_TOKENS:.0e} tokens per run "
                              f"(so at most {6 * mlp_params(min(widths)) * MAX_TRAIN_TOKENS:.3g} FLOPs)")
    a = zipf_lexicon(exponent).exponent
    jobs = [dict(hidden=H, n_tokens=max(BATCH_SIZE, round(C / (6 * mlp_params(H)))), exponent=a, seed=seed,
                 **train_kwargs) for C in budgets for H in widths]
    source = (f"scalinglab.sweep.isoflop_sweep(flops={[float(C) for C in budgets]}, hidden={list(widths)}, "
              f"exponent={a:g}, seed={seed}) on {machine_description()}")
    return sweep_table(_run_jobs(jobs, n_workers, progress, f"a = {a:g}"), source)


def _run_jobs(jobs, n_workers, progress, label) -> list:
    jobs = sorted(jobs, key=lambda j: -mlp_flops(j["hidden"]).training_per_token * j["n_tokens"])
    workers = default_workers() if n_workers is None else as_count("n_workers", n_workers, "processes")
    update = reporter(progress, len(jobs), label)
    results = []
    # even one worker is a separate process: single-threaded BLAS gives the same numbers as a parallel run
    with _Workers(min(workers, len(jobs))) as pool:
        for result in pool.map_unordered(train_mlp, jobs):
            results.append(result)
            update(len(results), f"last: H={result.hidden}, D={result.n_tokens:,}, loss {result.loss:.3f}")
    return results


def quick_sweep(*, exponent=DEFAULT_EXPONENT, seed=0, n_workers=None, progress=True) -> SweepTable:
    """A 12-run sweep (H 16-128, D 31k-125k tokens) that takes a few seconds: for a live demo."""
    return run_sweep(QUICK_HIDDEN, QUICK_TOKENS, exponent=exponent, seed=seed, n_workers=n_workers,
                     progress=progress)


def _as_counts(name, values, unit, maximum) -> tuple:
    if isinstance(values, (str, dict, set)) or values is None:
        raise ScalingLabError(f"{name} must be whole numbers of {unit}; got {values!r}")
    values = np.atleast_1d(np.asarray(values, dtype=object))
    if values.size == 0:
        raise ScalingLabError(f"{name} must hold at least one whole number of {unit}; got none")
    return tuple(sorted({as_count(name, v, unit, maximum=maximum) for v in values.ravel()}))


def machine_description() -> str:
    """CPU, cores and numpy version: where a table of timings was measured."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {default_workers()} cores, numpy {np.__version__}, Python {platform.python_version()}"


# ------------------------------------------------------------------ cached sweeps

def _cache_name(exponent) -> str:
    return f"miniseries_a{float(exponent):.1f}.csv"


def load_sweep(exponent=DEFAULT_EXPONENT) -> SweepTable:
    """The cached full sweep for Zipf exponent ``exponent`` (1.3, 1.5 or 2.0), from ``scalinglab/data``.

    Made by ``tools/make_miniseries.py`` (the command is in the ``source``
    column); timings are those of the machine that made it.

    >>> table = load_sweep(1.5)
    >>> table.n_runs, sorted(set(table["hidden_units"].tolist()))
    (30, [16, 32, 64, 128, 256, 512])
    """
    try:
        a = float("nan") if isinstance(exponent, (bool, np.bool_)) else float(exponent)
    except (TypeError, ValueError, OverflowError):
        a = float("nan")
    if not any(math.isclose(a, c) for c in CACHED_EXPONENTS):
        raise ScalingLabError(f"exponent: no cached sweep for {exponent!r}; cached exponents are "
                              f"{', '.join(map(str, CACHED_EXPONENTS))} (run_sweep makes others)")
    path = resources.files("scalinglab").joinpath("data", _cache_name(a))
    with path.open(encoding="utf-8", newline="") as fh:
        return read_sweep_csv(fh.read(), path.name)


def read_sweep_csv(text, name="sweep") -> SweepTable:
    """Parse CSV text written by :meth:`SweepTable.to_csv`, checking every value."""
    rows = list(csv.DictReader(io.StringIO(text)))
    back = {v: k for k, v in _CSV_NAMES.items()}
    if not rows:
        raise ScalingLabError(f"{name}: no runs")
    missing = [c for c in COLUMNS if _CSV_NAMES.get(c, c) not in rows[0]] + (["source"] if "source" not in rows[0] else [])
    if missing:
        raise ScalingLabError(f"{name}: missing columns {', '.join(missing)}")
    columns = {}
    for csv_name in rows[0]:
        key = back.get(csv_name, csv_name)
        if key not in COLUMNS:
            continue
        try:
            values = np.array([float(r[csv_name]) for r in rows])
        except ValueError:
            raise ScalingLabError(f"{name}: non-numeric value in column {csv_name}") from None
        if not np.all(np.isfinite(values)) or (key != "seed" and np.any(values <= 0)):
            raise ScalingLabError(f"{name}: column {csv_name} must hold positive finite numbers")
        columns[key] = values.astype(np.int64) if key in _INTEGER else values
    columns = {k: columns[k] for k in COLUMNS}
    return SweepTable(columns, rows[0]["source"])


# ------------------------------------------------------------------ this machine's speed

def matmul_peak(*, n_threads=1, size=None, seconds=1.0) -> float:
    """Best float32 matrix-multiply throughput of this machine, in FLOP/s.

    Times square products of a few sizes (2 n^3 FLOPs each) for about
    ``seconds`` in a fresh process whose BLAS uses ``n_threads`` threads, and
    returns the best rate seen: the practical peak that MFU is measured against.
    """
    n_threads = as_count("n_threads", n_threads, "threads", maximum=4096)
    seconds = _check_seconds(seconds)
    sizes = (512, 1024, 2048) if size is None else (as_count("size", size, "rows", maximum=16_384),)
    with _Workers(1, n_threads) as pool:
        return pool.call(pool.processes[0], _matmul_peak, sizes, seconds)


def _check_seconds(seconds) -> float:
    seconds = as_positive("seconds", seconds, "s", scalar=True)
    if seconds > MAX_SECONDS:
        raise ScalingLabError(f"seconds must be at most {MAX_SECONDS:g} s of timing (the default is 1 s); "
                              f"got {seconds:g}")
    return seconds


def _matmul_peak(sizes, seconds) -> float:
    best = 0.0
    rng = np.random.default_rng(0)
    for n in sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        c = np.empty_like(a)
        np.matmul(a, b, out=c)                       # warm-up: threads started, pages touched
        stop = time.perf_counter() + seconds / len(sizes)
        while time.perf_counter() < stop:
            start = time.perf_counter()
            np.matmul(a, b, out=c)
            best = max(best, 2.0 * n ** 3 / (time.perf_counter() - start))
    return best


@dataclass(frozen=True)
class TrainerSpeed:
    """How fast the MLP trainer runs at one width: tokens/s and FLOP/s."""

    hidden_units: int
    n_params: int
    tokens_per_second: float
    flops_per_second: float          # FLOPs the trainer executes (mlp_flops), per second
    model_flops_per_second: float    # 6N per token, per second: the numerator of MFU


def trainer_speed(hidden, *, n_steps=200, batch_size=BATCH_SIZE) -> TrainerSpeed:
    """Time ``n_steps`` training steps of width ``hidden`` in this process (best of three timings)."""
    H = as_count("hidden", hidden, "hidden units", maximum=MAX_HIDDEN)
    B = as_count("batch_size", batch_size, "tokens", maximum=1 << 16)
    n_steps = as_count("n_steps", n_steps, "steps", maximum=MAX_STEPS)
    contexts, targets = training_contexts(zipf_lexicon().stream(B * n_steps + 8, seed=1))
    model = MLPLanguageModel(H, seed=0)
    adam = Adam(model.flat)
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        for step in range(n_steps):
            batch = slice(step * B, (step + 1) * B)
            model._step_grads(contexts[batch], targets[batch])
            adam.step(model.grad_flat, 1e-3)
        best = min(best, time.perf_counter() - start)
    tokens_per_second = B * n_steps / best
    return TrainerSpeed(H, model.n_params, tokens_per_second,
                        mlp_flops(H, batch_size=B).training_per_token * tokens_per_second,
                        6.0 * model.n_params * tokens_per_second)


@dataclass(frozen=True)
class MachineSpeed:
    """This machine's float32 matmul peak and the MLP trainer's speed on it (single-threaded BLAS).

    ``mfu[H]`` = 6 N tokens/s / ``peak_flops_one_thread`` for width H: the
    trainer runs one thread per process, so that is the peak it can reach.
    """

    peak_flops_one_thread: float     # FLOP/s
    peak_flops_all_threads: float    # FLOP/s
    n_threads: int
    trainer: tuple = field(repr=False)   # a TrainerSpeed per width
    machine: str = ""

    @property
    def mfu(self) -> dict:
        """Model FLOPs utilisation per hidden width, a fraction."""
        return {r.hidden_units: r.model_flops_per_second / self.peak_flops_one_thread for r in self.trainer}

    def __repr__(self):
        mfu = ", ".join(f"H={h}: {m:.0%}" for h, m in self.mfu.items())
        return (f"MachineSpeed(peak {self.peak_flops_one_thread / 1e9:.1f} GFLOP/s on 1 thread, "
                f"{self.peak_flops_all_threads / 1e9:.1f} on {self.n_threads}; MFU {mfu})")

    def _repr_html_(self):
        rows = "".join(
            f"<tr><td>{r.hidden_units}</td><td>{r.n_params:,}</td><td>{r.tokens_per_second:,.0f}</td>"
            f"<td>{r.flops_per_second / 1e9:.1f}</td><td>{self.mfu[r.hidden_units]:.0%}</td></tr>"
            for r in self.trainer)
        return (f"<p>float32 matmul peak: {self.peak_flops_one_thread / 1e9:.1f} GFLOP/s on one thread, "
                f"{self.peak_flops_all_threads / 1e9:.1f} GFLOP/s on {self.n_threads}</p>"
                f"<table><tr><th>H</th><th>N</th><th>tokens/s</th><th>achieved GFLOP/s</th><th>MFU</th></tr>"
                f"{rows}</table><small>{self.machine}</small>")


def measure_machine(hidden=(16, 64, 256, 512), *, n_steps=100, seconds=1.0) -> MachineSpeed:
    """Measure the matmul peak (one thread, all threads) and the trainer's FLOP/s and MFU per width.

    Everything runs in fresh single-threaded (or all-threaded) processes,
    as in a sweep. Takes a few seconds.
    """
    widths = _as_counts("hidden", hidden, "hidden units", 4096)
    n_steps = as_count("n_steps", n_steps, "steps", maximum=MAX_STEPS)
    seconds = _check_seconds(seconds)
    n_threads = default_workers()
    peak_all = matmul_peak(n_threads=n_threads, seconds=seconds)
    with _Workers(1, 1) as pool:
        worker = pool.processes[0]
        peak_one = pool.call(worker, _matmul_peak, (512, 1024, 2048), seconds)
        trainer = tuple(pool.call(worker, trainer_speed, H, n_steps=n_steps) for H in widths)
    return MachineSpeed(peak_one, peak_all, n_threads, trainer, machine_description())
