"""Public tests of exercise 01 (power laws): solutions/01_power_laws.ipynb, with per-student variants."""

from __future__ import annotations

import numpy as np

from ..checks import Question, WrongAnswer, expect_choice, expect_exact, expect_explorer, expect_number, round_sig
from ...kaplan import KAPLAN, kaplan_loss
from ...powerlaw import PowerLawFit, fit_power_law

# Kaplan et al.'s single-variable laws (section 1.2): the resource, its keyword for kaplan_loss, its exponent.
LAWS = {"compute": ("compute_pf_days", "alpha_c"), "parameters": ("n_params", "alpha_n"),
        "tokens": ("n_tokens", "alpha_d")}
# Where a lab may start, per resource (log10 bounds): PF-days, non-embedding parameters, tokens.
Q1_START = {"compute": (-1.0, 3.0), "parameters": (7.5, 10.5), "tokens": (9.0, 11.5)}
# The ranges of the measurements of question 2 (log10 of the first and last x), within those Kaplan fitted.
Q2_RANGES = {"parameters": ((6.0, 9.0), (6.5, 9.0), (6.0, 8.5), (7.0, 9.5)),
             "tokens": ((8.0, 11.0), (8.5, 11.0), (8.0, 10.5), (9.0, 11.5))}


def make_variant(rng) -> dict:
    """One student's inputs: a law, a start and a loss cut; a set of noisy runs; two points of a power law."""
    q1_law = ("compute", "parameters", "tokens")[int(rng.integers(3))]
    q1_start = round_sig(10 ** rng.uniform(*Q1_START[q1_law]), 2)
    q2_law = ("parameters", "tokens")[int(rng.integers(2))]
    q2_from, q2_to = Q2_RANGES[q2_law][int(rng.integers(len(Q2_RANGES[q2_law])))]
    # question 5: a law on the explorer's slider grid, tilted slightly off it so the exponent is not a round number
    k_grid = 0.05 * int(rng.choice([*range(-30, -5), *range(6, 31)]))          # 0.3 to 1.5 in size, either sign
    a_grid = 10 ** (0.05 * int(rng.integers(-10, 31)))                           # 0.32 to 32
    x1, x2 = float(rng.choice([2, 3, 4, 5, 6, 8])), float(rng.choice([40, 50, 80, 100, 150, 200, 300]))
    tilt = float(rng.choice([-1, 1])) * rng.uniform(0.004, 0.01)
    k, x_mid = k_grid + tilt, np.sqrt(x1 * x2)                   # the true law meets the grid law at x_mid
    a = a_grid * x_mid ** (k_grid - k)
    return {
        "q1_law": q1_law,                                                        # compute, parameters or tokens
        "q1_start": q1_start,                                                    # PF-days, parameters or tokens
        "q1_cut_percent": int(rng.integers(3, 21)),                              # percent lower loss
        "q2_law": q2_law,                                                        # L(N) or L(D)
        "q2_log10_range": (q2_from, q2_to),                                      # decades of x
        "q2_points": int(rng.integers(8, 16)),                                   # training runs
        "q2_noise": float(rng.choice([0.02, 0.03, 0.04])),                       # relative noise of a loss
        "q2_seed": int(rng.integers(1_000, 1_000_000)),                          # seed of the noise
        "q5_points": ((x1, round_sig(a * x1 ** k, 4)), (x2, round_sig(a * x2 ** k, 4))),
    }


def q1_target(V) -> float:
    """The amount of the resource that reaches a loss V['q1_cut_percent'] percent lower than at V['q1_start']."""
    alpha = getattr(KAPLAN, LAWS[V["q1_law"]][1])
    return V["q1_start"] * (1 - V["q1_cut_percent"] / 100) ** (-1 / alpha)


def q2_measurements(V):
    """The runs of question 2, exactly as the notebook's data cell makes them: (x, measured loss)."""
    x = np.logspace(*V["q2_log10_range"], V["q2_points"])
    rng = np.random.default_rng(V["q2_seed"])
    true_loss = kaplan_loss(n_params=x) if V["q2_law"] == "parameters" else kaplan_loss(n_tokens=x)
    return x, true_loss * np.exp(rng.normal(0.0, V["q2_noise"], x.size))


def q5_slope(V) -> float:
    """The exponent of the power law through the two points of question 5."""
    (x1, y1), (x2, y2) = V["q5_points"]
    return float(np.log(y2 / y1) / np.log(x2 / x1))


# --- 01 Power laws --------------------------------------------------------------------------------

