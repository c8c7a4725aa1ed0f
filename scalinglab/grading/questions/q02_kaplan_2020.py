"""Public tests of exercise 02 (Kaplan et al. 2020): solutions/02_kaplan_2020.ipynb."""

from __future__ import annotations

import numpy as np

from ..checks import NotAnswered, Question, WrongAnswer, expect_choice, expect_close, expect_number
from ...kaplan import KAPLAN, kaplan_compute_optimal, kaplan_loss, kaplan_overfit_penalty
from ...models import model_card
from ...powerlaw import fit_power_law
from ...units import PF_DAY

# Question 3: the model sizes (non-embedding parameters) and the dataset (tokens) of the fit.
Q3_N_PARAMS = np.logspace(6, 9, 31)
Q3_N_TOKENS = 1e11
# Question 4: GPT-3's training tokens (Brown et al. 2020, Table D.1).
Q4_N_TOKENS = 300e9
# Question 5: the explorer's model size and the penalty to get under.
Q5_N_PARAMS = 1e10
Q5_MAX_PENALTY = 0.01


def _gpt3_allocation():
    """Kaplan's (n_params, n_tokens from 6ND = C_min) with GPT-3's reported compute read as C_min."""
    return kaplan_compute_optimal(model_card("GPT-3").compute_flops / PF_DAY)


# --- 02 Kaplan et al. 2020 ------------------------------------------------------------------------

def _02_q1(q1_n_params, q1_n_tokens):
    n_opt, d_lib = _gpt3_allocation()
    got = expect_number("q1_n_params", q1_n_params, "non-embedding parameters")
    if got > 100 * n_opt:
        raise WrongAnswer("q1_n_params is far too high. In which unit does kaplan_compute_optimal expect the budget?")
    expect_close("q1_n_params", got, n_opt, "non-embedding parameters", rel=0.02,
                 too_low="Read GPT-3's whole reported compute as C_min, in PF-days.",
                 too_high="Read GPT-3's whole reported compute as C_min, in PF-days.")
    tokens = expect_number("q1_n_tokens", q1_n_tokens, "tokens")
    if abs(tokens / d_lib - 1) < 0.02:
        raise WrongAnswer("q1_n_tokens is too low: these are the tokens C_min buys (6ND = C_min), the library's "
                          "convention. At the critical batch size a run spends more compute than C_min.")
    if 0.85 < tokens / (2 * d_lib) < 0.98:
        raise WrongAnswer("q1_n_tokens is too low. Table 6's rounded coefficient is approximate: start from the "
                          "library's allocation, as the figure of the lesson's section 5 does.")
    expect_close("q1_n_tokens", tokens, 2 * d_lib, "tokens", rel=0.02,
                 too_low="Check the units: C = 6ND holds with C in FLOPs, and one PF-day is PF_DAY FLOPs.",
                 too_high="Check the units, and how much more than C_min a run at the critical batch size "
                          "spends.")


def _02_q2(joint_loss):
    if not callable(joint_loss):
        raise WrongAnswer("joint_loss should be a function of (n_params, n_tokens, n_c, d_c, alpha_n, alpha_d).")
    K = KAPLAN
    args = (K.joint_n_c, K.joint_d_c, K.joint_alpha_n, K.joint_alpha_d)
    try:
        value = joint_loss(1.5e9, 1e10, *args)
    except NotImplementedError:
        raise WrongAnswer("joint_loss is not written yet: replace raise NotImplementedError() with its body.") from None
    got = expect_number("joint_loss(1.5e9, 1e10, ...)", value, "nats/token")
    expect_close("joint_loss(1.5e9, 1e10, ...)", got, kaplan_loss(n_params=1.5e9, n_tokens=1e10), "nats/token",
                 rel=1e-4)


