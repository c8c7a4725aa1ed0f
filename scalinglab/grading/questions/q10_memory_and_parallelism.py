"""Public tests of exercise 10 (memory, rooflines and parallelism): solutions/10_memory_and_parallelism.ipynb, with
per-student variants."""

from __future__ import annotations

import math

from ...hardware import accelerator
from ...memory import activation_memory, decode_time, kv_cache_bytes, training_memory
from ...memory_explorers import DEVICE_COUNTS, compute_memory
from ..checks import Question, WrongAnswer, expect_choice, expect_exact, expect_explorer, expect_number, round_sig

# q1: training set-ups in the range lesson 10 teaches. Parameter counts are drawn (two significant digits), so
# no answer is one the lesson prints.
Q1_OPTIMIZERS = ("adamw", "sgd-momentum")
Q1_PRECISIONS = ("bf16-mixed", "fp32")
Q1_SHARDS = (8, 16, 32, 64, 128, 256)
# q2 and q5: data-centre accelerators of the table with a bf16 peak.
GPUS = ("A100 SXM4 80GB", "H100 SXM5", "H200 SXM", "B200", "MI300X")
# q3: Llama 3 shapes (Dubey et al. 2024, arXiv 2407.21783, Table 3): parameters, layers, query heads, KV heads,
# head dimension (d_model / heads).
LLAMA3 = {"Llama 3 8B": (8e9, 32, 32, 8, 128), "Llama 3 70B": (70e9, 80, 64, 8, 128),
          "Llama 3.1 405B": (405e9, 126, 128, 8, 128)}
Q3_DEVICES = {"Llama 3 8B": (1, 2), "Llama 3 70B": (2, 4, 8), "Llama 3.1 405B": (8, 16)}
Q3_CONTEXTS = (8192, 16384, 32768, 65536)
# q5: micro-batches and sequence lengths, with selective or full recomputation.
Q5_CONTEXTS = (2048, 4096, 8192)
Q5_RECOMPUTE = ("selective", "full")


def _pick(rng, options):
    return options[int(rng.integers(len(options)))]


