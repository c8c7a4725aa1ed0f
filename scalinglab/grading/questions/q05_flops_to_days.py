"""Public tests of exercise 05 (from FLOPs to days): solutions/05_flops_to_days.ipynb, with per-student variants."""

from __future__ import annotations

import math

from ...flops import training_flops
from ..checks import Question, WrongAnswer, expect_choice, expect_exact, expect_explorer, expect_number, round_sig
from ...hardware import accelerator
from ...models import model_card
from ...training import training_time

# q1: model cards that give an accelerator and a device count; GPT-4 is left out (lesson 05 prints its days at
# many MFUs). MFUs the lesson uses for these models are left out too.
Q1_MODELS = ("LLaMA-65B", "Llama 3.1 405B", "DeepSeek-V3")
LESSON_MFUS = (0.32, 0.34, 0.36, 0.38, 0.40, 0.41, 0.43, 0.47, 0.48)
# Rental prices per GPU-hour are assumptions, not sourced facts (lesson 05, section 7 says so): the draw stays
# inside the ranges that section lets a learner set, A100 $1-5, H100 (and the H800, the same chip) $2-12.
PRICES = {"A100 SXM4 80GB": (1.0, 5.0), "H100 SXM5": (2.0, 12.0), "H800 SXM5": (2.0, 12.0)}
# q2: accelerators and the precisions a large run trains in.
Q2_ACCELERATORS = ("A100 SXM4 80GB", "H100 SXM5", "H200 SXM", "B200", "MI300X", "TPU v4", "TPU v5p")
# q3: dense models trained on GPUs with a 2:4-sparse peak (the recipe of section 4 needs one).
Q3_MODELS = ("LLaMA-65B", "Llama 2 70B", "Llama 3 70B", "Llama 3.1 405B")
Q3_DEVICES = (1024, 2048, 4096, 8192, 16384)
# q4: model cards with reported GPU-hours, the FLOPs taken as 6ND (active parameters). LLaMA-65B is left out:
# lesson 05 shows its hours match an MFU of 47.6%. (For Llama 3.1 405B the lesson uses the reported 3.8e25 FLOPs.)
Q4_MODELS = ("Llama 2 70B", "Llama 3 70B", "Llama 3.1 405B", "DeepSeek-V3")
# q5: the calculator's model presets, moved to another accelerator, cluster and MFU.
Q5_MODELS = ("LLaMA-65B", "Llama 3.1 405B", "DeepSeek-V3", "GPT-4")
Q5_ACCELERATORS = ("A100 SXM4 80GB", "H100 SXM5", "H100 PCIe", "H800 SXM5", "H200 SXM", "B200", "MI300X",
                   "TPU v4", "TPU v5p")


def _pick(rng, options):
    return options[int(rng.integers(len(options)))]


def _mfu(rng, avoid=()) -> float:
    """An MFU in the range large runs report (lesson 05, section 3), to the percent."""
    while True:
        mfu = round(float(rng.uniform(0.30, 0.50)), 2)
        if mfu not in avoid:
            return mfu


def make_variant(rng) -> dict:
    """One student's inputs: a run to cost, inputs for a function, a dense model's throughput, a model whose
    hours to explain, and a what-if for the calculator."""
    q1_model = _pick(rng, Q1_MODELS)
    low, high = PRICES[model_card(q1_model).accelerator]
    q2_accelerator = _pick(rng, Q2_ACCELERATORS)
    q2_precision = "fp8" if "fp8" in accelerator(q2_accelerator).precisions() and rng.random() < 0.5 else "bf16"
    q3_model = _pick(rng, Q3_MODELS)
    card3 = model_card(q3_model)
    peak3 = accelerator(card3.accelerator).peak_flops("bf16")
    # a measured throughput (tokens/s per GPU) at an MFU large runs reach; never LLaMA-65B's 380 (Touvron et al.
    # 2023, arXiv 2302.13971, section 2.4), which lesson 05 uses
    while True:
        q3_tokens_per_s = round_sig(rng.uniform(0.33, 0.55) * peak3 / (6 * card3.params_active), 3)
        if not (q3_model == "LLaMA-65B" and abs(q3_tokens_per_s - 380) < 5):
            break
    q5_model = _pick(rng, Q5_MODELS)
    q5_accelerator = _pick(rng, [a for a in Q5_ACCELERATORS if a != model_card(q5_model).accelerator])
    card_devices = model_card(q5_model).n_devices      # a cluster from a quarter to twice the reported one
    q5_devices = [2 ** k for k in range(8, 17) if card_devices / 4 <= 2 ** k <= 2 * card_devices]
    return {
        "q1_model": q1_model,
        "q1_mfu": _mfu(rng, LESSON_MFUS),                                         # fraction of the dense peak
        "q1_price": round(float(rng.uniform(low, high)) * 20) / 20,                # US dollars per GPU-hour
        "q2_flops": round_sig(10 ** rng.uniform(22, 26), 2),                          # FLOPs
        "q2_accelerator": q2_accelerator,
        "q2_precision": q2_precision,
        "q2_n_devices": int(2 ** rng.integers(9, 15)),                              # 512 ... 16,384 devices
        "q2_mfu": _mfu(rng),
        "q3_model": q3_model,
        "q3_tokens_per_s": q3_tokens_per_s,                                         # tokens/s per GPU
        "q3_n_devices": _pick(rng, Q3_DEVICES),
        "q4_model": _pick(rng, Q4_MODELS),
        "q5_model": q5_model,
        "q5_accelerator": q5_accelerator,
        "q5_n_devices": _pick(rng, q5_devices),
        "q5_mfu": _mfu(rng, LESSON_MFUS),
    }


