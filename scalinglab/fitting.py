"""Fitting Chinchilla's loss L(N, D) = E + A/N**alpha + B/D**beta to training runs (Approach 3).

Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models"
(arXiv 2203.15556), section 3.3 and Appendix D.2, minimise the Huber loss
(delta = 1e-3) of the error in log-loss,

    sum over runs i of Huber( LSE(a - alpha log N_i, b - beta log D_i, e) - log L_i ),

LSE being log-sum-exp and A, B, E = exp(a), exp(b), exp(e), with L-BFGS from
a grid of 4,500 starts, and keep the best. Besiroglu et al. 2024
(arXiv 2404.10102) redid the fit with bootstrap intervals over the runs.

Here all the starts are optimised at once with numpy: every step computes,
for every start, the objective, its gradient and a 5x5 curvature from the
analytic derivatives of the log-sum-exp, and takes a Levenberg-Marquardt
(damped Newton) step. Approaches 1 and 2 are in :mod:`scalinglab.approaches`
and are re-exported here.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ._checks import ScalingLabError, as_count, as_number, as_progress, as_seed
from ._progress import reporter
from .approaches import (  # noqa: F401  (re-exported, so that all fitting is found here)
    ComputeOptimalFit, Projection, Runs, check_runs, fit_approach1, fit_approach2, hoffmann_projections, load_runs,
)
from .chinchilla import ChinchillaFit

#: Huber threshold of Hoffmann et al. 2022, Appendix D.2.
HUBER_DELTA = 1e-3
PARAMETERS = ("E", "A", "B", "alpha", "beta")
_MAX_ITER = 100_000    # optimiser steps per start: the default is 200
_MAX_BOOT = 100_000    # bootstrap resamples: the lessons use 200 to 1,000
_BLOCK = 256           # starts evaluated together: their arrays stay in the CPU cache


class ConvergenceWarning(RuntimeWarning):
    """An optimisation stopped before meeting its convergence test."""


def hoffmann_grid() -> np.ndarray:
    """The 4,500 initialisations of Hoffmann et al. 2022 (Appendix D.2), as rows (a, b, e, alpha, beta).

    alpha, beta in {0, 0.5, ..., 2}; e in {-1, -0.5, ..., 1}; a, b in {0, 5, ..., 25}:
    5 * 5 * 5 * 6 * 6 starts.

    >>> hoffmann_grid().shape
    (4500, 5)
    """
    a = np.arange(0.0, 26.0, 5.0)
    e = np.arange(-1.0, 1.01, 0.5)
    exponent = np.arange(0.0, 2.01, 0.5)
    mesh = np.meshgrid(a, a, e, exponent, exponent, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


# ---------------------------------------------------------------- the objective
# Inside the optimiser log N and log D are standardised, z = (log N - m) / s, so that
# x1 = a - alpha log N = a' - alpha' zN with a' = a - alpha m, alpha' = alpha s (same for b, beta).
# Rows of u are (a', alpha', b', beta', e); this makes the curvature well scaled.

def _block(u, data, W, newton, delta):
    """Objective of a block of starts (rows of u), and the sums over runs M that give gradient and curvature.

    ``delta`` None means least squares; ``W`` weighs the runs (bootstrap counts); rows flagged in
    ``newton`` get the exact Hessian, the others the curvature of the Huber loss's quadratic majoriser.
    """
    zN, zD, logL, F = data
    t1 = np.exp(u[:, 0, None] - u[:, 1, None] * zN)     # A / N**alpha
    t2 = np.exp(u[:, 2, None] - u[:, 3, None] * zD)     # B / D**beta
    s = t1 + t2
    s += np.exp(u[:, 4, None])                           # predicted loss, nats/token
    r = np.log(s)
    r -= logL                                            # error in log-loss
    if delta is None:                                    # least squares (every |r| below delta)
        c, h = r, 0.5 * r * r
    else:
        c = np.clip(r, -delta, delta)                    # Huber'(r)
        h = (r - 0.5 * c) * c                            # Huber(r)
    if W is not None:
        h *= W
    f = h.sum(1)
    p1, p2 = np.divide(t1, s, out=t1), np.divide(t2, s, out=t2)   # softmax weights of the LSE
    if delta is None:
        k = np.ones_like(r)
    else:
        # weight of d d^T (d: the gradient of the prediction): Huber'(r)/r for the majoriser
        # (Gauss-Newton on reweighted least squares), Huber''(r) - Huber'(r) for the exact Hessian
        absr = np.abs(r)
        k = delta / np.maximum(absr, delta)
        if newton.any():
            k = np.where(newton[:, None], (absr <= delta) - c, k)
    if W is not None:
        c = c * W
        k *= W
    Y = np.empty((9,) + r.shape, r.dtype)               # c p1, c p2, c, k p1p1, k p1p2, k p2p2, k p1, k p2, k
    Y[2], Y[8] = c, k
    for i, x, y in ((0, c, p1), (1, c, p2), (6, k, p1), (7, k, p2), (3, Y[6], p1), (4, Y[6], p2), (5, Y[7], p2)):
        np.multiply(x, y, out=Y[i])
    return f.astype(float), np.matmul(Y, F).astype(float)   # sums over runs of Y times 1, zN, zN^2, zD, zD^2, zN zD


def _assemble(M, newton, exact):
    """Gradient and 5x5 curvature of every start from its run sums M (see :func:`_block`)."""
    c1, c2, c0, k11, k12, k22, k1, k2, k0 = M
    g = np.stack([c1[:, 0], -c1[:, 1], c2[:, 0], -c2[:, 3], c0[:, 0] - c1[:, 0] - c2[:, 0]], 1)
    k13, k23 = k1 - k11 - k12, k2 - k12 - k22          # p3 = 1 - p1 - p2
    k33 = k0[:, 0] - k1[:, 0] - k2[:, 0] - k13[:, 0] - k23[:, 0]
    H = np.empty((len(g), 5, 5))
    H[:, 0] = np.stack([k11[:, 0], -k11[:, 1], k12[:, 0], -k12[:, 3], k13[:, 0]], 1)
    H[:, 1, 1:] = np.stack([k11[:, 2], -k12[:, 1], k12[:, 5], -k13[:, 1]], 1)
    H[:, 2, 2:] = np.stack([k22[:, 0], -k22[:, 3], k23[:, 0]], 1)
    H[:, 3, 3:] = np.stack([k22[:, 4], -k23[:, 3]], 1)
    H[:, 4, 4] = k33
    if exact and newton.any():
        n = newton.astype(float)                        # + Huber'(r) J^T diag(p) J, the LSE's own curvature
        H[:, 0, :2] += n[:, None] * np.stack([c1[:, 0], -c1[:, 1]], 1)
        H[:, 1, 1] += n * c1[:, 2]
        H[:, 2, 2:4] += n[:, None] * np.stack([c2[:, 0], -c2[:, 3]], 1)
        H[:, 3, 3] += n * c2[:, 4]
        H[:, 4, 4] += n * g[:, 4]
    lower = np.tril_indices(5, -1)
    H[:, lower[0], lower[1]] = H[:, lower[1], lower[0]]
    return g, H


def _evaluate(u, data, W, newton, delta):
    """Objective f, gradient g and curvature H of every start (rows of u), block by block."""
    u = u.astype(data[0].dtype)
    with np.errstate(all="ignore"):                      # overflow in a trial step just rejects it
        parts = [_block(u[i:i + _BLOCK], data, None if W is None else W[i:i + _BLOCK], newton[i:i + _BLOCK], delta)
                 for i in range(0, len(u), _BLOCK)]
    M = np.concatenate([p[1] for p in parts], axis=1)
    return (np.concatenate([p[0] for p in parts]),) + _assemble(M, newton, delta is not None)


def _damped_solve(H, g, nu):
    """Levenberg-Marquardt step p solving (H + nu max(diag H) I) p = -g in every row; ok: p goes downhill."""
    A = H + (nu * np.diagonal(H, axis1=1, axis2=2).max(1) + 1e-300)[:, None, None] * np.eye(5)
    try:
        p = np.linalg.solve(A, -g[..., None])[..., 0]
    except np.linalg.LinAlgError:                       # an exactly singular row: damp every row harder
        return _damped_solve(H, g, np.maximum(nu * 10, 1e-6))
    return p, (p * g).sum(1) < 0


def _minimise(u, data, *, delta, W=None, max_iter=200, ftol=1e-11):
    """Levenberg-Marquardt from every row of u at once: end points, objectives, converged, iterations.

    A row has converged when a step gains less than ``ftol`` of its objective. It switches from
    the majoriser's curvature to the exact Hessian once its steps gain less than 1e-4.
    """
    u = np.array(u, dtype=float)
    newton = np.zeros(len(u), bool)
    f, g, H = _evaluate(u, data, W, newton, delta)
    nu = np.full(len(u), 1e-3)
    converged, iterations = np.zeros(len(u), bool), np.zeros(len(u), int)
    active = np.isfinite(f)
    # a diverging trial step overflows (inf or NaN objective): it is rejected, never used, so say nothing
    with np.errstate(all="ignore"):
        for _ in range(max_iter):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            Hi, gi, fi = H[idx], g[idx], f[idx]
            step, ok = _damped_solve(Hi, gi, nu[idx])
            step *= np.minimum(1.0, 10.0 / np.maximum(np.abs(step).max(1), 1e-300))[:, None]   # trust region
            predicted = -(step * gi).sum(1) - 0.5 * np.einsum("si,sij,sj->s", step, Hi, step)
            ok &= predicted > 0
            ft, gt, Ht = _evaluate(u[idx] + step, data, None if W is None else W[idx], newton[idx], delta)
            gain = fi - ft
            better = ok & (gain > 0)                         # NaN and inf compare False
            rho = np.where(better, gain, 0.0) / np.where(predicted > 0, predicted, np.inf)
            moved = idx[better]
            u[moved] += step[better]
            f[moved], g[moved], H[moved] = ft[better], gt[better], Ht[better]
            newton[moved] |= (delta is not None) & (gain[better] < 1e-4 * fi[better])
            nu[idx] = np.maximum(nu[idx] * np.where(rho > 0.5, 0.1, np.where(rho < 0.25, 4.0, 1.0)), 1e-12)
            nu[idx[~ok]] = np.maximum(nu[idx[~ok]], 1e-3)     # an indefinite Hessian needs a real shift
            iterations[idx] += 1
            done = (better & (gain <= ftol * fi)) | (ok & (predicted <= ftol * fi)) | (nu[idx] > 1e10)
            converged[idx[done]] = True
            active[idx[done]] = False
    return u, f, converged, iterations


# ---------------------------------------------------------------- fitting
def _standardise(N, D, L):
    lN, lD = np.log(N), np.log(D)
    m = (lN.mean(), lN.std() or 1.0, lD.mean(), lD.std() or 1.0)
    zN, zD = (lN - m[0]) / m[1], (lD - m[2]) / m[3]
    return (zN, zD, np.log(L), np.stack([np.ones_like(zN), zN, zN * zN, zD, zD * zD, zN * zD], 1)), m


def _to_external(u, m):
    """Rows (a', alpha', b', beta', e) of the optimiser back to (a, b, e, alpha, beta)."""
    alpha, beta = u[:, 1] / m[1], u[:, 3] / m[3]
    return np.stack([u[:, 0] + alpha * m[0], u[:, 2] + beta * m[2], u[:, 4], alpha, beta], 1)


def _multistart(data, u0, sub, delta, max_iter):
    """Optimise every start (rows of u0): distinct end points, objectives, converged, iterations, and the
    index of each start's end point."""
    single = tuple(x.astype(np.float32) for x in data)
    # 1. least squares on a subset of the runs: cheap, and it carries each start into the basin of a minimum
    u, _, _, it1 = _minimise(u0, tuple(x[sub] for x in single), delta=None, max_iter=100, ftol=1e-6)
    # 2. starts that arrived at the same point (to 0.01) would follow the same path from here: keep one
    _, keep, index = np.unique(np.round(u / 1e-2), axis=0, return_index=True, return_inverse=True)
    # 3. all runs: least squares, then the Huber objective itself, in single precision
    u, _, _, it2 = _minimise(u[keep], single, delta=None, max_iter=20, ftol=1e-6)
    u, f, converged, it3 = _minimise(u, single, delta=delta, max_iter=max_iter, ftol=1e-6)
    # 4. polish the end points within 0.1% of the best in double precision
    near = np.flatnonzero(f <= f.min() * 1.001 + 1e-30)
    u[near], f[near], converged[near], it4 = _minimise(u[near], data, delta=delta, max_iter=max_iter)
    iterations = it1[keep] + it2 + it3
    iterations[near] += it4
    return u, f, converged, iterations, index.reshape(-1)


