"""Public tests of exercise 01 (power laws): solutions/01_power_laws.ipynb."""

from __future__ import annotations

import numpy as np

from ..checks import NotAnswered, Question, WrongAnswer, expect_choice, expect_close, expect_number
from ...kaplan import KAPLAN, kaplan_loss
from ...powerlaw import PowerLawFit, fit_power_law

# Question 5: the power law the explorer must pass through.
Q5_POINTS = ((4.0, 6.25), (100.0, 0.05))


def _q2_measurements():
    """The noisy losses of question 2, exactly as the notebook makes them: Kaplan's L(D) with 3% seeded noise."""
    rng = np.random.default_rng(5)
    n_tokens = np.logspace(8, 11, 10)                    # tokens
    loss = kaplan_loss(n_tokens=n_tokens) * np.exp(rng.normal(0.0, 0.03, n_tokens.size))   # nats/token
    return n_tokens, loss


# --- 01 Power laws --------------------------------------------------------------------------------

def _01_q1(q1_pf_days):
    target = 10.0 * 0.9 ** (-1.0 / KAPLAN.alpha_c)      # L ∝ C^(-alpha_C): a loss 0.9 times as large
    expect_close("q1_pf_days", q1_pf_days, target, "PF-days", rel=0.005,
                 too_low="Is it the total compute, counting the 10 PF-days the lab starts from? "
                         "And a lower loss needs more compute, never less.",
                 too_high="A 10% lower loss is the loss multiplied by 0.9: not halved, not cut tenfold.")


def _01_q2(q2_alpha, q2_d_c):
    fit = fit_power_law(*_q2_measurements())
    alpha = expect_number("q2_alpha", q2_alpha, "(a dimensionless exponent)")
    if alpha < 0 and abs(-alpha / -fit.exponent - 1) < 0.05:
        raise WrongAnswer("q2_alpha has the wrong sign. In Kaplan's form (D_c/D)^alpha_D the exponent is positive; "
                          "the slope of the fit is -alpha_D.")
    if np.isclose(alpha, KAPLAN.alpha_d):
        raise WrongAnswer("q2_alpha is Kaplan's published alpha_D. Fit the ten measurements instead: "
                          "with noisy data the fitted exponent differs from the one that generated them.")
    expect_close("q2_alpha", alpha, -fit.exponent, "(a dimensionless exponent)", rel=0.005,
                 too_low="Did you fit the loss against the tokens, with fit_power_law on the two arrays given?",
                 too_high="Did you fit the loss against the tokens, with fit_power_law on the two arrays given?")
    d_c = expect_number("q2_d_c", q2_d_c, "tokens")
    if np.isclose(d_c, KAPLAN.d_c):
        raise WrongAnswer("q2_d_c is Kaplan's published D_c. Compute the D_c that your fit implies.")
    advice = ("Write (D_c/D)^alpha as a coefficient times a power of D, and match it term by term to the fitted "
              "a·D^k. D_c is very sensitive to the exponent: use the unrounded fitted values.")
    expect_close("q2_d_c", d_c, fit.coefficient ** (1.0 / -fit.exponent), "tokens", rel=0.02,
                 too_low=advice, too_high=advice)