def _02_q3(q3_exponent):
    target = fit_power_law(Q3_N_PARAMS, kaplan_overfit_penalty(Q3_N_PARAMS, Q3_N_TOKENS)).exponent
    try:
        x = float(q3_exponent)
    except (TypeError, ValueError):
        x = None
    if x is not None and np.isnan(x):
        raise WrongAnswer("q3_exponent is nan: a logarithm of a zero or negative penalty? Compute L(N, ∞) with "
                          "the same law as L(N, D), eq. 1.5, so that the penalty is positive.")
    x = expect_number("q3_exponent", q3_exponent, "a dimensionless exponent")
    if x < 0:
        raise WrongAnswer("q3_exponent is negative, but the penalty grows with N for a fixed D. Did you fit the "
                          "loss instead of the penalty?")
    expect_close("q3_exponent", x, target, "", rel=0.002,
                 too_low="Fit the relative penalty L(N, D)/L(N, ∞) − 1 (not the loss, not the absolute excess "
                         "loss), at D = 1e11 tokens, over exactly the sizes in q3_n_params.",
                 too_high="Compute the fit over exactly the sizes in q3_n_params at D = 1e11 tokens; the exponent "
                          "of the fit is not exactly the one in eq. 4.4.")


def _02_q4(q4_max_params, q4_choice):
    target = (Q4_N_TOKENS / KAPLAN.min_tokens_coefficient) ** (1 / KAPLAN.min_tokens_exponent)  # eq. 4.4 for N
    expect_close("q4_max_params", q4_max_params, target, "non-embedding parameters", rel=0.02,
                 too_low="Eq. 4.4 is not a fixed number of tokens per parameter: D ≳ 5×10³·N^0.74 with D known "
                         "and N unknown.",
                 too_high="Here D is given and N is the unknown of eq. 4.4; the largest N is where D equals "
                          "the right-hand side.")
    expect_choice("q4_choice", q4_choice, ["a", "b", "c", "d"])


def _02_q5(q5_explorer):
    if not hasattr(q5_explorer, "result") or not hasattr(q5_explorer.result, "overfit_penalty"):
        raise WrongAnswer("q5_explorer should be the KaplanExplorer created in the cell above.")
    if q5_explorer.untouched:
        raise NotAnswered("move the tokens slider, then record it with q5_explorer.set(...)")
    v = q5_explorer.result
    if abs(np.log10(v.n_params / Q5_N_PARAMS)) > 0.01:
        raise WrongAnswer("Leave the model size at 10B parameters; move only the tokens slider.")
    if v.overfit_penalty >= Q5_MAX_PENALTY:
        raise WrongAnswer("The penalty for finite data is still 1% or more: the model needs more tokens.")
    slider = q5_explorer.controls["n_tokens"]
    if kaplan_overfit_penalty(v.n_params, v.n_tokens / slider.base ** slider.step) < Q5_MAX_PENALTY:
        raise WrongAnswer("The penalty is below 1%, but a smaller dataset would also get it there: move the "
                          "tokens slider to the left, one step at a time.")


EXERCISE = "02_kaplan_2020"
QUESTIONS = {
    "q1": Question("q1", ("q1_n_params", "q1_n_tokens"), _02_q1,
                   "kaplan_compute_optimal takes C_min in PF-days (see PF_DAY) and returns D with 6ND = C_min; "
                   "reread 'A convention to keep in mind' in section 5 of the lesson."),
    "q2": Question("q2", ("joint_loss",), _02_q2,
                   "Check the limits of your formula: with huge n_tokens it should give (n_c/N)**alpha_n, with "
                   "huge n_params (d_c/D)**alpha_d. Where do alpha_n/alpha_d and alpha_d go in eq. 1.5?"),
    "q3": Question("q3", ("q3_exponent",), _02_q3,
                   "Compute the penalty as the lesson's penalty() does, then fit a straight line on log-log axes "
                   "(fit_power_law, or np.polyfit on the logs)."),
    "q4": Question("q4", ("q4_max_params", "q4_choice"), _02_q4,
                   "Eq. 4.4 is in section 3 of the lesson. For the choice, reread there what L(N, D) assumes "
                   "about passes over the data, and the misconception about GPT-3's epochs.", graded_only=True),
    "q5": Question("q5", ("q5_explorer",), _02_q5,
                   "The readout under the plot shows the penalty for finite data; the model size must stay at 10B."),
}