def _resample_counts(n_runs, n_boot, seed):
    """Bootstrap resamples of the runs as counts: row k says how often resample k draws each run."""
    draws = np.random.default_rng(seed).integers(0, n_runs, size=(n_boot, n_runs)) + n_runs * np.arange(n_boot)[:, None]
    return np.bincount(draws.ravel(), minlength=n_boot * n_runs).reshape(n_boot, n_runs).astype(float)


@dataclass(frozen=True, repr=False)
class Approach3Fit(ChinchillaFit):
    """A Chinchilla law fitted by :func:`fit_chinchilla`, with how the fit went and its bootstrap intervals.

    A :class:`ChinchillaFit`, so ``chinchilla_loss`` and ``compute_optimal`` accept it as ``fit``.
    ``ci`` maps "E", "A", "B", "alpha", "beta", "a" and "b" to (low, high) at ``level``;
    ``samples`` holds (E, A, B, alpha, beta) of each resample (NaN where its refit failed).
    """

    objective: float = math.nan    # Hoffmann's objective (sum of Huber losses) at the optimum
    delta: float = HUBER_DELTA
    n_runs: int = 0
    n_starts: int = 0              # initialisations tried
    n_best: int = 0                # of which reached the best objective (to 1e-6 relative)
    converged: bool = True         # the best start met the convergence test
    iterations: int = 0            # optimiser steps taken from the best start
    n_boot: int = 0
    level: float = 0.95
    ci: dict = field(default_factory=dict, compare=False)
    samples: np.ndarray = field(default=None, compare=False)

    def _summary(self):
        return (f"{self.n_runs} runs, {self.n_best} of {self.n_starts} starts reached the best, "
                + ("converged" if self.converged else "NOT converged")
                + (f", {self.level:.0%} intervals from {self.n_boot} resamples" if self.ci else ""))

    def __repr__(self):
        values = ", ".join(f"{p}={getattr(self, p):.4g}" + (" [{:.4g}, {:.4g}]".format(*self.ci[p]) if self.ci else "")
                           for p in PARAMETERS)
        return f"Approach3Fit({values}; objective={self.objective:.6g}; {self._summary()})"

    def _repr_html_(self):
        rows = "".join(f"<tr><td>{p}</td><td>{getattr(self, p):.4g}</td>"
                       + ("<td>{:.4g}</td><td>{:.4g}</td>".format(*self.ci[p]) if self.ci else "") + "</tr>"
                       for p in PARAMETERS + ("a", "b"))
        head = f"<th>{self.level:.0%} low</th><th>high</th>" if self.ci else ""
        return (f"<table><tr><th>{self.name}</th><th>fit</th>{head}</tr>{rows}</table>"
                f"<p>Huber objective (δ = {self.delta:g}) {self.objective:.6g}; {self._summary()}</p>")


