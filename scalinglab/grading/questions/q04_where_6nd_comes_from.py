"""Public tests of exercise 04 (where 6ND comes from): solutions/04_where_6nd_comes_from.ipynb, with per-student
variants."""

from __future__ import annotations

from itertools import combinations

import numpy as np

from ...flops import matmul_flops, transformer_flops, transformer_params
from ..checks import NotAnswered, Question, WrongAnswer, expect_exact, expect_explorer, expect_number, round_sig
from ...models import model_card

# Published shapes (layers, d_model, vocabulary, context): GPT-2 (Radford et al. 2019, Table 2), GPT-3
# (Brown et al. 2020, Table 2.1; the 13B width 5,140 divides into no heads of 64 and is left out), Hoffmann
# et al. 2022 Table A4 (with Gopher's vocabulary and context, as lesson 04 section 5 assumes), Chinchilla and
# Gopher (Hoffmann et al. 2022; Rae et al. 2021), Llama 3 8B and 70B (Dubey et al. 2024: layers, width,
# vocabulary, context; the explorer counts them GPT-style).
SHAPES = {
    "GPT-2 small": (12, 768, 50257, 1024), "GPT-2 medium": (24, 1024, 50257, 1024),
    "GPT-2 large": (36, 1280, 50257, 1024), "GPT-2 XL": (48, 1600, 50257, 1024),
    "GPT-3 Small (125M)": (12, 768, 50257, 2048), "GPT-3 Medium (350M)": (24, 1024, 50257, 2048),
    "GPT-3 Large (760M)": (24, 1536, 50257, 2048), "GPT-3 XL (1.3B)": (24, 2048, 50257, 2048),
    "GPT-3 2.7B": (32, 2560, 50257, 2048), "GPT-3 6.7B": (32, 4096, 50257, 2048),
    "GPT-3 175B": (96, 12288, 50257, 2048),
    "Hoffmann Table A4 73M": (10, 640, 32000, 2048), "Hoffmann Table A4 305M": (20, 1024, 32000, 2048),
    "Hoffmann Table A4 552M": (24, 1280, 32000, 2048), "Hoffmann Table A4 1.1B": (26, 1792, 32000, 2048),
    "Hoffmann Table A4 1.6B": (28, 2048, 32000, 2048), "Hoffmann Table A4 6.8B": (40, 3584, 32000, 2048),
    "Chinchilla 70B": (80, 8192, 32000, 2048), "Gopher 280B": (80, 16384, 32000, 2048),
    "Llama 3 8B": (32, 4096, 128256, 8192), "Llama 3 70B": (80, 8192, 128256, 8192),
}
Q1_MODELS = [n for n in SHAPES if not n.startswith("Hoffmann")]
Q1_MATRICES = {   # which matrix of a layer: (d_in, d_out) in units of d_model
    "the MLP's first matrix (up-projection)": (1, 4), "the MLP's second matrix (down-projection)": (4, 1),
    "the attention query projection": (1, 1), "the attention output projection": (1, 1)}
# GPT-2-style shapes; not GPT-2 small, XL or GPT-3 175B, whose totals lesson 04 prints
Q2_MODELS = [n for n in SHAPES if n.startswith(("GPT-2 m", "GPT-2 l", "GPT-3")) and n != "GPT-3 175B"]
Q3_MODELS = ("DeepSeek-V3", "GPT-4")   # the mixtures of experts of the library's model cards
# q4 hides its shape; left out: shapes whose N = 12 n_layer d_model^2 or crossover 12 d_model lesson 04 prints
# (GPT-2 small's 84,934,656, GPT-3's 173.9B, and 12,288, GPT-3's width, for d_model = 1,024)
Q4_MODELS = [n for n, (L, d, _, _) in SHAPES.items()
             if n.startswith(("GPT-3", "Hoffmann", "GPT-2")) and (L, d) != (12, 768) and d not in (1024, 12288)]
Q5_MODELS = [n for n in SHAPES if n != "GPT-2 small"]      # the explorer's lesson preset is left out
Q5_SHARES = {0.25: "a quarter", 0.5: "half", 0.75: "three quarters"}
CONTEXTS = tuple(2 ** k for k in range(7, 18))              # the explorer's context list, 128 ... 131,072