def q1_estimate(V):
    card = model_card(V["q1_model"])
    return training_time(training_flops(card.params_active, card.tokens), card.accelerator, card.n_devices,
                         V["q1_mfu"], price_per_device_hour=V["q1_price"])


def effective_mfu(V):
    """The MFU at which an ideal run of 6ND FLOPs (active parameters) uses exactly the card's GPU-hours."""
    card = model_card(V["q4_model"])
    flops = training_flops(card.params_active, card.tokens)
    return flops / (accelerator(card.accelerator).peak_flops("bf16") * card.gpu_hours * 3600)


def q5_estimate(V):
    card = model_card(V["q5_model"])
    return training_time(training_flops(card.params_active, card.tokens), V["q5_accelerator"], V["q5_n_devices"],
                         V["q5_mfu"])


# --- 05 From FLOPs to days ------------------------------------------------------------------------

def _05_q1(V, q1_days, q1_cost_usd):
    target = q1_estimate(V)
    card = model_card(V["q1_model"])
    x = expect_number("q1_days", q1_days, "days")
    if card.params_total != card.params_active and math.isclose(x, target.days * card.params_total /
                                                                card.params_active, rel_tol=1e-3):
        raise WrongAnswer("q1_days is too high: for a mixture of experts, which parameters does the N of 6ND count?")
    if math.isclose(x, target.days / 2, rel_tol=1e-3):
        raise WrongAnswer("q1_days is too low: which peak can dense training use, the dense or the 2:4-sparse one?")
    expect_exact("q1_days", x, target.days, "days",
                 too_low="Use 6ND FLOPs and the dense BF16 peak: not the 2:4-sparse figure, not FP8.",
                 too_high="Check N (for a mixture of experts, which parameters?) and the MFU of your variant.")
    cost = expect_number("q1_cost_usd", q1_cost_usd, "US dollars")
    if 0 < cost < 1e4:
        raise WrongAnswer("q1_cost_usd should be in US dollars, not millions of dollars.")
    expect_exact("q1_cost_usd", cost, target.cost_usd, "US dollars",
                 too_low="The price is per device-hour: count the hours of every GPU, not the days of the run.",
                 too_high="The price is per device-hour: are the hours counted once per GPU, and the price "
                          "your variant's?")


def _05_q2(V, training_days):
    if not callable(training_days):
        raise WrongAnswer("training_days should be a function of (flops, n_devices, peak_flops, mfu).")
    flops, n_devices, mfu = V["q2_flops"], V["q2_n_devices"], V["q2_mfu"]
    peak = accelerator(V["q2_accelerator"]).peak_flops(V["q2_precision"])
    name = f"training_days({flops:g}, {n_devices}, {peak:g}, {mfu})"
    got = expect_number(name, training_days(flops, n_devices, peak, mfu), "days")
    target = training_time(flops, V["q2_accelerator"], n_devices, mfu, precision=V["q2_precision"]).days
    for factor, unit in ((86_400, "seconds"), (24, "hours")):
        if math.isclose(got, factor * target, rel_tol=1e-3):
            raise WrongAnswer(f"{name} looks like a number of {unit}, not days.")
    expect_exact(name, got, target, "days",
                 too_low="Is every factor of the denominator there exactly once?",
                 too_high="Does the denominator include the device count and the MFU?")


