"""Public tests of exercise 05 (from FLOPs to days): solutions/05_flops_to_days.ipynb."""

from __future__ import annotations

import math

from ...flops import training_flops
from ..checks import Question, WrongAnswer, expect_choice, expect_close, expect_number
from ...hardware import accelerator
from ...models import model_card
from ...training import training_time

# LLaMA-65B processed about 380 tokens/s per A100-80GB (Touvron et al. 2023, arXiv 2302.13971, section 2.4).
LLAMA_TOKENS_PER_GPU_S = 380
# The price per GPU-hour assumed in question 1 (DeepSeek-AI 2024, arXiv 2412.19437, Table 1, also uses $2).
Q1_PRICE, Q1_MFU = 2.0, 0.40


def _q1_estimate():
    card = model_card("DeepSeek-V3")
    return training_time(training_flops(card.params_active, card.tokens), card.accelerator, card.n_devices,
                         Q1_MFU, price_per_device_hour=Q1_PRICE)


def _llama_days():
    """Ideal days of LLaMA-65B at the MFU its throughput implies, and with the popular recipe."""
    card = model_card("LLaMA-65B")
    flops = training_flops(card.params_active, card.tokens)
    mfu = LLAMA_TOKENS_PER_GPU_S * 6 * card.params_active / accelerator(card.accelerator).peak_flops("bf16")
    ideal = training_time(flops, card.accelerator, card.n_devices, mfu)
    recipe = training_time(flops, card.accelerator, card.n_devices, 1.0, sparse=True)
    return ideal.days, recipe.days


def _effective_mfu(card):
    """The MFU at which the ideal GPU-hours equal the reported ones."""
    return card.compute_flops / (accelerator(card.accelerator).peak_flops("bf16") * card.gpu_hours * 3600)


# --- 05 From FLOPs to days ------------------------------------------------------------------------

def _05_q1(q1_days, q1_cost_usd):
    target = _q1_estimate()
    expect_close("q1_days", q1_days, target.days, "days", rel=0.02,
                 too_low="Use 6ND FLOPs and the dense BF16 peak: not the 2:4-sparse figure, not FP8.",
                 too_high="For a mixture of experts, which parameters does the N of 6ND count?")
    cost = expect_number("q1_cost_usd", q1_cost_usd, "US dollars")
    if 0 < cost < 100:
        raise WrongAnswer("q1_cost_usd should be in US dollars, not millions of dollars.")
    expect_close("q1_cost_usd", cost, target.cost_usd, "US dollars", rel=0.02,
                 too_low="The price is per device-hour: count the hours of every GPU, not the days of the run.",
                 too_high="The price is per device-hour: are the hours counted once per GPU, and the price "
                          "the one given?")


def _05_q2(training_days):
    if not callable(training_days):
        raise WrongAnswer("training_days should be a function of (flops, n_devices, peak_flops, mfu).")
    card = model_card("LLaMA-65B")
    flops, n_devices, mfu = training_flops(card.params_active, card.tokens), card.n_devices, 0.45
    peak = accelerator(card.accelerator).peak_flops("bf16")
    name = f"training_days({flops:.3g}, {n_devices}, {peak:.3g}, {mfu})"
    got = expect_number(name, training_days(flops, n_devices, peak, mfu), "days")
    target = training_time(flops, card.accelerator, n_devices, mfu).days
    for factor, unit in ((86_400, "seconds"), (24, "hours")):
        if math.isclose(got, factor * target, rel_tol=1e-3):
            raise WrongAnswer(f"{name} looks like a number of {unit}, not days.")
    expect_close(name, got, target, "days", rel=1e-3,
                 too_low="Is every factor of the denominator there exactly once?",
                 too_high="Does the denominator include the device count and the MFU?")