def _01_q1(V, q1_amount):
    target = q1_target(V)
    law, start, cut = V["q1_law"], V["q1_start"], V["q1_cut_percent"]
    unit = {"compute": "PF-days", "parameters": "non-embedding parameters", "tokens": "tokens"}[law]
    x = expect_number("q1_amount", q1_amount, unit)
    if abs((x + start) / target - 1) < 1e-4:
        raise WrongAnswer("q1_amount looks like the extra amount only: the question asks for the total, "
                          "counting the starting point V['q1_start'].")
    if x <= start:
        raise WrongAnswer("q1_amount is not more than your starting point: a lower loss needs more of the resource, "
                          "never less.")
    for other, (_, name) in LAWS.items():
        alpha = getattr(KAPLAN, name)
        if other != law and abs(x / (start * (1 - cut / 100) ** (-1 / alpha)) - 1) < 1e-4:
            raise WrongAnswer(f"that uses the exponent of Kaplan's law in {other}; your variant's resource is {law}.")
    alpha = getattr(KAPLAN, LAWS[law][1])
    if abs(x / (start * (1 - cut / 100) ** (-alpha)) - 1) < 1e-4:
        raise WrongAnswer("q1_amount is far too low: check how the exponent enters when you solve for the amount.")
    if abs(x / (start * (1 + cut / 100) ** (1 / alpha)) - 1) < 1e-4:
        raise WrongAnswer("q1_amount is too low: a loss cut by a percentage is not the loss divided by one plus "
                          "that percentage.")
    expect_exact("q1_amount", x, target, unit, rel=1e-9,
                 too_low="The loss after the cut is the loss times what remains of it, not times the cut itself.",
                 too_high="The loss after the cut is the loss times what remains of it, not times the cut itself; "
                          "and the cut is in percent.")


def _01_q2(V, q2_alpha, q2_x_c):
    fit = fit_power_law(*q2_measurements(V))
    published = KAPLAN.alpha_n if V["q2_law"] == "parameters" else KAPLAN.alpha_d
    alpha = expect_number("q2_alpha", q2_alpha, "(a dimensionless exponent)")
    if alpha < 0 and abs(alpha / fit.exponent - 1) < 1e-6:
        raise WrongAnswer("q2_alpha has the wrong sign. In Kaplan's form (X_c/X)^alpha the exponent is positive; "
                          "the slope of the fit is its negative.")
    if np.isclose(alpha, published):
        raise WrongAnswer("q2_alpha is Kaplan's published exponent. Fit your measurements instead: "
                          "with noisy data the fitted exponent differs from the one that generated them.")
    if abs(alpha / fit_power_law(q2_measurements(V)[1], q2_measurements(V)[0]).exponent + 1) < 1e-6:
        raise WrongAnswer("that is the slope of x against the loss: fit the loss (y) against x.")
    expect_exact("q2_alpha", alpha, -fit.exponent, "(a dimensionless exponent)", rel=1e-9,
                 too_low="Did you fit the loss against x, with fit_power_law on the two arrays of the data cell?",
                 too_high="Did you fit the loss against x, with fit_power_law on the two arrays of the data cell?")
    x_c = expect_number("q2_x_c", q2_x_c, "parameters or tokens")
    if np.isclose(x_c, KAPLAN.n_c) or np.isclose(x_c, KAPLAN.d_c):
        raise WrongAnswer("q2_x_c is Kaplan's published constant. Compute the one that your fit implies.")
    advice = ("Write (X_c/X)^alpha as a coefficient times a power of X, and match it term by term to the fitted "
              "a·X^k. X_c is very sensitive to the exponent: use the unrounded fitted values.")
    expect_exact("q2_x_c", x_c, fit.coefficient ** (1.0 / -fit.exponent), "parameters or tokens", rel=1e-6,
                 too_low=advice, too_high=advice)


def _fit_cases(V):
    """The public cases of question 3: an exact law given as lists, two points, and the runs of question 2."""
    x, y = q2_measurements(V)
    return [([1, 2, 4, 8], [3, 12, 48, 192]), ([2.0, 50.0], [7.0, 0.3]), (x, y)]


class _LibraryFitCalled(Exception):
    pass


def _forbidden(*args, **kwargs):
    raise _LibraryFitCalled()


def _without_library_fits(function, cases):
    """``function`` on each case with fit_power_law and np.polyfit out of reach, as the hidden tests run it."""
    names = getattr(function, "__globals__", {})
    saved_name, saved_polyfit = names.get("fit_power_law"), np.polyfit
    try:
        if saved_name is not None:
            names["fit_power_law"] = _forbidden
        np.polyfit = _forbidden
        return [function(x, y) for x, y in cases]
    except _LibraryFitCalled:
        raise WrongAnswer("loglog_fit calls fit_power_law or np.polyfit: compute the fit yourself, with the "
                          "closed form of section 3.") from None
    finally:
        np.polyfit = saved_polyfit
        if saved_name is not None:
            names["fit_power_law"] = saved_name


