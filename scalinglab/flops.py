"""Counting parameters and FLOPs of a transformer, and the 6ND rule.

Sources: Kaplan et al. 2020 (arXiv 2001.08361), section 2.1 and Table 1;
Hoffmann et al. 2022 (arXiv 2203.15556), Appendix F and Table A4.
A multiply-add counts as 2 FLOPs throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, field


from ._checks import ScalingLabError, as_count, as_flag, as_positive, scalar_or_array, unknown_name

_MLP_MATRICES = {"gelu": 2, "swiglu": 3}       # weight matrices in one feed-forward block
_NORMS = ("layernorm", "rmsnorm")
_POSITIONS = ("learned", "rotary", "none")
_METHODS = ("kaplan", "hoffmann")


def training_flops(n_params, n_tokens):
    """Training compute C = 6 N D, in FLOPs.

    Each token costs about 2N FLOPs forward (one multiply-add per parameter)
    and 4N backward (gradients with respect to activations and to weights),
    so 6N per token (Kaplan et al. 2020, arXiv 2001.08361, section 2.1).
    ``n_params`` in parameters (for a mixture-of-experts model, the *active*
    parameters per token), ``n_tokens`` in tokens. Strings like "175B" work.

    GPT-3, 175B parameters on 300B tokens; Brown et al. 2020 (arXiv 2005.14165,
    Table D.1) report 3.14e23 FLOPs:

    >>> f"{training_flops(175e9, 300e9):.3g}"
    '3.15e+23'
    """
    N = as_positive("n_params", n_params, "parameters")
    D = as_positive("n_tokens", n_tokens, "tokens")
    return scalar_or_array(6.0 * N * D, "training_flops", n_params=N, n_tokens=D)


def matmul_flops(m, n, k):
    """FLOPs of multiplying an (m x k) matrix by a (k x n) one: 2 m n k.

    Each of the m n outputs is a dot product of length k: k multiplies and
    k additions (Kaplan et al. 2020, section 2.1 counts the same way).

    >>> matmul_flops(2048, 768, 3072)    # one GPT-2 small MLP projection on 2048 tokens
    9663676416
    """
    m = as_count("m", m, "rows")
    n = as_count("n", n, "columns")
    k = as_count("k", k, "inner dimension")
    return 2 * m * n * k


@dataclass(frozen=True)
class ParamCount:
    """Parameters of a decoder-only transformer, by component."""

    token_embedding: int
    position_embedding: int
    attention: int          # all layers: Q, K, V and output projections (+ biases)
    mlp: int                # all layers, all experts (+ biases)
    norms: int              # all layer norms, including the final one
    router: int             # mixture-of-experts gating weights
    lm_head: int            # output projection when not tied to the token embedding
    total: int
    active: int             # used per token: only the selected experts count
    non_embedding: int      # total minus token and position embeddings (Kaplan's N)

    def as_dict(self) -> dict:
        """The counts as a plain dict, component name to parameters."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def _repr_html_(self):
        rows = "".join(
            f"<tr><td>{k}</td><td style='text-align:right'>{v:,}</td></tr>" for k, v in self.as_dict().items()
        )
        return f"<table><tr><th>component</th><th>parameters</th></tr>{rows}</table>"


def _check_architecture(n_layer, d_model, n_vocab, n_ctx, d_ff, n_head, n_kv_head, d_head, mlp,
                        n_experts, n_active_experts):
    n_layer = as_count("n_layer", n_layer, "layers")
    d_model = as_count("d_model", d_model, "hidden units")
    n_vocab = as_count("n_vocab", n_vocab, "vocabulary entries")
    n_ctx = as_count("n_ctx", n_ctx, "tokens of context")
    d_ff = 4 * d_model if d_ff is None else as_count("d_ff", d_ff, "hidden units")
    if not isinstance(mlp, str) or mlp not in _MLP_MATRICES:
        raise unknown_name("mlp", mlp, "MLP type", _MLP_MATRICES)
    n_head = 1 if n_head is None else as_count("n_head", n_head, "attention heads")
    if d_head is None:
        if d_model % n_head:
            raise ScalingLabError(
                f"d_model ({d_model}) must be divisible by n_head ({n_head}), or give d_head explicitly"
            )
        d_head = d_model // n_head
    else:
        d_head = as_count("d_head", d_head, "units per head")
    n_kv_head = n_head if n_kv_head is None else as_count("n_kv_head", n_kv_head, "key/value heads")
    if n_kv_head > n_head or n_head % n_kv_head:
        raise ScalingLabError(f"n_kv_head must divide n_head ({n_head}); got {n_kv_head}")
    n_experts = as_count("n_experts", n_experts, "experts")
    n_active_experts = as_count("n_active_experts", n_active_experts, "experts per token")
    if n_active_experts > n_experts:
        raise ScalingLabError(
            f"n_active_experts must be at most n_experts ({n_experts}); got {n_active_experts}"
        )
    return n_layer, d_model, n_vocab, n_ctx, d_ff, n_head, n_kv_head, d_head, n_experts, n_active_experts


