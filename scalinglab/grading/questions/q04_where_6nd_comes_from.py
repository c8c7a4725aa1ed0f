"""Public tests of exercise 04 (where 6ND comes from): solutions/04_where_6nd_comes_from.ipynb."""

from __future__ import annotations

from itertools import combinations

import numpy as np

from ...flops import matmul_flops, transformer_flops, transformer_params
from ..checks import NotAnswered, Question, WrongAnswer, expect_close, expect_number
from ...models import model_card

# q1: GPT-2 small's MLP up-projection (768 -> 3072) on a batch of 16 sequences of 1,024 tokens.
Q1_TOKENS, Q1_D_IN, Q1_D_OUT = 16 * 1024, 768, 3072

# q4: Kaplan's count (Table 1) of training FLOPs per token for a model of 26 layers of width 1,792,
# at six context lengths. The learner sees only the numbers and fits a straight line to them.
Q4_CONTEXTS = (512, 1024, 2048, 4096, 8192, 16384)
Q4_TRAINING_FLOPS = tuple(int(transformer_flops(26, 1792, 32000, s, n_head=14).training_per_token)
                          for s in Q4_CONTEXTS)

# q5: GPT-2 small's layers, width and vocabulary; the context is the answer.
Q5_FIXED = dict(n_layer=12, d_model=768, n_vocab=50257)
Q5_SHARE = 0.5