def _05_q3(q3_factor, q3_choice):
    ideal, recipe = _llama_days()
    expect_close("q3_factor", q3_factor, ideal / recipe, "", rel=0.02,
                 too_low="Divide the ideal days by the recipe's days (not the other way round), and correct "
                         "every one of the recipe's assumptions that is wrong for LLaMA-65B.",
                 too_high="Keep the FLOPs the same in both estimates, and compute the MFU per GPU from "
                          "380 tokens/s and the dense BF16 peak.")
    expect_choice("q3_choice", q3_choice, ["a", "b", "c", "d"])


def _05_q4(q4_effective_mfu):
    x = expect_number("q4_effective_mfu", q4_effective_mfu, "(a fraction)")
    if x > 1:
        raise WrongAnswer("q4_effective_mfu should be a fraction between 0 and 1 (0.5 for 50%), and no "
                          "MFU can exceed 1.")
    expect_close("q4_effective_mfu", x, _effective_mfu(model_card("Llama 3.1 405B")), "(a fraction)", rel=0.03,
                 too_low="Use the dense BF16 peak, and remember that the reported GPU-hours are already "
                         "summed over all GPUs.",
                 too_high="Check the units: GPU-hours times 3,600 s per hour, FLOPs, and a peak in FLOP/s "
                          "(not TFLOP/s).")


def _05_q5(q5_explorer, q5_days):
    if not hasattr(q5_explorer, "result") or not hasattr(q5_explorer.result, "estimate"):
        raise WrongAnswer("q5_explorer should be the TrainingCalculator created in the cell above.")
    card = model_card("Llama 3.1 405B")
    e = q5_explorer.result.estimate
    if e.accelerator != accelerator(card.accelerator).name:
        raise WrongAnswer("The accelerator is not the one Llama 3.1 405B was trained on: see its model card.")
    if e.n_devices != card.n_devices:
        raise WrongAnswer("The device count is not the one in Llama 3.1 405B's model card.")
    if e.precision != "bf16":
        raise WrongAnswer("The precision is not the one in which the paper reports its MFU.")
    if e.sparse:
        raise WrongAnswer("The calculator still uses the 2:4-sparse peak: can dense training use it?")
    expect_close("The calculator's training compute", e.flops, card.compute_flops, "FLOPs", rel=0.03,
                 too_low="6ND should match the compute Llama 3.1 405B reports: check N and D.",
                 too_high="6ND should match the compute Llama 3.1 405B reports: check N and D.")
    low, high = card.mfu
    if e.mfu < low - 1e-9:
        raise WrongAnswer("The MFU is lower than any the Llama 3.1 paper reports (lesson 05, section 6).")
    if e.mfu > high + 1e-9:
        raise WrongAnswer("The MFU is higher than any the Llama 3.1 paper reports (lesson 05, section 6).")
    expect_close("q5_days", q5_days, e.days, "days", rel=0.01,
                 too_low="Read the days off the calculator after your last change (or from "
                         "q5_explorer.result.estimate).",
                 too_high="Read the days off the calculator after your last change (or from "
                          "q5_explorer.result.estimate).")


EXERCISE = "05_flops_to_days"
QUESTIONS = {
    "q1": Question("q1", ("q1_days", "q1_cost_usd"), _05_q1,
                   "training_time(flops, accelerator, n_devices, mfu, price_per_device_hour=...) returns "
                   "the days and the cost; the model card has the rest."),
    "q2": Question("q2", ("training_days",), _05_q2,
                   "t = C / (n · P · MFU) seconds (lesson 05, section 1), and a day has 86,400 seconds."),
    "q3": Question("q3", ("q3_factor", "q3_choice"), _05_q3,
                   "Go through the three assumptions of section 4 one by one: which of them are wrong for a "
                   "dense model, and by how much?", graded_only=True),
    "q4": Question("q4", ("q4_effective_mfu",), _05_q4,
                   "Device-hours = C / (P · MFU · 3600): solve it for MFU. The figure shows roughly where "
                   "the answer lies."),
    "q5": Question("q5", ("q5_explorer", "q5_days"), _05_q5,
                   "Section 6 gives Llama 3.1 405B's compute, hardware, precision and MFU; the model dropdown "
                   "fills in some of these settings, not all."),
}