def transformer_params(n_layer, d_model, n_vocab, n_ctx, bias=True, *, d_ff=None, n_head=None,
                       n_kv_head=None, d_head=None, mlp="gelu", norm="layernorm", position="learned",
                       tied_embeddings=True, n_experts=1, n_active_experts=1) -> ParamCount:
    """Count the parameters of a GPT-style decoder-only transformer, by component.

    Each layer holds attention (Q, K, V and output projections: 4 d_model²
    when every head has its own keys and values) and an MLP (two d_model x
    d_ff matrices, 8 d_model² for d_ff = 4 d_model; three for ``mlp="swiglu"``),
    so the non-embedding count is about 12 n_layer d_model² (Kaplan et al. 2020,
    arXiv 2001.08361, Table 1). Defaults describe GPT-2: biases everywhere,
    LayerNorm with a bias, learned positions, output head tied to the token
    embedding. ``n_kv_head`` < ``n_head`` gives grouped-query attention;
    ``n_experts`` > 1 makes every MLP a mixture of experts, of which
    ``n_active_experts`` run per token (``active`` counts those).

    GPT-2 small (Radford et al. 2019) as released, and nanoGPT's ``bias=False``
    variant (karpathy/nanoGPT ``transformer_sizing.ipynb``):

    >>> transformer_params(12, 768, 50257, 1024).total
    124439808
    >>> transformer_params(12, 768, 50257, 1024, bias=False).total
    124337664

    GPT-3 175B (Brown et al. 2020, arXiv 2005.14165, Table 2.1: 96 layers, d_model 12288):

    >>> f"{transformer_params(96, 12288, 50257, 2048).total / 1e9:.1f}B"
    '174.6B'
    """
    (n_layer, d_model, n_vocab, n_ctx, d_ff, n_head, n_kv_head, d_head, n_experts,
     n_active_experts) = _check_architecture(n_layer, d_model, n_vocab, n_ctx, d_ff, n_head, n_kv_head,
                                             d_head, mlp, n_experts, n_active_experts)
    if not isinstance(norm, str) or norm not in _NORMS:
        raise unknown_name("norm", norm, "norm", _NORMS)
    if not isinstance(position, str) or position not in _POSITIONS:
        raise unknown_name("position", position, "position encoding", _POSITIONS)
    bias = as_flag("bias", bias)
    tied_embeddings = as_flag("tied_embeddings", tied_embeddings)
    d, L = d_model, n_layer                         # width, depth
    d_q, d_kv = n_head * d_head, n_kv_head * d_head  # query and key/value widths
    attention = d * (d_q + 2 * d_kv) + d_q * d + (bias * (d_q + 2 * d_kv + d))
    n_mat = _MLP_MATRICES[mlp]
    expert = n_mat * d * d_ff + bias * ((n_mat - 1) * d_ff + d)
    norm_size = d * (2 if norm == "layernorm" and bias else 1)
    router = d * n_experts if n_experts > 1 else 0
    token = n_vocab * d
    pos = n_ctx * d if position == "learned" else 0
    head = 0 if tied_embeddings else n_vocab * d
    counts = dict(
        token_embedding=token,
        position_embedding=pos,
        attention=L * attention,
        mlp=L * n_experts * expert,
        norms=(2 * L + 1) * norm_size,
        router=L * router,
        lm_head=head,
    )
    total = sum(counts.values())
    active = total - L * (n_experts - n_active_experts) * expert
    return ParamCount(**counts, total=total, active=active, non_embedding=total - token - pos)


@dataclass(frozen=True)
class FlopCount:
    """FLOPs of one training token (and one sequence) through a transformer."""

    method: str                   # "kaplan" (Table 1) or "hoffmann" (Appendix F)
    n_ctx: int                    # tokens per sequence
    components: dict = field(repr=False)  # forward FLOPs per token, by component
    forward_per_token: float      # FLOPs
    n_params: int                 # the N that 6N is compared with (see transformer_flops)

    @property
    def backward_per_token(self) -> float:
        """Backward pass: twice the forward FLOPs (gradients for activations and weights)."""
        return 2.0 * self.forward_per_token

    @property
    def training_per_token(self) -> float:
        """Forward plus backward FLOPs per token (3x forward)."""
        return 3.0 * self.forward_per_token

    @property
    def forward_per_sequence(self) -> float:
        return self.forward_per_token * self.n_ctx

    @property
    def training_per_sequence(self) -> float:
        return self.training_per_token * self.n_ctx

    @property
    def ratio_to_6n(self) -> float:
        """training_per_token / (6 N): how far the exact count is from the 6ND rule."""
        return self.training_per_token / (6.0 * self.n_params)

    def _repr_html_(self):
        rows = "".join(
            f"<tr><td>{k}</td><td style='text-align:right'>{v:.4g}</td>"
            f"<td style='text-align:right'>{v / self.forward_per_token:.1%}</td></tr>"
            for k, v in self.components.items()
        )
        return (
            f"<table><tr><th>component ({self.method})</th><th>forward FLOPs/token</th><th>share</th></tr>"
            f"{rows}<tr><td><b>forward</b></td><td style='text-align:right'><b>{self.forward_per_token:.4g}"
            f"</b></td><td></td></tr><tr><td><b>training (3×)</b></td><td style='text-align:right'><b>"
            f"{self.training_per_token:.4g}</b></td><td>{self.ratio_to_6n:.3f} × 6N</td></tr></table>"
        )