def fit_chinchilla(n_params, n_tokens, loss, *, delta=HUBER_DELTA, starts=None, n_boot=0, level=0.95, seed=0,
                   progress=None, max_iter=200, name="fitted") -> Approach3Fit:
    """Fit L(N, D) = E + A/N**alpha + B/D**beta to training runs: Chinchilla's Approach 3.

    Minimises sum_i Huber_delta(LSE(a - alpha log N_i, b - beta log D_i, e) - log L_i), with
    A, B, E = exp(a), exp(b), exp(e), from every row (a, b, e, alpha, beta) of ``starts``
    (default: the 4,500 of :func:`hoffmann_grid`) and returns the best, as Hoffmann et al. 2022
    do (arXiv 2203.15556, section 3.3 and Appendix D.2, delta = 1e-3). ``n_params`` in
    parameters, ``n_tokens`` in tokens, ``loss`` in nats per token: one entry per run, 6 or more.

    Each start is first brought near a minimum by least squares on a subset of the runs, in
    single precision; starts that end at the same point are merged; the rest are optimised on all
    runs, and the best end points polished in double precision. A best start that does not meet
    the convergence test within ``max_iter`` steps warns (:class:`ConvergenceWarning`) and gives
    ``converged=False``.

    ``n_boot`` > 0 adds percentile intervals at ``level`` from resamples of the runs drawn
    with ``seed`` (as Besiroglu et al. 2024, arXiv 2404.10102), each refitted from the best
    full-data optima. ``progress``: None shows a bar in Jupyter, True also prints one elsewhere,
    False shows none; or a function called as ``progress(done, total)``.

    Runs made without noise from Hoffmann et al.'s printed constants give them back:

    >>> from scalinglab import chinchilla_loss
    >>> N, D = (x.ravel() for x in np.meshgrid(np.logspace(7.5, 10, 8), np.logspace(9, 12, 8)))
    >>> fit = fit_chinchilla(N, D, chinchilla_loss(N, D, fit="hoffmann2022"))
    >>> print(f"E={fit.E:.2f} A={fit.A:.1f} B={fit.B:.1f} alpha={fit.alpha:.2f} beta={fit.beta:.2f}")
    E=1.69 A=406.4 B=410.7 alpha=0.34 beta=0.28
    """
    N, D, L, _ = check_runs(n_params, n_tokens, loss, min_runs=len(PARAMETERS) + 1, purpose="to fit 5 constants")
    for argument, x, symbol in (("n_params", N, "alpha"), ("n_tokens", D, "beta")):
        if np.ptp(x) == 0:
            raise ScalingLabError(f"{argument}: every run has {x[0]:.4g}; {symbol} needs runs of different sizes")
    delta = as_number("delta", delta, "a positive Huber threshold (Hoffmann et al.: 1e-3)", lambda x: x > 0)
    max_iter = as_count("max_iter", max_iter, "iterations", maximum=_MAX_ITER, why="more would look like a hang")
    n_boot = as_count("n_boot", n_boot, "resamples", minimum=0, maximum=_MAX_BOOT, why="more would look like a hang")
    if n_boot:
        level = as_number("level", level, "a confidence level in (0, 1), such as 0.95", lambda x: 0 < x < 1)
    seed = as_seed("seed", seed)
    progress = as_progress("progress", progress)
    if not isinstance(name, str):
        raise ScalingLabError(f"name must be a string naming the fit, such as 'fitted'; got {name!r}")
    try:
        grid = hoffmann_grid() if starts is None else np.atleast_2d(np.asarray(starts, dtype=float))
    except (TypeError, ValueError, OverflowError):
        raise ScalingLabError(f"starts must be finite rows (a, b, e, alpha, beta); got {starts!r}") from None
    if isinstance(starts, (bool, np.bool_, str)) or grid.ndim != 2 or grid.size == 0 or grid.shape[1] != 5 or not np.isfinite(grid).all():
        raise ScalingLabError(f"starts must be finite rows (a, b, e, alpha, beta); got shape {grid.shape}")
    data, m = _standardise(N, D, L)
    a, b, e, alpha, beta = grid.T
    u0 = np.stack([a - alpha * m[0], alpha * m[1], b - beta * m[2], beta * m[3], e], 1)
    order = np.lexsort((N, np.round(np.log(N * D), 6)))        # by budget, then size: every k-th is spread out
    sub = np.sort(order[::-(-N.size // 32)])                    # at most 32 runs
    u, f, converged, iterations, index = _multistart(data, u0, sub, float(delta), max_iter)
    best = int(np.argmin(f))
    theta = _to_external(u[[best]], m)[0]
    record = dict(objective=float(f[best]), delta=float(delta), n_runs=N.size, n_starts=len(grid),
                  n_best=int((f[index] <= f[best] * (1 + 1e-6) + 1e-30).sum()), converged=bool(converged[best]),
                  iterations=int(iterations[best]), name=name,
                  source=f"fit_chinchilla: Approach 3 of Hoffmann et al. 2022 (arXiv 2203.15556) on {N.size} runs")
    fit = _law(theta, record)
    if not converged[best]:
        warnings.warn(f"fit_chinchilla: the best start stopped after {iterations[best]} steps without meeting the "
                      f"convergence test (max_iter={max_iter}); its constants may be inaccurate",
                      ConvergenceWarning, stacklevel=2)
    if not n_boot:
        return fit
    near = u[np.argsort(f)][np.sort(f) <= 1.5 * f[best]]           # optima within 50% of the best...
    _, first = np.unique(np.round(near / 1e-3), axis=0, return_index=True)
    warm = near[np.sort(first)[:3]]                                 # ...the best and up to two other distinct ones
    samples = _bootstrap(data, m, warm, float(delta), max_iter, _resample_counts(N.size, n_boot, seed),
                         reporter(progress, n_boot, "bootstrap"))
    ab = samples[:, 4:] / (samples[:, 3:4] + samples[:, 4:])       # a = beta / (alpha + beta), b = 1 - a
    q = np.nanpercentile(np.hstack([samples, ab, 1 - ab]), [50 * (1 - level), 50 * (1 + level)], axis=0)
    ci = {p: (float(q[0, j]), float(q[1, j])) for j, p in enumerate(PARAMETERS + ("a", "b"))}
    return _law(theta, {**record, "n_boot": n_boot, "level": float(level), "ci": ci, "samples": samples})


def _law(theta, record) -> Approach3Fit:
    a, b, e, alpha, beta = theta
    for symbol, value, argument in (("alpha", alpha, "n_params"), ("beta", beta, "n_tokens")):
        if not value > 1e-3:
            raise ScalingLabError(f"fit_chinchilla found no Chinchilla law in these runs: the best fit has {symbol} = "
                                  f"{value:.3g}, so the loss does not fall with {argument}")
    if not np.isfinite(theta).all() or max(a, b, e) > 700:
        raise ScalingLabError(f"fit_chinchilla found no Chinchilla law in these runs: the best fit has "
                              f"log A, log B, log E = {a:.4g}, {b:.4g}, {e:.4g}")
    return Approach3Fit(E=math.exp(e), A=math.exp(a), B=math.exp(b), alpha=alpha, beta=beta, **record)


def _bootstrap(data, m, warm, delta, max_iter, counts, update, chunk=250):
    """Refit each resample (row of ``counts``) from the warm starts: rows (E, A, B, alpha, beta), NaN if it failed."""
    k, samples = len(warm), np.full((len(counts), 5), np.nan)
    for lo in range(0, len(counts), chunk):
        W = np.repeat(counts[lo:lo + chunk], k, axis=0)
        u, f, ok, _ = _minimise(np.tile(warm, (len(W) // k, 1)), data, delta=delta, W=W, max_iter=max_iter)
        f = np.where(ok, f, np.inf).reshape(-1, k)
        a, b, e, alpha, beta = _to_external(u.reshape(-1, k, 5)[np.arange(len(f)), f.argmin(1)], m).T
        good = np.isfinite(f.min(1))
        samples[lo:lo + len(f)][good] = np.column_stack([np.exp(e), np.exp(a), np.exp(b), alpha, beta])[good]
        update(min(lo + chunk, len(counts)))
    failed = int(np.isnan(samples[:, 0]).sum())
    if failed:
        warnings.warn(f"fit_chinchilla: {failed} of {len(counts)} bootstrap refits did not converge; "
                      f"they are left out of the intervals", ConvergenceWarning, stacklevel=3)
    return samples
