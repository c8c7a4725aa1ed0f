"""Public tests of exercise 02 (Kaplan et al. 2020): solutions/02_kaplan_2020.ipynb, with per-student variants."""

from __future__ import annotations

import numpy as np

from ..checks import Question, WrongAnswer, expect_choice, expect_exact, expect_explorer, expect_number, round_sig
from ...kaplan import KAPLAN, kaplan_compute_optimal, kaplan_loss, kaplan_min_tokens, kaplan_overfit_penalty
from ...models import model_card
from ...units import PF_DAY

# Question 1: published models with reported parameters and tokens (GPT-3's allocation is worked in the lesson).
Q1_MODELS = ("Gopher", "Chinchilla", "PaLM", "LLaMA-65B", "Llama 2 70B", "Llama 3 70B", "Llama 3.1 405B",
             "DeepSeek-V3")
# Question 5: the penalties for finite data a student may be asked to get under (fractions).
Q5_PENALTIES = (0.01, 0.02, 0.03, 0.05)


def q5_min_tokens(n_params: float, max_penalty: float) -> float:
    """The dataset (tokens) at which eq. 4.2's penalty equals ``max_penalty`` for ``n_params``."""
    K = KAPLAN
    a_n, a_d = K.joint_alpha_n, K.joint_alpha_d
    return K.joint_d_c * (n_params / K.joint_n_c) ** (a_n / a_d) / ((1 + max_penalty) ** (1 / a_d) - 1)


def make_variant(rng) -> dict:
    """One student's inputs: a model's budget, sizes to check eq. 1.5 on, a dataset and its model range, a
    model size and a penalty to get under with the explorer."""
    q2_n = tuple(round_sig(10 ** x, 2) for x in rng.uniform(6, 12, 4))                # non-embedding parameters
    q2_d = tuple(round_sig(10 ** x, 2) for x in rng.uniform(8, 13, 4))                # tokens
    q3_n_tokens = round_sig(10 ** rng.uniform(9.5, 12.0), 2)                          # tokens
    n_edge = (q3_n_tokens / KAPLAN.min_tokens_coefficient) ** (1 / KAPLAN.min_tokens_exponent)   # eq. 4.4
    q3_top = round_sig(n_edge * 10 ** rng.uniform(-1.0, 0.0), 2)                       # penalty up to about 2%
    while True:   # a model size on the explorer's grid whose dataset falls inside the tokens slider
        n_params = 10 ** (int(rng.integers(85, 116)) / 10)
        penalty = Q5_PENALTIES[int(rng.integers(len(Q5_PENALTIES)))]
        if 1.5e8 <= q5_min_tokens(n_params, penalty) <= 7.9e11:
            break
    return {
        "q1_model": Q1_MODELS[int(rng.integers(len(Q1_MODELS)))],
        "q2_n_params": q2_n,
        "q2_n_tokens": q2_d,
        "q3_n_tokens": q3_n_tokens,
        "q3_n_range": (round_sig(q3_top / 1000, 2), q3_top),                           # 3 decades of N
        "q3_points": int(rng.integers(15, 41)),
        "q5_n_params": n_params,                                                    # non-embedding parameters
        "q5_max_penalty_percent": int(round(100 * penalty)),                        # percent
    }


def q1_allocation(V):
    """Kaplan's (n_params, tokens at the critical batch size) with the model's 6ND read as C_min."""
    n, d = kaplan_compute_optimal(model_card(V["q1_model"]).flops_6nd / PF_DAY)
    return n, 2 * d


def q3_sizes(V):
    """The model sizes of question 3, exactly as the notebook's data cell makes them."""
    low, high = V["q3_n_range"]
    return np.logspace(np.log10(low), np.log10(high), V["q3_points"])


def q3_target(V) -> float:
    from ...powerlaw import fit_power_law

    n = q3_sizes(V)
    return fit_power_law(n, kaplan_overfit_penalty(n, V["q3_n_tokens"])).exponent


# --- 02 Kaplan et al. 2020 ------------------------------------------------------------------------