def _attention_share(n_layer, d_model, n_ctx, n_vocab):
    """Share of Hoffmann's forward FLOPs per token spent on attention over the context (as the explorer shows)."""
    c = transformer_flops(n_layer, d_model, n_vocab, n_ctx, n_head=max(1, d_model // 64), method="hoffmann").components
    context = c["attention: QK logits"] + c["attention: values"] + c["attention: softmax"]
    return context / sum(c.values())


# --- 04 Where 6ND comes from ------------------------------------------------------------------------

def _04_q1(q1_forward, q1_backward):
    forward = matmul_flops(Q1_TOKENS, Q1_D_OUT, Q1_D_IN)
    expect_close("q1_forward", q1_forward, forward, "FLOPs", rel=1e-3,
                 too_low="Count every token of the batch (sequences × tokens per sequence), and a multiply-add "
                         "as 2 FLOPs.",
                 too_high="The forward pass is a single matmul, (tokens × d_in)(d_in × d_out); count it once.")
    got = expect_number("q1_backward", q1_backward, "FLOPs")
    if abs(got - forward) <= 1e-3 * forward:
        raise WrongAnswer("q1_backward is too low: it is the size of one matmul. Besides the gradient for the "
                          "weights, what must this layer's backward pass compute?")
    if abs(got - 3 * forward) <= 1e-3 * forward:
        raise WrongAnswer("q1_backward is too high: count only the gradient matmuls, not the forward pass again.")
    expect_close("q1_backward", got, 2 * forward, "FLOPs", rel=1e-3,
                 too_low="Write the shapes of the two gradient products and count each with 2·m·n·k.",
                 too_high="The backward pass of y = xW needs two matmuls, each the size of the forward one; the "
                          "optimizer is not part of it.")


def _gpt2_diagnosis(got, n_layer, d_model, n_vocab, n_ctx) -> str:
    """Which pieces a wrong GPT-2 count most likely left out (or counted twice); never the number."""
    p = transformer_params(n_layer, d_model, n_vocab, n_ctx)
    L, d = n_layer, d_model
    if got == 12 * L * d * d:
        return "That is only 12·n_layer·d_model², the layers' weight matrices; what sits around them?"
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


def _04_q2(gpt2_params):
    if not callable(gpt2_params):
        raise WrongAnswer("gpt2_params should be a function of (n_layer, d_model, n_vocab, n_ctx, bias=True).")
    shape = (12, 768, 50257, 1024)      # GPT-2 small
    try:
        value = gpt2_params(*shape)
    except NotImplementedError:
        raise WrongAnswer("gpt2_params is not answered yet: replace raise NotImplementedError() with your count.") \
            from None
    got = expect_number("gpt2_params(12, 768, 50257, 1024)", value, "parameters")
    target = transformer_params(*shape).total
    if got != target:
        side = "too low" if got < target else "too high"
        raise WrongAnswer(f"gpt2_params(12, 768, 50257, 1024) is {side}. {_gpt2_diagnosis(got, *shape)}")
    got = expect_number("gpt2_params(12, 768, 50257, 1024, bias=False)", gpt2_params(*shape, bias=False),
                        "parameters")
    target = transformer_params(*shape, bias=False).total
    if got != target:
        side = "too low" if got < target else "too high"
        why = ("nanoGPT's bias=False leaves out every bias, the layer norms' too." if got > target
               else "bias=False removes only biases; every weight matrix and every layer-norm gain stays.")
        raise WrongAnswer(f"gpt2_params(12, 768, 50257, 1024, bias=False) is {side}. {why}")


def _04_q3(q3_flops, q3_dense_tokens):
    card = model_card("DeepSeek-V3")
    flops = 6 * card.params_active * card.tokens
    expect_close("q3_flops", q3_flops, flops, "FLOPs", rel=0.01,
                 too_low="Use all the training tokens and 6 FLOPs per parameter per token.",
                 too_high="In a mixture of experts, which parameters does one token's forward pass multiply by?")
    expect_close("q3_dense_tokens", q3_dense_tokens, flops / (6 * card.params_total), "tokens", rel=0.01,
                 too_low="Keep the compute of the first part and divide it by 6 N with the dense model's N.",
                 too_high="A dense model sends every token through all of its parameters: which N goes in 6ND?")


def _04_q4(q4_n_params, q4_crossover_ctx):
    slope, intercept = np.polyfit(Q4_CONTEXTS, Q4_TRAINING_FLOPS, 1)
    expect_close("q4_n_params", q4_n_params, intercept / 6, "parameters", rel=0.01,
                 too_low="The intercept is a token's training FLOPs with no context: how many FLOPs per "
                         "parameter is that?",
                 too_high="The intercept is a token's training FLOPs with no context: forward and backward "
                          "together, per parameter?")
    expect_close("q4_crossover_ctx", q4_crossover_ctx, intercept / slope, "tokens", rel=0.01,
                 too_low="The context term (slope × n_ctx) must equal the whole weight-matmul term (the intercept).",
                 too_high="The context term (slope × n_ctx) must equal the whole weight-matmul term (the intercept).")


def _04_q5(q5_explorer):
    if not hasattr(q5_explorer, "result") or not hasattr(q5_explorer.result, "flop_shares"):
        raise WrongAnswer("q5_explorer should be the TransformerExplorer created in the cell above.")
    if q5_explorer.untouched:
        raise NotAnswered("move the context length, then record it with q5_explorer.set(...)")
    v = q5_explorer.result
    if (v.n_layer, v.d_model, v.n_vocab) != tuple(Q5_FIXED.values()):
        raise WrongAnswer("Leave the layers (12), the width (768) and the vocabulary (50,257) at GPT-2 small's; "
                          "change only the context.")
    if v.flop_shares()["attention over context"] <= Q5_SHARE:
        raise WrongAnswer("At this context attention over the context is not yet more than half of the forward "
                          "FLOPs: the context is too short.")
    options = sorted(q5_explorer.controls["n_ctx"].options)
    shorter = [s for s in options if s < v.n_ctx]
    if shorter and _attention_share(n_ctx=shorter[-1], **Q5_FIXED) > Q5_SHARE:
        raise WrongAnswer("A shorter context in the list already gives attention more than half of the forward "
                          "FLOPs: the question asks for the smallest.")


EXERCISE = "04_where_6nd_comes_from"
QUESTIONS = {
    "q1": Question("q1", ("q1_forward", "q1_backward"), _04_q1,
                   "An (m × k)(k × n) product costs 2·m·n·k FLOPs; lesson section 2 lists the products of one "
                   "training step of y = xW."),
    "q2": Question("q2", ("gpt2_params",), _04_q2,
                   "Count per layer: two layer norms, Q, K, V and output projections, the two MLP matrices, with "
                   "their biases; then the embeddings and the final layer norm. The output layer is tied."),
    "q3": Question("q3", ("q3_flops", "q3_dense_tokens"), _04_q3,
                   "In a mixture of experts a token goes through its active parameters only: C ≈ 6 N_active D "
                   "(lesson section 6). A dense model's tokens go through all of its parameters."),
    "q4": Question("q4", ("q4_n_params", "q4_crossover_ctx"), _04_q4,
                   "Kaplan's count is a straight line in n_ctx: the intercept is the part that does not depend "
                   "on the context, the slope the attention part (lesson 04, section 4). The numbers count "
                   "forward and backward together."),
    "q5": Question("q5", ("q5_explorer",), _04_q5,
                   "Read the 'attention over context' part of the lower bar, or q5_explorer.result.flop_shares()."),
}