def attention_share(n_layer, d_model, n_vocab, n_ctx) -> float:
    """Share of Hoffmann's forward FLOPs per token spent on attention over the context (as the explorer shows)."""
    c = transformer_flops(n_layer, d_model, n_vocab, n_ctx, n_head=max(1, d_model // 64), method="hoffmann").components
    context = c["attention: QK logits"] + c["attention: values"] + c["attention: softmax"]
    return context / sum(c.values())


def q5_answer(n_layer, d_model, n_vocab, share):
    """The smallest context of the explorer's list at which attention over the context exceeds ``share``."""
    return next((s for s in CONTEXTS if attention_share(n_layer, d_model, n_vocab, s) > share), None)


def kaplan_training_flops(n_layer, d_model, contexts) -> tuple:
    """Kaplan's training FLOPs per token (forward and backward) at each context, as exact integers."""
    return tuple(int(transformer_flops(n_layer, d_model, 32000, s, n_head=max(1, d_model // 64)).training_per_token)
                 for s in contexts)


def make_variant(rng) -> dict:
    """One student's inputs: a layer and a batch, a shape to count, an MoE run, Kaplan counts, an explorer model."""
    q1_model = Q1_MODELS[int(rng.integers(len(Q1_MODELS)))]
    q1_matrix = list(Q1_MATRICES)[int(rng.integers(len(Q1_MATRICES)))]
    q3_model = Q3_MODELS[int(rng.integers(len(Q3_MODELS)))]
    card_tokens = model_card(q3_model).tokens
    while True:   # a budget in the range of today's runs, never the card's own (the lesson prints that one)
        q3_tokens = round_sig(10 ** rng.uniform(np.log10(2e12), np.log10(40e12)), 2)
        if abs(q3_tokens / card_tokens - 1) > 0.05:
            break
    L4, d4, _, _ = SHAPES[Q4_MODELS[int(rng.integers(len(Q4_MODELS)))]]   # hidden: only its counts are given
    start = int(rng.integers(7, 11))
    q4_ctx = tuple(2 ** k for k in range(start, start + 6))
    while True:   # a model and a share the explorer's context list can reach from the model's own context
        q5_model = Q5_MODELS[int(rng.integers(len(Q5_MODELS)))]
        q5_share = list(Q5_SHARES)[int(rng.integers(len(Q5_SHARES)))]
        L5, d5, v5, s5 = SHAPES[q5_model]
        answer = q5_answer(L5, d5, v5, q5_share)
        if answer is not None and answer > s5:
            break
    n_layer, d_model, n_vocab, n_ctx = SHAPES[q1_model]
    a, b = Q1_MATRICES[q1_matrix]
    q2_model = Q2_MODELS[int(rng.integers(len(Q2_MODELS)))]
    return {
        "q1_model": q1_model,
        "q1_matrix": q1_matrix,
        "q1_d_in": a * d_model,                                         # activations in
        "q1_d_out": b * d_model,                                        # activations out
        "q1_sequences": int(2 ** rng.integers(3, 10)),                 # 8 ... 512 sequences per batch
        "q1_ctx": n_ctx,                                                # tokens per sequence
        "q2_model": q2_model,
        "q2_shape": SHAPES[q2_model],                                   # (n_layer, d_model, n_vocab, n_ctx)
        "q3_model": q3_model,
        "q3_tokens": q3_tokens,                                         # tokens
        "q4_ctx": q4_ctx,                                               # tokens of context
        "q4_flops": kaplan_training_flops(L4, d4, q4_ctx),              # training FLOPs per token
        "q5_model": q5_model,
        "q5_shape": SHAPES[q5_model],                                   # (n_layer, d_model, n_vocab, n_ctx)
        "q5_share": q5_share,                                           # a fraction of the forward FLOPs
    }


# --- 04 Where 6ND comes from ------------------------------------------------------------------------

def _04_q1(V, q1_forward, q1_backward):
    n_tokens, d_in, d_out = V["q1_sequences"] * V["q1_ctx"], V["q1_d_in"], V["q1_d_out"]
    forward = matmul_flops(n_tokens, d_out, d_in)
    x = expect_number("q1_forward", q1_forward, "FLOPs")
    if abs(x - forward / V["q1_sequences"]) <= 1e-3 * forward / V["q1_sequences"]:
        raise WrongAnswer("q1_forward is too low: that is one sequence. Count every token of the batch.")
    if abs(x - forward / 2) <= 1e-3 * forward:
        raise WrongAnswer("q1_forward is too low: how many FLOPs is one multiply-add?")
    expect_exact("q1_forward", x, forward, "FLOPs",
                 too_low="Count every token of the batch (sequences × tokens per sequence), and a multiply-add "
                         "as 2 FLOPs.",
                 too_high="The forward pass is a single matmul, (tokens × d_in)(d_in × d_out); count it once.")
    got = expect_number("q1_backward", q1_backward, "FLOPs")
    if abs(got - forward) <= 1e-3 * forward:
        raise WrongAnswer("q1_backward is too low: it is the size of one matmul. Besides the gradient for the "
                          "weights, what must this layer's backward pass compute?")
    if abs(got - 3 * forward) <= 1e-3 * forward:
        raise WrongAnswer("q1_backward is too high: count only the gradient matmuls, not the forward pass again.")
    expect_exact("q1_backward", got, 2 * forward, "FLOPs",
                 too_low="Write the shapes of the gradient products the chain rule needs, and count each one.",
                 too_high="Count only the products the chain rule needs for this layer; the optimizer's update "
                          "is not part of the backward pass.")


def _gpt2_diagnosis(got, n_layer, d_model, n_vocab, n_ctx) -> str:
    """Which pieces a wrong GPT-2 count most likely left out (or counted twice); never the number."""
    p = transformer_params(n_layer, d_model, n_vocab, n_ctx)
    L, d = n_layer, d_model
    if got == 12 * L * d * d:
        return "That is only the layers' weight matrices; what sits around them?"
    # pieces of the count, by how much leaving each out lowers it (a negative one is counted once too often)
    pieces = {"the token embedding": n_vocab * d, "the learned position embeddings": n_ctx * d,
              "the biases of the linear layers (Q, K, V, output, both MLP matrices)": 9 * L * d,
              "the layer norms (two per layer and one after the last)": 2 * (2 * L + 1) * d,
              "the layer norms' gains and biases (each layer norm has both)": (2 * L + 1) * d,
              "the layer norm after the last layer": 2 * d,
              "the output layer, which is tied to the token embedding (count it once)": -n_vocab * d}
    names = list(pieces)
    for size in (1, 2, 3):
        for combo in combinations(names, size):
            if sum(pieces[n] for n in combo) == p.total - got:
                return "Check these parts of your count: " + "; ".join(combo) + "."
    return "Compare your count piece by piece with the fields of transformer_params."


def _04_q2(V, gpt2_params):
    if not callable(gpt2_params):
        raise WrongAnswer("gpt2_params should be a function of (n_layer, d_model, n_vocab, n_ctx, bias=True).")
    shape = tuple(V["q2_shape"])
    call = f"gpt2_params{shape}"
    got = expect_number(call, gpt2_params(*shape), "parameters")
    target = transformer_params(*shape).total
    if got != target:
        side = "too low" if got < target else "too high"
        raise WrongAnswer(f"{call} ({V['q2_model']}) is {side}. {_gpt2_diagnosis(got, *shape)}")
    call = f"gpt2_params({', '.join(str(x) for x in shape)}, bias=False)"
    got = expect_number(call, gpt2_params(*shape, bias=False), "parameters")
    target = transformer_params(*shape, bias=False).total
    if got != target:
        side = "too low" if got < target else "too high"
        why = ("nanoGPT's bias=False leaves out every bias, the layer norms' too." if got > target
               else "bias=False removes only biases; every weight matrix and every layer-norm gain stays.")
        raise WrongAnswer(f"{call} is {side}. {why}")


def _04_q3(V, q3_flops, q3_dense_tokens):
    card = model_card(V["q3_model"])
    flops = 6 * card.params_active * V["q3_tokens"]
    x = expect_number("q3_flops", q3_flops, "FLOPs")
    if abs(x / (6 * card.params_total * V["q3_tokens"]) - 1) < 1e-6:
        raise WrongAnswer("q3_flops is too high: in a mixture of experts, which parameters does one token's "
                          "forward pass multiply by?")
    if abs(x / (6 * card.params_active * card.tokens) - 1) < 1e-6:
        raise WrongAnswer("q3_flops uses the tokens of the model card; your variant trains on V['q3_tokens'].")
    expect_exact("q3_flops", x, flops, "FLOPs",
                 too_low="Use all the training tokens, and count the forward and the backward pass.",
                 too_high="In a mixture of experts, which parameters does one token's forward pass multiply by?")
    expect_exact("q3_dense_tokens", q3_dense_tokens, flops / (6 * card.params_total), "tokens",
                 too_low="Keep the compute of the first part; a dense model sends every token through all of "
                         "its parameters.",
                 too_high="A dense model sends every token through all of its parameters: which N goes in 6ND?")


def _04_q4(V, q4_n_params, q4_crossover_ctx):
    slope, intercept = np.polyfit(V["q4_ctx"], V["q4_flops"], 1)
    x = expect_number("q4_n_params", q4_n_params, "parameters")
    if abs(x / (intercept / 2) - 1) < 1e-3:
        raise WrongAnswer("q4_n_params is too high: the numbers count the forward and the backward pass together.")
    expect_exact("q4_n_params", x, intercept / 6, "parameters", rel=1e-6,
                 too_low="The intercept is a token's training FLOPs with no context: how many FLOPs per "
                         "parameter is that?",
                 too_high="The intercept is a token's training FLOPs with no context: forward and backward "
                          "together, per parameter?")
    y = expect_number("q4_crossover_ctx", q4_crossover_ctx, "tokens")
    if abs(y / (slope / intercept) - 1) < 1e-3:
        raise WrongAnswer("q4_crossover_ctx is upside down: it should be a context length, in tokens.")
    expect_exact("q4_crossover_ctx", y, intercept / slope, "tokens", rel=1e-6,
                 too_low="Which part of the fitted line is attention over the context, and which the weight "
                         "matmuls? At the crossover they are equal.",
                 too_high="Which part of the fitted line is attention over the context, and which the weight "
                          "matmuls? At the crossover they are equal.")


def _04_q5(V, q5_prediction, q5_explorer):
    n_layer, d_model, n_vocab, n_ctx = V["q5_shape"]
    answer = q5_answer(n_layer, d_model, n_vocab, V["q5_share"])
    x = expect_number("q5_prediction", q5_prediction, "tokens")
    if x not in CONTEXTS:
        raise WrongAnswer("q5_prediction should be one of the explorer's context lengths (128, 256, ... 131072).")
    if x != answer:
        if x > answer:
            raise WrongAnswer("q5_prediction is too long: a shorter context of the list already gives attention "
                              "over the context more than your share of the forward FLOPs.")
        raise WrongAnswer("q5_prediction is too short: at that context attention over the context does not yet "
                          "take more than your share. Use Hoffmann's count, with heads of width 64.")
    expect_explorer("q5_explorer", q5_explorer, "TransformerExplorer", "flop_shares")
    v = q5_explorer.result
    if (v.n_layer, v.d_model, v.n_vocab) != (n_layer, d_model, n_vocab):
        raise WrongAnswer(f"Leave the layers, the width and the vocabulary at {V['q5_model']}'s, where the explorer "
                          "starts; change only the context.")
    if v.n_ctx == n_ctx:
        raise NotAnswered("choose the context in the explorer, then record it with q5_explorer.set(...)")
    if v.flop_shares()["attention over context"] <= V["q5_share"]:
        raise WrongAnswer("At the explorer's context attention over the context does not yet take more than your "
                          "share of the forward FLOPs: the context is too short.")
    if v.n_ctx != answer:
        raise WrongAnswer("A shorter context in the explorer's list already gives attention more than your share "
                          "of the forward FLOPs: the question asks for the smallest.")


EXERCISE = "04_where_6nd_comes_from"
QUESTIONS = {
    "q1": Question("q1", ("q1_forward", "q1_backward"), _04_q1,
                   "Write the shapes of x, W and y = xW, and of the products the chain rule needs for this "
                   "layer (lesson section 2); count each with matmul_flops.", variant=True),
    "q2": Question("q2", ("gpt2_params",), _04_q2,
                   "Count per layer: two layer norms, Q, K, V and output projections, the two MLP matrices, with "
                   "their biases; then the embeddings and the final layer norm. The output layer is tied.",
                   variant=True),
    "q3": Question("q3", ("q3_flops", "q3_dense_tokens"), _04_q3,
                   "In a mixture of experts a token goes through its active parameters only (lesson section 6); "
                   "a dense model's tokens go through all of its parameters.", variant=True),
    "q4": Question("q4", ("q4_n_params", "q4_crossover_ctx"), _04_q4,
                   "Kaplan's count is a straight line in n_ctx: the intercept is the part that does not depend "
                   "on the context, the slope the attention part (lesson 04, section 4). The numbers count "
                   "forward and backward together.", variant=True),
    "q5": Question("q5", ("q5_prediction", "q5_explorer"), _04_q5,
                   "Compute the share for each context of the explorer's list with transformer_flops "
                   "(method='hoffmann'), shortest first; the explorer's 'attention over context' part of the "
                   "lower bar, or q5_explorer.result.flop_shares(), shows the same.", variant=True),
}