def _02_q1(V, q1_n_params, q1_n_tokens):
    n_opt, d_crit = q1_allocation(V)
    card = model_card(V["q1_model"])
    got = expect_number("q1_n_params", q1_n_params, "non-embedding parameters")
    if got > 100 * n_opt:
        raise WrongAnswer("q1_n_params is far too high. In which unit does kaplan_compute_optimal expect the budget?")
    if card.is_moe and abs(got / kaplan_compute_optimal(6 * card.params_total * card.tokens / PF_DAY)[0] - 1) < 1e-6:
        raise WrongAnswer(f"{V['q1_model']} is a mixture of experts: 6ND counts the parameters active per token, "
                          "not all of them.")
    if card.compute_flops and abs(got / kaplan_compute_optimal(card.compute_flops / PF_DAY)[0] - 1) < 1e-6:
        raise WrongAnswer("that starts from the reported compute: the question reads the budget as 6ND "
                          "(the card's flops_6nd).")
    expect_exact("q1_n_params", got, n_opt, "non-embedding parameters", rel=1e-9,
                 too_low="Read the model's whole 6ND budget as C_min, in PF-days.",
                 too_high="Read the model's whole 6ND budget as C_min, in PF-days.")
    tokens = expect_number("q1_n_tokens", q1_n_tokens, "tokens")
    if abs(tokens / (d_crit / 2) - 1) < 1e-6:
        raise WrongAnswer("q1_n_tokens is too low: these are the tokens C_min buys (6ND = C_min), the library's "
                          "convention. At the critical batch size a run spends more compute than C_min.")
    if abs(tokens / card.tokens - 1) < 1e-6:
        raise WrongAnswer("q1_n_tokens is the tokens the model was actually trained on; the question asks for "
                          "Kaplan's allocation at that budget.")
    expect_exact("q1_n_tokens", tokens, d_crit, "tokens", rel=1e-9,
                 too_low="Check the units: C = 6ND holds with C in FLOPs, and one PF-day is PF_DAY FLOPs.",
                 too_high="Check the units, and how much more than C_min a run at the critical batch size "
                          "spends.")


# Constants of no published fit, for the limits of question 2: (n_c, d_c, alpha_n, alpha_d).
Q2_OTHER = ((1e12, 1e11, 0.1, 0.2), (5e14, 3e12, 0.05, 0.08))


def _02_q2(V, joint_loss):
    if not callable(joint_loss):
        raise WrongAnswer("joint_loss should be a function of (n_params, n_tokens, n_c, d_c, alpha_n, alpha_d).")
    K = KAPLAN
    n, d = np.array(V["q2_n_params"]), np.array(V["q2_n_tokens"])
    try:
        value = joint_loss(n, d, K.joint_n_c, K.joint_d_c, K.joint_alpha_n, K.joint_alpha_d)
    except NotImplementedError:
        raise WrongAnswer("joint_loss is not written yet: replace raise NotImplementedError() with its body.") from None
    label = "joint_loss(V['q2_n_params'], V['q2_n_tokens'], <Table 2>)"
    try:
        mine = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise WrongAnswer(f"{label} should be an array of losses, one per (N, D) pair.") from None
    if mine.shape != n.shape:
        raise WrongAnswer(f"{label} should return one loss per (N, D) pair: it must work on numpy arrays.")
    want = kaplan_loss(n_params=n, n_tokens=d)
    if not np.allclose(mine, want, rtol=1e-9, atol=0):
        swapped = ((K.joint_n_c / n) ** (K.joint_alpha_d / K.joint_alpha_n) + K.joint_d_c / d) ** K.joint_alpha_d
        if np.allclose(mine, swapped, rtol=1e-6):
            raise WrongAnswer(f"{label}: the ratio of the two exponents is upside down.")
        raise WrongAnswer(f"{label} does not agree with kaplan_loss(n_params=..., n_tokens=...) for Table 2's "
                          "constants.")
    for c in Q2_OTHER:
        big_d, big_n = joint_loss(1e9, 1e40, *c), joint_loss(1e60, 1e10, *c)
        if not (np.isclose(float(big_d), (c[0] / 1e9) ** c[2], rtol=1e-6)
                and np.isclose(float(big_n), (c[1] / 1e10) ** c[3], rtol=1e-6)):
            raise WrongAnswer("joint_loss agrees with Table 2's constants but not with other constants: use the "
                              "arguments n_c, d_c, alpha_n and alpha_d, not KAPLAN's values.")


