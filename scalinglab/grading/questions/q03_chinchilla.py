"""Public tests of exercise 03 (Chinchilla): solutions/03_chinchilla.ipynb."""

from __future__ import annotations

import numpy as np

from ...approaches import hoffmann_projections
from ...chinchilla import chinchilla_fit, chinchilla_loss, compute_optimal
from ..checks import NotAnswered, Question, WrongAnswer, expect_choice, expect_close, expect_number
from ...powerlaw import fit_power_law

# Hoffmann et al. 2022 (arXiv 2203.15556), Table 3: FLOPs and compute-optimal parameters (Approach 1).
_TABLE3 = hoffmann_projections(1)
TABLE3_FLOPS, TABLE3_PARAMS = _TABLE3.flops, _TABLE3.n_params


# --- 03 Chinchilla --------------------------------------------------------------------------------

def _03_q1(q1_loss):
    expect_close("q1_loss", q1_loss, chinchilla_loss(280e9, 300e9), "nats/token", rel=1e-4,
                 too_low="Is the irreducible loss E included, and are these the constants as printed?",
                 too_high="Check the sizes (280B parameters, 300B tokens) and the fit: the printed constants.")


def _03_q2(optimal_params):
    if not callable(optimal_params):
        raise WrongAnswer("optimal_params should be a function of (flops, E, A, B, alpha, beta).")
    for name, flops in (("hoffmann2022", 5.76e23), ("besiroglu2024", 1e21)):   # two fits, two budgets
        f = chinchilla_fit(name)
        label = f"optimal_params({flops:g}, ...) with the {name} constants"
        got = expect_number(label, optimal_params(flops, f.E, f.A, f.B, f.alpha, f.beta), "parameters")
        expect_close(label, got, compute_optimal(flops, fit=f).n_params, "parameters", rel=0.01)


def _03_q3(q3_exponent):
    expect_close("q3_exponent", q3_exponent, fit_power_law(TABLE3_FLOPS, TABLE3_PARAMS).exponent, "", rel=0.01,
                 too_high="Did you fit parameters against FLOPs (not tokens, not the other way round)?",
                 too_low="Did you fit parameters against FLOPs (not tokens, not the other way round)?")


def _03_q4(q4_choice):
    expect_choice("q4_choice", q4_choice, "406c7384af7eb4c7", ["a", "b", "c", "d"], salt="03_chinchilla/q4")


def _03_q5(q5_explorer):
    if not hasattr(q5_explorer, "result") or not hasattr(q5_explorer.result, "optimal_n_params"):
        raise WrongAnswer("q5_explorer should be the IsoFlopExplorer created in the cell above.")
    if q5_explorer.untouched:
        raise NotAnswered("move the model-size slider, then record it with q5_explorer.set(...)")
    v = q5_explorer.result
    if abs(np.log10(v.flops / 1e22)) > 0.01 or v.fit != "besiroglu2024":
        raise WrongAnswer("Leave the compute at 1e22 FLOPs and the fit at besiroglu2024; move only the model size.")
    if abs(np.log(v.n_params / v.optimal_n_params)) > np.log(1.05):
        side = "left" if v.n_params > v.optimal_n_params else "right"
        raise WrongAnswer(f"The marker is not at the bottom of the curve yet: move it to the {side}.")


EXERCISE = "03_chinchilla"
QUESTIONS = {
    "q1": Question("q1", ("q1_loss",), _03_q1, "L = E + A/N^alpha + B/D^beta; the library computes it."),
    "q2": Question("q2", ("optimal_params",), _03_q2,
                   "Substitute D = C/(6N), set dL/dN = 0 and solve for N; compare with section 3 of the lesson."),
    "q3": Question("q3", ("q3_exponent",), _03_q3,
                   "On log-log axes a power law is a straight line; fit_power_law returns its slope."),
    "q4": Question("q4", ("q4_choice",), _03_q4,
                   "Compare the loss gap between the two models with what each costs to serve (2N per token)."),
    "q5": Question("q5", ("q5_explorer",), _03_q5,
                   "The optimum is the lowest point of the blue curve (the green star)."),
}
