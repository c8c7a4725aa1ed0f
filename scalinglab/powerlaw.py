"""Power laws y = a * x**k, and fitting them by least squares in log-log space."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import ScalingLabError, as_number, as_positive, scalar_or_array


def power_law(x, coefficient, exponent):
    """Evaluate y = coefficient * x**exponent (vectorised over numpy arrays).

    ``x`` must be positive; units are whatever ``coefficient`` carries.
    A scaling law written as L = (N_c / N)**alpha is
    ``power_law(N, N_c**alpha, -alpha)``.

    >>> power_law(8.8e13, 8.8e13**0.076, -0.076)   # Kaplan's L(N) at N = N_c is 1 nat
    1.0
    >>> power_law([1, 10, 100], 2.0, 0.5)
    array([ 2.        ,  6.32455532, 20.        ])
    """
    x = as_positive("x", x, "")
    coefficient = as_positive("coefficient", coefficient, "")
    exponent = as_number("exponent", exponent, "a finite real number such as -0.076")
    with np.errstate(over="ignore", under="ignore"):
        y = coefficient * np.power(x, exponent)
    return scalar_or_array(y, "power_law", x=x, coefficient=coefficient, exponent=exponent)


@dataclass(frozen=True)
class PowerLawFit:
    """A fitted power law y = coefficient * x**exponent, with R² measured in log-log space."""

    coefficient: float
    exponent: float
    r_squared: float
    n_points: int

    def __call__(self, x):
        """Evaluate the fitted law at ``x``."""
        return power_law(x, self.coefficient, self.exponent)

    def __iter__(self):  # allows: coefficient, exponent, r2 = fit_power_law(x, y)
        return iter((self.coefficient, self.exponent, self.r_squared))

    def __repr__(self):
        return (
            f"PowerLawFit(coefficient={self.coefficient:.4g}, exponent={self.exponent:.4f}, "
            f"r_squared={self.r_squared:.4f}, n_points={self.n_points})"
        )


def fit_power_law(x, y) -> PowerLawFit:
    """Fit y = coefficient * x**exponent by least squares on (log x, log y).

    On log-log axes a power law is a straight line, log y = log a + k log x,
    so ordinary least squares on the logs gives the exponent k (the slope) and
    the coefficient a (the intercept). R² is computed on log y: it says how
    straight the points are on log-log axes, not how well y itself is
    predicted, and a high R² over a narrow range proves little.

    Returns a :class:`PowerLawFit`; it unpacks as ``coefficient, exponent, r2``.

    Hoffmann et al. 2022 (arXiv 2203.15556), Table 3 lists the compute-optimal
    model size for each FLOP budget (Approach 1). Fitting it recovers the
    exponent a = 0.50 of their Table 2:

    >>> flops = [1.92e19, 1.21e20, 1.23e22, 5.76e23, 3.85e24, 9.90e24, 3.43e25, 1.27e26, 1.30e28]
    >>> params = [400e6, 1e9, 10e9, 67e9, 175e9, 280e9, 520e9, 1e12, 10e12]
    >>> fit = fit_power_law(flops, params)
    >>> round(fit.exponent, 2), round(fit.r_squared, 4)
    (0.5, 1.0)
    """
    try:
        x = as_positive("x", x, "")
        y = as_positive("y", y, "")
    except ScalingLabError as exc:   # say why: the fit takes logarithms
        raise ScalingLabError(f"{exc} (a power law is fitted on log x and log y, so every value must be > 0)") from None
    x, y = np.atleast_1d(x), np.atleast_1d(y)
    if x.ndim != 1 or y.ndim != 1:
        raise ScalingLabError(f"x and y must be 1-D; got shapes {x.shape} and {y.shape}")
    if x.shape != y.shape:
        raise ScalingLabError(f"x and y must have the same length; got {x.size} and {y.size}")
    if x.size < 2:
        raise ScalingLabError(f"x and y need at least 2 points to fit a power law; got {x.size}")
    lx, ly = np.log(x), np.log(y)
    if np.ptp(lx) == 0:
        raise ScalingLabError("x must hold at least two different values to fit a slope; all are equal")
    slope, intercept = np.polyfit(lx, ly, 1)
    residual = ly - (intercept + slope * lx)
    total = ly - ly.mean()
    ss_tot = float(total @ total)
    r_squared = 1.0 - float(residual @ residual) / ss_tot if ss_tot > 0 else 1.0
    return PowerLawFit(float(np.exp(intercept)), float(slope), r_squared, int(x.size))