def _02_q3(V, q3_exponent):
    target = q3_target(V)
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
    if x in (KAPLAN.min_tokens_exponent, KAPLAN.joint_alpha_n / KAPLAN.joint_alpha_d):
        raise WrongAnswer("that is a published exponent: fit the penalties of your model sizes instead.")
    expect_exact("q3_exponent", x, target, "", rel=1e-9,
                 too_low="Fit the relative penalty of eq. 4.2 (not the loss, not the absolute excess loss), "
                         "at your V['q3_n_tokens'], over exactly the sizes in q3_n_params.",
                 too_high="Fit over exactly the sizes in q3_n_params at your V['q3_n_tokens']; the exponent "
                          "of the fit is not exactly a published one.")


def _02_q4(q4_choice):
    expect_choice("q4_choice", q4_choice, ["a", "b", "c", "d"])


def _02_q5(V, q5_prediction, q5_explorer):
    n_params, penalty = V["q5_n_params"], V["q5_max_penalty_percent"] / 100
    target = q5_min_tokens(n_params, penalty)
    x = expect_number("q5_prediction", q5_prediction, "tokens")
    if x > 0 and abs(x / q5_min_tokens(n_params, V["q5_max_penalty_percent"]) - 1) < 1e-6:
        raise WrongAnswer("q5_prediction is far too low: the penalty V['q5_max_penalty_percent'] is in percent.")
    if x > 0 and abs(x / kaplan_min_tokens(n_params) - 1) < 1e-6:
        raise WrongAnswer("q5_prediction is eq. 4.4's rule of thumb, which keeps the penalty near 2%: find the "
                          "dataset for your own penalty, from eq. 4.2.")
    expect_exact("q5_prediction", x, target, "tokens", rel=1e-6,
                 too_low="At that dataset the penalty is still above your limit: more data lowers it.",
                 too_high="At that dataset the penalty is already below your limit: a smaller one gets there too.")
    expect_explorer("q5_explorer", q5_explorer, "KaplanExplorer", "overfit_penalty",
                    untouched="move the tokens slider, then record it with q5_explorer.set(...)")
    v = q5_explorer.result
    if abs(np.log10(v.n_params / n_params)) > 1e-9:
        raise WrongAnswer("Leave the model size at V['q5_n_params']; move only the tokens slider.")
    if v.overfit_penalty >= penalty:
        raise WrongAnswer("The penalty for finite data is not yet below your limit: the model needs more tokens.")
    slider = q5_explorer.controls["n_tokens"]
    if kaplan_overfit_penalty(v.n_params, v.n_tokens / slider.base ** slider.step) < penalty:
        raise WrongAnswer("The penalty is below your limit, but a smaller dataset would also get it there: move "
                          "the tokens slider to the left, one step at a time.")


EXERCISE = "02_kaplan_2020"
QUESTIONS = {
    "q1": Question("q1", ("q1_n_params", "q1_n_tokens"), _02_q1,
                   "kaplan_compute_optimal takes C_min in PF-days (see PF_DAY) and returns D with 6ND = C_min; "
                   "reread 'A convention to keep in mind' in section 5 of the lesson.", variant=True),
    "q2": Question("q2", ("joint_loss",), _02_q2,
                   "Check the limits of your function: with huge n_tokens only the parameter term should remain, "
                   "with huge n_params only the data term. Compare where each exponent sits in eq. 1.5.",
                   variant=True),
    "q3": Question("q3", ("q3_exponent",), _02_q3,
                   "Compute the penalty as the lesson's penalty() does, then fit a straight line on log-log axes "
                   "(fit_power_law, or np.polyfit on the logs).", variant=True),
    "q4": Question("q4", ("q4_choice",), _02_q4,
                   "Compute what eq. 4.4 allows for 300B tokens, then reread in section 3 of the lesson what "
                   "L(N, D) assumes about passes over the data.", graded_only=True),
    "q5": Question("q5", ("q5_prediction", "q5_explorer"), _02_q5,
                   "Eq. 4.2 gives the penalty for a model and a dataset: solve it for the dataset at your limit, "
                   "or find where the library's kaplan_overfit_penalty crosses it. The readout under the plot "
                   "shows the penalty.", variant=True),
}