def _05_q3(q3_choice):
    expect_choice("q3_choice", q3_choice, ["a", "b", "c", "d"])


def _05_q4(V, q4_effective_mfu):
    x = expect_number("q4_effective_mfu", q4_effective_mfu, "(a fraction)")
    if x > 1:
        raise WrongAnswer("q4_effective_mfu should be a fraction between 0 and 1 (0.5 for 50%), and no "
                          "MFU can exceed 1.")
    target = effective_mfu(V)
    card = model_card(V["q4_model"])
    if card.params_total != card.params_active and math.isclose(x, target * card.params_total / card.params_active,
                                                                rel_tol=1e-3):
        raise WrongAnswer("q4_effective_mfu is too high: for a mixture of experts, which parameters does the N "
                          "of 6ND count?")
    if math.isclose(x, target / 2, rel_tol=1e-3):
        raise WrongAnswer("q4_effective_mfu is too low: MFU is measured against the dense peak, not the "
                          "2:4-sparse one.")
    expect_exact("q4_effective_mfu", x, target, "(a fraction)",
                 too_low="Use the dense BF16 peak, and remember that the reported GPU-hours are already "
                         "summed over all GPUs.",
                 too_high="Check the units: the reported hours need converting to seconds, the FLOPs are 6ND, "
                          "and the peak is in FLOP/s (not TFLOP/s).")


def _05_q5(V, q5_prediction, q5_explorer):
    target = q5_estimate(V)
    x = expect_number("q5_prediction", q5_prediction, "days")
    expect_exact("q5_prediction", x, target.days, "days",
                 too_low="Predict with training_time for your variant's accelerator, devices and MFU, in dense "
                         "BF16, with 6ND from the model card (active parameters).",
                 too_high="Predict with training_time for your variant's accelerator, devices and MFU, in dense "
                          "BF16, with 6ND from the model card (active parameters).")
    expect_explorer("q5_explorer", q5_explorer, "TrainingCalculator", "estimate",
                    untouched="set the calculator to your scenario, then record it with q5_explorer.set(...)")
    card, e, v = model_card(V["q5_model"]), q5_explorer.result.estimate, q5_explorer.values()
    if abs(v["n_params"] / card.params_active - 1) > 0.005 or abs(v["n_tokens"] / card.tokens - 1) > 0.005:
        raise WrongAnswer(f"N and D should stay those of {V['q5_model']}, where the calculator starts.")
    if e.accelerator != accelerator(V["q5_accelerator"]).name:
        raise WrongAnswer("The accelerator is not the one of your scenario, V['q5_accelerator'].")
    if e.n_devices != V["q5_n_devices"]:
        raise WrongAnswer("The device count is not the one of your scenario, V['q5_n_devices'].")
    if e.precision != "bf16" or e.sparse:
        raise WrongAnswer("The calculator should use the peak dense BF16 training gets: check the precision "
                          "and the sparse box.")
    if abs(e.mfu - V["q5_mfu"]) > 1e-9:
        raise WrongAnswer("The MFU is not the one of your scenario, V['q5_mfu'].")
    if not math.isclose(e.days, x, rel_tol=1e-6):
        raise WrongAnswer("The calculator's days differ from your prediction: compare the settings with your "
                          "training_time call.")


EXERCISE = "05_flops_to_days"
QUESTIONS = {
    "q1": Question("q1", ("q1_days", "q1_cost_usd"), _05_q1,
                   "training_time(...) returns the days and the cost when given a price; the model card has the "
                   "rest.", variant=True),
    "q2": Question("q2", ("training_days",), _05_q2,
                   "Lesson 05, section 1: how many useful FLOPs does the cluster do per second? And how many "
                   "seconds has a day?", variant=True),
    "q3": Question("q3", ("q3_choice",), _05_q3,
                   "Go through the three assumptions of section 4 one by one: which of them are wrong for a "
                   "dense model, and by how much?", graded_only=True),
    "q4": Question("q4", ("q4_effective_mfu",), _05_q4,
                   "Section 1 writes device-hours in terms of C, the peak and the MFU: solve that for the MFU. "
                   "The figure shows roughly where the answer lies.", variant=True),
    "q5": Question("q5", ("q5_prediction", "q5_explorer"), _05_q5,
                   "Choosing a model in the calculator sets every control from its card; then change only what "
                   "your scenario changes (accelerator, devices, MFU), and read the days in the readout.",
                   variant=True),
}