def _01_q3(loglog_fit):
    if not callable(loglog_fit):
        raise WrongAnswer("loglog_fit should be a function of (x, y).")
    x, y = _q2_measurements()
    got = loglog_fit(x, y)
    if isinstance(got, PowerLawFit):
        raise WrongAnswer("loglog_fit returns fit_power_law's own result: compute the fit yourself, with the "
                          "closed form of section 3.")
    if isinstance(got, (str, bytes)) or not hasattr(got, "__len__") or len(got) != 3:
        raise WrongAnswer("loglog_fit(x, y) should return three numbers: (coefficient, exponent, r_squared).")
    coefficient, exponent, r_squared = (expect_number(f"loglog_fit(x, y)[{i}]", v, "")
                                        for i, v in enumerate(got))
    fit = fit_power_law(x, y)
    if np.isclose(coefficient, fit.exponent, rtol=1e-6) and np.isclose(exponent, fit.coefficient, rtol=1e-6):
        raise WrongAnswer("The coefficient and the exponent come back swapped: return (coefficient, exponent, r_squared).")
    if not np.isclose(exponent, fit.exponent, rtol=1e-6):
        raise WrongAnswer("The exponent (second value) is not the least-squares slope of ln y against ln x. "
                          "Check the slope formula of lesson 01, section 3.")
    if not np.isclose(coefficient, fit.coefficient, rtol=1e-6):
        raise WrongAnswer("The exponent is right but the coefficient (first value) is not. The intercept b is "
                          "in log space: undo the logarithm with the same base you took it in.")
    if not np.isclose(r_squared, fit.r_squared, rtol=1e-6):
        raise WrongAnswer("The coefficient and exponent are right but r_squared (third value) is not. "
                          "R² is computed on the logarithms, from the residuals of the fitted line.")


def _01_q4(q4_choice):
    expect_choice("q4_choice", q4_choice, ["a", "b", "c", "d"])


def _01_q5(q5_explorer):
    if not hasattr(q5_explorer, "result") or not hasattr(q5_explorer.result, "halving_multiplier"):
        raise WrongAnswer("q5_explorer should be the PowerLawExplorer created in the cell above.")
    if q5_explorer.untouched:
        raise NotAnswered("move the coefficient and exponent sliders, then record them with q5_explorer.set(...)")
    v = q5_explorer.result
    (x1, y1), (x2, y2) = Q5_POINTS
    slope = np.log(y2 / y1) / np.log(x2 / x1)
    if v.exponent >= 0:
        raise WrongAnswer("y falls from the first point to the second, so the exponent must be negative.")
    if v.exponent < slope - 0.025:
        raise WrongAnswer("The line is too steep on log-log axes: y falls faster than between the two points. "
                          "The exponent is decades y moves over decades x moves.")
    if v.exponent > slope + 0.025:
        raise WrongAnswer("The line is too shallow on log-log axes: y falls more slowly than between the two "
                          "points. The exponent is decades y moves over decades x moves.")
    misses = [v.coefficient * x ** v.exponent / y for x, y in Q5_POINTS]
    if max(abs(np.log(m)) for m in misses) > np.log(1.05):
        side = "above" if misses[0] > 1 else "below"
        raise WrongAnswer(f"The slope is right, but the line passes {side} the points: move the coefficient "
                          f"{'down' if side == 'above' else 'up'}.")


EXERCISE = "01_power_laws"
QUESTIONS = {
    "q1": Question("q1", ("q1_pf_days",), _01_q1,
                   "Multiplying the compute by m multiplies Kaplan's L(C_min) by m^(-alpha_C), wherever you start "
                   "(section 5). Solve for the m that multiplies the loss by 0.9."),
    "q2": Question("q2", ("q2_alpha", "q2_d_c"), _01_q2,
                   "fit_power_law returns coefficient a and exponent k of y = a·x^k; rewrite (D_c/D)^alpha_D in "
                   "that form, as section 1 does for N_c, and match the two."),
    "q3": Question("q3", ("loglog_fit",), _01_q3,
                   "Work with X = ln x and Y = ln y: the slope is cov(X, Y)/var(X), the line passes through "
                   "(mean X, mean Y), and R² compares the squared residuals with the spread of Y (sections 3 and 4)."),
    "q4": Question("q4", ("q4_choice",), _01_q4,
                   "Fit both data sets and compare each exponent with the law that made the data. R² measures only "
                   "how straight the fitted points are on log-log axes (section 4).", graded_only=True),
    "q5": Question("q5", ("q5_explorer",), _01_q5,
                   "On log-log axes the exponent is the slope and the coefficient sets the height (y at x = 1)."),
}