def q3_batch(V) -> int:
    """Question 3: sequences whose bf16 KV cache fits beside the bf16 weights on the devices."""
    n_params, n_layers, _, n_kv, head_dim = LLAMA3[V["q3_model"]]
    free = V["q3_devices"] * accelerator(V["q3_accelerator"]).memory_bytes - 2 * n_params
    return int(free // kv_cache_bytes(n_layers, n_kv, head_dim, V["q3_context"]))


def q5_devices(V) -> int:
    """Question 5: the fewest devices (a power of two) at which the set-up fits, or 0 if none does."""
    for n in DEVICE_COUNTS:
        if _fit(V, n).fits:
            return n
    return 0


def _fit(V, n_devices):
    return compute_memory(V["q5_n_params"], "bf16-mixed", "adamw", 3, n_devices, V["q5_accelerator"], V["q5_context"],
                       V["q5_micro_batch"], V["q5_recompute"])


def make_variant(rng) -> dict:
    """One student's inputs: a training set-up to size, a device for the decoding floor, a Llama 3 model to
    serve, and a model to fit with ZeRO-3."""
    q3_model = _pick(rng, tuple(LLAMA3))
    while True:
        q3 = dict(q3_model=q3_model, q3_devices=_pick(rng, Q3_DEVICES[q3_model]),
                  q3_accelerator=_pick(rng, ("A100 SXM4 80GB", "H100 SXM5", "H200 SXM")),
                  q3_context=_pick(rng, Q3_CONTEXTS))
        if 2 <= q3_batch(q3) <= 99:      # two digits: too common a number for a lesson to give it away
            break
        q3_model = _pick(rng, tuple(LLAMA3))
    while True:
        q5 = dict(q5_n_params=round_sig(10 ** rng.uniform(10, 11.7), 2), q5_accelerator=_pick(rng, GPUS),
                  q5_context=_pick(rng, Q5_CONTEXTS), q5_micro_batch=int(rng.integers(1, 5)),
                  q5_recompute=_pick(rng, Q5_RECOMPUTE))
        if q5_devices(q5) >= 4:            # a real search, and a solution within the explorer's range
            break
    return {
        "q1_n_params": round_sig(10 ** rng.uniform(9.5, 11.5), 2),       # parameters
        "q1_optimizer": _pick(rng, Q1_OPTIMIZERS),
        "q1_precision": _pick(rng, Q1_PRECISIONS),
        "q1_shards": _pick(rng, Q1_SHARDS),
        "q1_zero_stage": int(rng.integers(1, 4)),
        "q2_accelerator": _pick(rng, GPUS),
        **q3, **q5,
    }


# --- 10 Memory, rooflines and parallelism ----------------------------------------------------------

def _10_q1(V, q1_gb):
    x = expect_number("q1_gb", q1_gb, "GB")
    m = training_memory(V["q1_n_params"], V["q1_optimizer"], V["q1_precision"], V["q1_shards"], V["q1_zero_stage"])
    if math.isclose(x, m.total_bytes / 1e9, rel_tol=1e-9):
        raise WrongAnswer("that is the total over all devices; the question asks what one device holds.")
    if math.isclose(x, m.per_device_bytes / 2**30, rel_tol=1e-9):
        raise WrongAnswer("that is in GiB (2**30 bytes); the course's GB are 1e9 bytes.")
    for stage in range(4):
        other = training_memory(V["q1_n_params"], V["q1_optimizer"], V["q1_precision"], V["q1_shards"], stage)
        if stage != V["q1_zero_stage"] and math.isclose(x, other.per_device_gb, rel_tol=1e-9):
            raise WrongAnswer("that is the memory of another ZeRO stage: check which states your stage shards "
                              "(1: optimizer states; 2: also gradients; 3: also weights).")
    expect_exact("q1_gb", x, m.per_device_gb, "GB",
                 too_low="Does your count include every state of your optimizer and precision (an fp32 master copy "
                         "in mixed precision, but not in fp32 training)?",
                 too_high="Which states does your ZeRO stage divide by the number of devices?")


def _reference_floor(n_params, n_devices, batch, kv_bytes, name):
    return decode_time(n_params, name, n_devices, batch, kv_bytes_per_sequence=kv_bytes).seconds


def _10_q2(V, decode_floor):
    if not callable(decode_floor):
        raise WrongAnswer("decode_floor should be a function of (n_params, n_devices, batch, kv_bytes, name).")
    name = V["q2_accelerator"]
    cases = ((70e9, 8, 1, 0.0), (70e9, 8, 64, 1.34e9), (8e9, 1, 512, 1e8), (405e9, 16, 4096, 5e7))
    for n_params, n_devices, batch, kv in cases:
        want = _reference_floor(n_params, n_devices, batch, kv, name)
        got = expect_number(f"decode_floor({n_params:g}, {n_devices}, {batch}, {kv:g}, {name!r})",
                            decode_floor(n_params, n_devices, batch, kv, name), "seconds")
        acc = accelerator(name)
        memory = (2 * n_params + batch * kv) / (n_devices * acc.bandwidth_bytes_per_s)
        compute = 2 * n_params * batch / (n_devices * acc.peak_flops("bf16"))
        if not math.isclose(got, want, rel_tol=1e-9) and math.isclose(got, memory + compute, rel_tol=1e-9):
            raise WrongAnswer("you added the compute time and the memory time; the floor is the larger of the two.")
        if not math.isclose(got, want, rel_tol=1e-9) and math.isclose(got, memory, rel_tol=1e-9):
            raise WrongAnswer(f"at batch {batch} the FLOPs take longer than the bytes: the floor is the larger of the "
                              "two times, not always the memory time.")
        if not math.isclose(got, want, rel_tol=1e-9) and batch > 1 and kv > 0 and \
                math.isclose(got, max(compute, 2 * n_params / (n_devices * acc.bandwidth_bytes_per_s)), rel_tol=1e-9):
            raise WrongAnswer("each sequence's KV cache has to be read too, once per step.")
        expect_exact(f"decode_floor(..., batch={batch}, ...)", got, want, "seconds",
                     too_low="Are the weights counted in bytes (2 per bf16 parameter), with the dense bf16 peak?",
                     too_high="Do you divide by the number of devices, for both bandwidth and FLOP/s?")


def _10_q3(V, q3_batch_value):
    x = expect_number("q3_batch", q3_batch_value, "sequences")
    target = q3_batch(V)
    n_params, n_layers, n_heads, n_kv, head_dim = LLAMA3[V["q3_model"]]
    free = V["q3_devices"] * accelerator(V["q3_accelerator"]).memory_bytes - 2 * n_params
    if x != target and x == int(free // kv_cache_bytes(n_layers, n_heads, head_dim, V["q3_context"])):
        raise WrongAnswer("that counts a key and a value for every query head; grouped-query attention caches only "
                      "the KV heads.")
    if x != target and x == int(free // (kv_cache_bytes(n_layers, n_kv, head_dim, V["q3_context"]) / 2)):
        raise WrongAnswer("the cache holds keys and values: two tensors per layer.")
    if x != target and x == int(V["q3_devices"] * accelerator(V["q3_accelerator"]).memory_bytes
                                // kv_cache_bytes(n_layers, n_kv, head_dim, V["q3_context"])):
        raise WrongAnswer("the bf16 weights take their share of the memory first.")
    if x != round(x):
        raise WrongAnswer("q3_batch should be a whole number of sequences (round down).")
    expect_exact("q3_batch", x, target, "sequences",
                 too_low="Use bf16 (2 bytes per value), GB of 1e9 bytes, and all the devices' memory.",
                 too_high="Round down, and leave room for the weights.")


def _10_q4(q4_choice):
    expect_choice("q4_choice", q4_choice, ["a", "b", "c", "d"])


def _10_q5(V, q5_total_gb, q5_explorer):
    target_n = q5_devices(V)
    target = _fit(V, target_n)
    x = expect_number("q5_total_gb", q5_total_gb, "GB")
    half = _fit(V, target_n // 2) if target_n > 1 else None
    if half is not None and math.isclose(x, half.total_bytes / 1e9, rel_tol=1e-9):
        raise WrongAnswer("at that number of devices the model does not fit yet: take the next power of two.")
    if math.isclose(x, target.memory.per_device_bytes / 1e9, rel_tol=1e-9):
        raise WrongAnswer("that leaves out the activations; the total includes them.")
    expect_exact("q5_total_gb", x, target.total_bytes / 1e9, "GB",
                 too_low="Is this the fewest devices at which it fits? Fewer devices hold more each.",
                 too_high="Is there a smaller power of two at which it still fits?")
    expect_explorer("q5_explorer", q5_explorer, "MemoryExplorer", "memory",
                    untouched="set the explorer's devices, then record it with q5_explorer.set(...)")
    v = q5_explorer.result
    same = (v.n_params == V["q5_n_params"] and v.accelerator == accelerator(V["q5_accelerator"]).name
            and v.n_ctx == V["q5_context"] and v.micro_batch == V["q5_micro_batch"]
            and v.recompute == V["q5_recompute"] and v.memory.zero_stage == 3
            and v.memory.precision == "bf16-mixed" and v.memory.optimizer == "adamw")
    if not same:
        raise WrongAnswer("keep every control but the devices where the explorer starts (your V's set-up).")
    if v.n_devices < target_n:
        raise WrongAnswer("the explorer shows that these devices are not enough: add devices.")
    if v.n_devices > target_n:
        raise WrongAnswer("the explorer's devices are more than needed: try fewer.")


EXERCISE = "10_memory_and_parallelism"
QUESTIONS = {
    "q1": Question("q1", ("q1_gb",), _10_q1,
                   "training_memory(...) returns a record; .per_device_bytes is what one device holds.", variant=True),
    "q2": Question("q2", ("decode_floor",), _10_q2,
                   "One step reads 2N bytes of weights and batch × KV bytes, and does 2N FLOPs per sequence; lesson "
                   "10, section 6, gives the floor.", variant=True),
    "q3": Question("q3", ("q3_batch",), _10_q3,
                   "Subtract the bf16 weights from the devices' memory, then divide by one sequence's KV cache "
                   "(kv_cache_bytes).", variant=True),
    "q4": Question("q4", ("q4_choice",), _10_q4,
                   "Lesson 10, section 5, takes both layouts apart.", graded_only=True),
    "q5": Question("q5", ("q5_total_gb", "q5_explorer"), _10_q5,
                   "Try the powers of two in turn with compute_memory (or the explorer) and keep the first that fits.",
                   variant=True),
}