def transformer_flops(n_layer, d_model, n_vocab, n_ctx, *, d_ff=None, n_head=None, n_kv_head=None,
                      d_head=None, mlp="gelu", n_experts=1, n_active_experts=1, method="kaplan",
                      tied_embeddings=True, n_params=None) -> FlopCount:
    """FLOPs per training token of a decoder-only transformer, by component.

    ``method="kaplan"`` follows Kaplan et al. 2020 (arXiv 2001.08361, Table 1):
    forward = 2N + 2 n_layer n_ctx d_attn per token, counting only
    non-embedding matrices, so it is compared with N = non-embedding
    parameters. ``method="hoffmann"`` follows Hoffmann et al. 2022
    (arXiv 2203.15556, Appendix F): it adds the embedding and output logits
    (2 n_vocab d_model each), both attention matmuls (QK^T and the weighted
    sum of values) and the softmax, and is compared with all parameters
    (including an untied output matrix when ``tied_embeddings=False``). In
    both, backward = 2 x forward. A mixture-of-experts MLP costs only its
    active experts plus the router. ``n_params`` overrides the N of
    ``ratio_to_6n`` (for instance with a paper's reported size).

    Kaplan et al. (section 2.1) note that the context term is small next to
    2N when d_model > n_ctx / 12; with d_ff = 4 d_model the ratio is exactly
    1 + n_ctx / (12 d_model). GPT-2 small (d_model 768, n_ctx 1024) pays 11%:

    >>> f = transformer_flops(12, 768, 50257, 1024, n_head=12)
    >>> f.n_params, round(f.ratio_to_6n, 4), round(1 + 1024 / (12 * 768), 4)
    (84934656, 1.1111, 1.1111)

    With Hoffmann's accounting, its vocabulary of 50,257 adds much more:

    >>> round(transformer_flops(12, 768, 50257, 1024, n_head=12, method="hoffmann").ratio_to_6n, 3)
    1.467
    """
    tied_embeddings = as_flag("tied_embeddings", tied_embeddings)
    if not isinstance(method, str) or method not in _METHODS:
        raise unknown_name("method", method, "FLOP accounting", _METHODS)
    (L, d, V, S, d_ff, H, H_kv, d_head, n_experts,
     n_active) = _check_architecture(n_layer, d_model, n_vocab, n_ctx, d_ff, n_head, n_kv_head, d_head, mlp,
                                     n_experts, n_active_experts)
    d_q, d_kv = H * d_head, H_kv * d_head    # query and key/value widths (Kaplan's d_attn = d_q)
    mlp_mats = _MLP_MATRICES[mlp]
    c = {}
    if method == "kaplan":
        c["attention: QKV"] = 2 * L * d * (d_q + 2 * d_kv)
        c["attention: mask"] = 2 * L * S * d_q
        c["attention: project"] = 2 * L * d_q * d
        c["feed-forward"] = 2 * L * mlp_mats * d * d_ff * n_active
    else:
        c["embeddings"] = 2 * V * d
        c["attention: QKV"] = 2 * L * d * (d_q + 2 * d_kv)
        c["attention: QK logits"] = 2 * L * S * d_q
        c["attention: softmax"] = 3 * L * H * S
        c["attention: values"] = 2 * L * S * d_q
        c["attention: output"] = 2 * L * d_q * d
        c["feed-forward"] = 2 * L * mlp_mats * d * d_ff * n_active
        c["final logits"] = 2 * d * V
    if n_experts > 1:
        c["router"] = 2 * L * d * n_experts
    if n_params is None:
        p = transformer_params(L, d, V, S, bias=False, d_ff=d_ff, n_head=H, n_kv_head=H_kv, d_head=d_head,
                               mlp=mlp, norm="rmsnorm", position="none", tied_embeddings=tied_embeddings,
                               n_experts=n_experts, n_active_experts=n_active)
        n_params = p.active - p.token_embedding if method == "kaplan" else p.active
        n_params -= p.norms  # norm gains cost no matmul FLOPs; leave them out of N as Kaplan does
    else:
        n_params = as_positive("n_params", n_params, "parameters", scalar=True)
    count = FlopCount(method, S, c, float(sum(c.values())), n_params)
    scalar_or_array(count.ratio_to_6n, "ratio_to_6n = training FLOPs per token / (6 n_params)", n_params=n_params)
    return count
