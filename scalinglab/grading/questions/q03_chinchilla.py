"""Public tests of exercise 03 (Chinchilla): solutions/03_chinchilla.ipynb, with per-student variants."""

from __future__ import annotations

import numpy as np

from ...approaches import hoffmann_projections
from ...chinchilla import CHINCHILLA_FITS, chinchilla_fit, chinchilla_loss, compute_optimal
from ..checks import Question, WrongAnswer, expect_choice, expect_exact, expect_explorer, expect_number, round_sig
from ...powerlaw import fit_power_law

FITS = ("hoffmann2022", "besiroglu2024")      # the printed constants and Besiroglu et al.'s refit


def make_variant(rng) -> dict:
    """One student's inputs: a run, two budgets, a projection table with two rows left out, an IsoFLOP budget."""
    n_params = round_sig(10 ** rng.uniform(9.0, 11.7), 2)                              # 1B to 500B parameters
    tokens_per_param = 10 ** rng.uniform(np.log10(5), np.log10(300))                # undertrained to overtrained
    # Approach 3's projections (Table A3) bend, so each choice of rows has its own exponent; those of
    # Approaches 1 and 2 lie on one power law, whose exponent lesson 03 prints
    approach = 3
    table = hoffmann_projections(approach)
    printed = [fit_power_law(t.flops, t.n_params).exponent for t in map(hoffmann_projections, (1, 2, 3))]
    printed += [chinchilla_fit(name).a for name in CHINCHILLA_FITS]     # the lessons print every fit's a too
    for _ in range(1000):   # rows whose exponent is not one the lesson prints (about every other draw)
        rows = tuple(int(i) for i in np.sort(rng.choice(9, size=int(rng.integers(5, 8)), replace=False)))
        exponent = fit_power_law(table.flops[list(rows)], table.n_params[list(rows)]).exponent
        if min(abs(exponent - e) for e in printed) > 0.002:
            break
    else:  # pragma: no cover - about 2^-1000
        raise RuntimeError("no fresh rows for question 3")
    return {
        "fit": FITS[int(rng.integers(len(FITS)))],
        "n_params": n_params,                                                        # parameters
        "n_tokens": round_sig(n_params * tokens_per_param, 2),                           # tokens
        "q2_budgets": (round_sig(10 ** rng.uniform(19, 22), 2), round_sig(10 ** rng.uniform(23, 26), 2)),   # FLOPs
        "q3_approach": approach,
        "q3_rows": rows,
        "q5_flops": round_sig(10 ** rng.uniform(20, 24.5), 2),                           # FLOPs
    }


def q3_table(V):
    """The rows of question 3: (FLOPs, compute-optimal parameters) of the student's projection."""
    table = hoffmann_projections(V["q3_approach"])
    rows = list(V["q3_rows"])
    return table.flops[rows], table.n_params[rows]


# --- 03 Chinchilla --------------------------------------------------------------------------------

def _03_q1(V, q1_loss):
    target = chinchilla_loss(V["n_params"], V["n_tokens"], fit=V["fit"])
    x = expect_number("q1_loss", q1_loss, "nats/token")
    other = next(f for f in FITS if f != V["fit"])
    if abs(x / chinchilla_loss(V["n_params"], V["n_tokens"], fit=other) - 1) < 1e-4:
        raise WrongAnswer(f"that is the loss with the {other} constants; your variant asks for V['fit'].")
    if abs(x / chinchilla_loss(V["n_tokens"], V["n_params"], fit=V["fit"]) - 1) < 1e-4:
        raise WrongAnswer("parameters and tokens are swapped: chinchilla_loss takes (n_params, n_tokens).")
    expect_exact("q1_loss", x, target, "nats/token",
                 too_low="Is the irreducible loss E included?",
                 too_high="Check the fit (V['fit']) and the sizes: rounded values shift the loss.")


def _03_q2(V, optimal_params):
    if not callable(optimal_params):
        raise WrongAnswer("optimal_params should be a function of (flops, E, A, B, alpha, beta).")
    for name, flops in zip(FITS, V["q2_budgets"]):   # both fits, the student's two budgets
        f = chinchilla_fit(name)
        label = f"optimal_params({flops:g}, ...) with the {name} constants"
        got = expect_number(label, optimal_params(flops, f.E, f.A, f.B, f.alpha, f.beta), "parameters")
        want = compute_optimal(flops, fit=f).n_params
        if abs(got / want - 1) > 0.01 and abs(got / compute_optimal(6 * flops, fit=f).n_params - 1) < 0.01:
            raise WrongAnswer(f"{label} is too high: where does the budget C = 6ND enter the closed form?")
        expect_exact(label, got, want, "parameters", rel=1e-6)


def _03_q3(V, q3_exponent):
    flops, params = q3_table(V)
    target = fit_power_law(flops, params).exponent
    x = expect_number("q3_exponent", q3_exponent, "")
    if abs(x / fit_power_law(params, flops).exponent - 1) < 1e-3:
        raise WrongAnswer("that is the slope of FLOPs against parameters: fit parameters (y) against FLOPs (x).")
    full = hoffmann_projections(V["q3_approach"])
    if abs(x - fit_power_law(full.flops, full.n_params).exponent) < 1e-6:
        raise WrongAnswer("that fits every row of the table: use only the rows V['q3_rows'] keeps.")
    expect_exact("q3_exponent", x, target, "",
                 too_low="Did you fit parameters against FLOPs, on log-log axes?",
                 too_high="Did you fit parameters against FLOPs, on log-log axes?")


def _03_q4(q4_choice):
    expect_choice("q4_choice", q4_choice, ["a", "b", "c", "d"])


def _03_q5(V, q5_prediction, q5_explorer):
    optimum = compute_optimal(V["q5_flops"], fit=V["fit"]).n_params
    x = expect_number("q5_prediction", q5_prediction, "parameters")
    expect_exact("q5_prediction", x, optimum, "parameters", rel=1e-6,
                 too_low="Predict with compute_optimal, for your budget and fit.",
                 too_high="Predict with compute_optimal, for your budget and fit.")
    expect_explorer("q5_explorer", q5_explorer, "IsoFlopExplorer", "optimal_n_params",
                    untouched="move the model-size slider, then record it with q5_explorer.set(...)")
    v = q5_explorer.result
    if abs(np.log10(v.flops / V["q5_flops"])) > 0.01 or v.fit != V["fit"]:
        raise WrongAnswer("Leave the compute and the fit where the explorer starts; move only the model size.")
    if abs(np.log(v.n_params / optimum)) > np.log(1.05):
        side = "left" if v.n_params > optimum else "right"
        raise WrongAnswer(f"The marker is not at the bottom of the curve yet: move it to the {side}.")


EXERCISE = "03_chinchilla"
QUESTIONS = {
    "q1": Question("q1", ("q1_loss",), _03_q1, "L = E + A/N^alpha + B/D^beta; the library computes it.",
                   variant=True),
    "q2": Question("q2", ("optimal_params",), _03_q2,
                   "Substitute D = C/(6N), set dL/dN = 0 and solve for N; compare with section 3 of the lesson.",
                   variant=True),
    "q3": Question("q3", ("q3_exponent",), _03_q3,
                   "On log-log axes a power law is a straight line; fit_power_law returns its slope.", variant=True),
    "q4": Question("q4", ("q4_choice",), _03_q4,
                   "Compare the loss gap between the two models with what each costs to serve (2N per token).",
                   graded_only=True),
    "q5": Question("q5", ("q5_prediction", "q5_explorer"), _03_q5,
                   "The optimum is the lowest point of the blue curve (the green star).", variant=True),
}