def _01_q3(V, loglog_fit):
    if not callable(loglog_fit):
        raise WrongAnswer("loglog_fit should be a function of (x, y).")
    cases = _fit_cases(V)
    fits = [fit_power_law(x, y) for x, y in cases]
    answers = _without_library_fits(loglog_fit, cases)
    for case, ((x, y), fit, got) in enumerate(zip(cases, fits, answers)):
        label = "loglog_fit(x, y)" if case < 2 else "loglog_fit on the runs of question 2"
        if isinstance(got, PowerLawFit):
            raise WrongAnswer("loglog_fit returns fit_power_law's own result: compute the fit yourself, with the "
                              "closed form of section 3.")
        if isinstance(got, (str, bytes)) or not hasattr(got, "__len__") or len(got) != 3:
            raise WrongAnswer("loglog_fit(x, y) should return three numbers: (coefficient, exponent, r_squared).")
        coefficient, exponent, r_squared = (expect_number(f"{label}[{i}]", v, "") for i, v in enumerate(got))
        if np.isclose(coefficient, fit.exponent, rtol=1e-6) and np.isclose(exponent, fit.coefficient, rtol=1e-6):
            raise WrongAnswer("The coefficient and the exponent come back swapped: return (coefficient, exponent, "
                              "r_squared).")
        if not np.isclose(exponent, fit.exponent, rtol=1e-6, atol=1e-9):
            raise WrongAnswer(f"{label}: the exponent (second value) is not the least-squares slope of ln y "
                              "against ln x. Check the slope of lesson 01, section 3.")
        if not np.isclose(coefficient, fit.coefficient, rtol=1e-6, atol=1e-9):
            raise WrongAnswer(f"{label}: the exponent is right but the coefficient (first value) is not. The "
                              "intercept is in log space: undo the logarithm with the same base you took it in.")
        if not np.isclose(r_squared, fit.r_squared, rtol=1e-6, atol=1e-9):
            raise WrongAnswer(f"{label}: the coefficient and exponent are right but r_squared (third value) is not. "
                              "R² is computed on the logarithms, from the residuals of the fitted line.")


def _01_q4(q4_choice):
    expect_choice("q4_choice", q4_choice, ["a", "b", "c", "d"])


def _01_q5(V, q5_prediction, q5_explorer):
    slope = q5_slope(V)
    x = expect_number("q5_prediction", q5_prediction, "(a dimensionless exponent)")
    if abs(x + slope) < 1e-9 * abs(slope):
        raise WrongAnswer("q5_prediction has the wrong sign: does y rise or fall from the first point to the second?")
    if abs(x - 1 / slope) < 1e-6 * abs(1 / slope):
        raise WrongAnswer("q5_prediction is upside down: decades of y over decades of x, not the other way round.")
    expect_exact("q5_prediction", x, slope, "(a dimensionless exponent)", rel=1e-9,
                 too_low="Compute it from the two points of V['q5_points'], on logarithms.",
                 too_high="Compute it from the two points of V['q5_points'], on logarithms.")
    expect_explorer("q5_explorer", q5_explorer, "PowerLawExplorer", "halving_multiplier",
                    untouched="move the coefficient and exponent sliders, then record them with q5_explorer.set(...)")
    v = q5_explorer.result
    if v.exponent * slope <= 0:
        raise WrongAnswer("The explorer's line " + ("rises" if v.exponent > 0 else "falls" if v.exponent < 0 else
                                                    "is flat") + " but y " + ("rises" if slope > 0 else "falls") +
                          " from the first point to the second: the exponent has the wrong sign.")
    if abs(v.exponent - slope) > 0.025:
        raise WrongAnswer("The explorer's line is too " + ("steep" if abs(v.exponent) > abs(slope) else "shallow") +
                          " on log-log axes: set the exponent slider to your prediction.")
    misses = [v.coefficient * px ** v.exponent / py for px, py in V["q5_points"]]
    if max(abs(np.log(m)) for m in misses) > np.log(1.05):
        side = "above" if np.mean(np.log(misses)) > 0 else "below"
        raise WrongAnswer(f"The slope is right, but the line passes {side} the points (by more than 5%): move the "
                          f"coefficient {'down' if side == 'above' else 'up'}.")


EXERCISE = "01_power_laws"
QUESTIONS = {
    "q1": Question("q1", ("q1_amount",), _01_q1,
                   "Under a power law, each fixed multiple of the resource multiplies the loss by the same factor, "
                   "wherever you start (section 5). Find the multiple that gives your loss ratio, then apply it to "
                   "your starting point.", variant=True),
    "q2": Question("q2", ("q2_alpha", "q2_x_c"), _01_q2,
                   "fit_power_law returns the coefficient and the exponent of y = a·x^k; rewrite Kaplan's form in "
                   "that shape, as section 1 does for N_c, and match the two.", variant=True),
    "q3": Question("q3", ("loglog_fit",), _01_q3,
                   "Work on the logarithms of both arrays: section 3 derives the slope and the intercept, section 4 "
                   "defines R². Try your function first on data from a law you know exactly.", variant=True),
    "q4": Question("q4", ("q4_choice",), _01_q4,
                   "Fit both data sets and compare each exponent with the law that made the data. R² measures only "
                   "how close to a straight line the fitted points lie on log-log axes (section 4).",
                   graded_only=True),
    "q5": Question("q5", ("q5_prediction", "q5_explorer"), _01_q5,
                   "On log-log axes the exponent is the slope and the coefficient sets the height (y at x = 1).",
                   variant=True),
}
