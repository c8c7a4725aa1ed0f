"""A Bengio-style MLP language model in numpy, with hand-written backprop.

Bengio et al. 2003, "A Neural Probabilistic Language Model" (JMLR 3:1137-1155):
each of the last k = 8 characters is looked up in an embedding table
(d = 16 numbers per character), the k embeddings are concatenated, a ReLU
hidden layer of width H follows, then 27 logits and a softmax over the next
character (Bengio et al. used words, tanh and optional direct connections
from the embeddings to the output; here: characters, ReLU, none). Loss is the
cross-entropy in nats per token (character)::

    x = [emb[c_1], ..., emb[c_k]]         (k d)
    h = relu(x W1 + b1)                   (H)
    logits = h W2 + b2                    (V = 27)

Training (:func:`train_mlp`) uses float32, Adam, a peak learning rate of
0.05 H^-0.3, a short linear warmup and a cosine decay that ends exactly at the
run's token budget, and by default a single epoch of fresh text from
:mod:`scalinglab.zipf`. Parameters and FLOPs are counted exactly
(:func:`mlp_params`, :func:`mlp_flops`): a multiply-add is 2 FLOPs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ._checks import ScalingLabError, as_count, as_number, as_positive, as_seed
from .zipf import ALPHABET, DEFAULT_EXPONENT, N_SYMBOLS, SPACE, zipf_lexicon

CONTEXT = 8          # k, characters of context
EMBED = 16           # d, embedding width per character
VOCAB = N_SYMBOLS    # V = 27: space and a-z
BATCH_SIZE = 256     # tokens per Adam step
ADAM_BETAS = (0.9, 0.99)
ADAM_EPS = 1e-8
EVAL_SEED = 999      # seed of the held-out text every run is scored on
EVAL_TOKENS = 65_536
#: Upper bounds that keep a mistyped size from running for days: the lessons use at most
#: H = 512 and a few million tokens.
MAX_HIDDEN = 65_536
MAX_TRAIN_TOKENS = 10 ** 8     # a few minutes at H = 16
MAX_BATCH = 1 << 20
_PARAM_NAMES = ("embedding", "w1", "b1", "w2", "b2")


def learning_rate(hidden) -> float:
    """Peak Adam learning rate 0.05 H^-0.3 for hidden width H (wider layers need smaller steps).

    Tuned for this model and batch of 256: at H = 32, 128 and 512 (on 250k,
    500k and 1M tokens), half or twice this rate gave a higher held-out loss.

    >>> round(learning_rate(16), 4), round(learning_rate(512), 4)
    (0.0218, 0.0077)
    """
    H = as_count("hidden", hidden, "hidden units")
    return 0.05 * H ** -0.3


def _shapes(H, k, d, V) -> dict:
    return {"embedding": (V, d), "w1": (k * d, H), "b1": (H,), "w2": (H, V), "b2": (V,)}


def mlp_params(hidden, *, context=CONTEXT, embed=EMBED, vocab=VOCAB) -> int:
    """Parameters of the MLP language model: V d + (k d + 1) H + (H + 1) V.

    >>> mlp_params(16), mlp_params(512)
    (2955, 80331)
    """
    H = as_count("hidden", hidden, "hidden units")
    k = as_count("context", context, "characters")
    d = as_count("embed", embed, "embedding units")
    V = as_count("vocab", vocab, "symbols", minimum=2)
    return sum(math.prod(s) for s in _shapes(H, k, d, V).values())


@dataclass(frozen=True)
class MLPFlops:
    """FLOPs per training token of the MLP language model, as the trainer executes them.

    ``forward``, ``backward`` and ``optimizer`` map component names to FLOPs
    per token; ``ratio_to_6n`` compares the total with Kaplan's 6N.
    """

    hidden: int
    n_params: int
    batch_size: int
    forward: dict = field(repr=False)
    backward: dict = field(repr=False)
    optimizer: dict = field(repr=False)

    @property
    def forward_per_token(self) -> float:
        return float(sum(self.forward.values()))

    @property
    def backward_per_token(self) -> float:
        return float(sum(self.backward.values()))

    @property
    def training_per_token(self) -> float:
        """Forward + backward + Adam update, in FLOPs per token."""
        return self.forward_per_token + self.backward_per_token + float(sum(self.optimizer.values()))

    @property
    def matmul_per_token(self) -> float:
        """The matrix-multiply part of :attr:`training_per_token` (what the 6N rule models)."""
        parts = {**self.forward, **{"bwd " + k: v for k, v in self.backward.items()}}
        return float(sum(v for k, v in parts.items() if "matmul" in k))

    @property
    def ratio_to_6n(self) -> float:
        """training_per_token / (6 N)."""
        return self.training_per_token / (6.0 * self.n_params)

    def _repr_html_(self):
        rows = [("forward: " + k, v) for k, v in self.forward.items()]
        rows += [("backward: " + k, v) for k, v in self.backward.items()]
        rows += [("Adam: " + k, v) for k, v in self.optimizer.items()]
        body = "".join(f"<tr><td>{k}</td><td style='text-align:right'>{v:,.0f}</td></tr>" for k, v in rows)
        return (f"<table><tr><th>H = {self.hidden}</th><th>FLOPs/token</th></tr>{body}"
                f"<tr><td><b>total</b></td><td style='text-align:right'><b>{self.training_per_token:,.0f}</b>"
                f"</td></tr><tr><td>6N</td><td style='text-align:right'>{6 * self.n_params:,}</td></tr>"
                f"<tr><td>ratio</td><td style='text-align:right'>{self.ratio_to_6n:.3f}</td></tr></table>")


def mlp_flops(hidden, *, context=CONTEXT, embed=EMBED, vocab=VOCAB, batch_size=BATCH_SIZE) -> MLPFlops:
    """Count the FLOPs per token of one training step of :class:`MLPLanguageModel`.

    A matrix product (m x n)(n x p) costs 2 m n p; an elementwise operation
    1 FLOP per element (exp and log count as one). The weight matrices W1 and
    W2 cost 2 FLOPs per weight forward and 4 backward (gradients for the
    weights and for the layer's input), exactly the 6N of Kaplan et al. 2020
    (arXiv 2001.08361, section 2.1). The count departs from 6N in three ways,
    all independent of H, so they matter only for small models:

    * the embedding forward is a table look-up: 0 FLOPs, not 2 V d;
    * its gradient is a one-hot matrix product, (V x B k)(B k x d), costing
      2 V k d per token: each embedding weight is *shared* by the k context
      positions (6N assumes every weight is used once per token);
    * biases, ReLU, softmax and Adam are elementwise: O(H + V) per token
      (the bias gradients run as products with a vector of ones, 2 FLOPs
      per element, because BLAS sums columns faster than ``np.sum``).

    At H = 16 the total is 1.25 x 6N; at H = 512 it is within 2%, and the
    matrix products alone are 6 x (the weights used once per token) exactly:

    >>> round(mlp_flops(16).ratio_to_6n, 3), round(mlp_flops(512).ratio_to_6n, 3)
    (1.255, 1.016)
    >>> f = mlp_flops(512)
    >>> f.matmul_per_token - f.backward["d embedding one-hot matmul"] == 6 * (128 * 512 + 512 * 27)
    True
    """
    H = as_count("hidden", hidden, "hidden units")
    k = as_count("context", context, "characters")
    d = as_count("embed", embed, "embedding units")
    V = as_count("vocab", vocab, "symbols", minimum=2)
    B = as_count("batch_size", batch_size, "tokens")
    kd = k * d
    forward = {
        "embedding look-up": 0,
        "hidden matmul x W1": 2 * kd * H,
        "hidden bias + ReLU": 2 * H,
        "output matmul h W2": 2 * H * V,
        "output bias": V,
        "softmax + log-loss": 4 * V + 1,      # subtract max, exp, sum, divide; log of the target
    }
    backward = {
        "d logits (p - onehot) / B": 2 * V,
        "dW2 matmul h^T dlogits": 2 * H * V,
        "db2 column sums (ones^T dlogits)": 2 * V,
        "dh matmul dlogits W2^T": 2 * H * V,
        "ReLU mask": H,
        "dW1 matmul x^T dz": 2 * kd * H,
        "db1 column sums (ones^T dz)": 2 * H,
        "dx matmul dz W1^T": 2 * kd * H,
        "d embedding one-hot matmul": 2 * V * kd,
    }
    n = mlp_params(H, context=k, embed=d, vocab=V)
    optimizer = {"Adam (12 per parameter per step)": 12 * n / B}
    return MLPFlops(H, n, B, forward, backward, optimizer)


class MLPLanguageModel:
    """The MLP language model: parameters in one flat array, forward and hand-written backward.

    ``params`` maps "embedding", "w1", "b1", "w2", "b2" to views of one flat
    vector (so Adam updates all of them in a handful of numpy calls).
    ``dtype`` is float32 for training, float64 for gradient checks.

    >>> model = MLPLanguageModel(32, seed=0)
    >>> model.n_params == mlp_params(32)
    True
    >>> round(model.loss(np.zeros((4, 8), dtype=np.uint8), np.zeros(4, dtype=np.uint8)), 3)   # near ln 27 = 3.296
    3.317
    """

    def __init__(self, hidden, *, context=CONTEXT, embed=EMBED, vocab=VOCAB, seed=0, dtype="float32"):
        self.hidden = as_count("hidden", hidden, "hidden units", maximum=MAX_HIDDEN)
        self.context = as_count("context", context, "characters", maximum=1024)
        self.embed = as_count("embed", embed, "embedding units", maximum=4096)
        self.vocab = as_count("vocab", vocab, "symbols", minimum=2, maximum=256)
        seed = as_seed("seed", seed)
        if str(dtype) not in ("float32", "float64") and dtype not in (np.float32, np.float64):
            raise ScalingLabError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
        self.dtype = np.dtype(dtype)
        shapes = _shapes(self.hidden, self.context, self.embed, self.vocab)
        self.flat = np.zeros(sum(math.prod(s) for s in shapes.values()), dtype=self.dtype)
        self.params = _views(self.flat, shapes)
        self.grad_flat = np.zeros_like(self.flat)
        self.grads = _views(self.grad_flat, shapes)
        rng = np.random.default_rng(seed)
        kd = self.context * self.embed
        self.params["embedding"][...] = rng.standard_normal(shapes["embedding"])
        self.params["w1"][...] = rng.standard_normal(shapes["w1"]) * math.sqrt(2.0 / kd)  # He init for ReLU
        # small output weights: the first predictions are near uniform, loss near ln 27
        self.params["w2"][...] = rng.standard_normal(shapes["w2"]) * (0.1 / math.sqrt(self.hidden))
        self._buffers = {}

    @property
    def n_params(self) -> int:
        return self.flat.size

    def _check_batch(self, contexts, targets):
        c = np.asarray(contexts)
        t = np.asarray(targets)
        if c.ndim != 2 or c.shape[1] != self.context or t.shape != (c.shape[0],) or c.shape[0] == 0:
            raise ScalingLabError(
                f"contexts must be an (n, {self.context}) array of tokens and targets an (n,) array; "
                f"got shapes {c.shape} and {t.shape}")
        for name, a in (("contexts", c), ("targets", t)):
            if not np.issubdtype(a.dtype, np.integer) or a.min() < 0 or a.max() >= self.vocab:
                raise ScalingLabError(f"{name} must hold integer tokens in 0-{self.vocab - 1}; got {a.dtype} "
                                      f"values from {a.min()} to {a.max()}")
        return c, t

    def _workspace(self, B):
        ws = self._buffers.get(B)
        if ws is None:
            H, V, kd, f = self.hidden, self.vocab, self.context * self.embed, self.dtype
            ws = dict(x=np.empty((B, kd), f), z=np.empty((B, H), f), logits=np.empty((B, V), f),
                      dz=np.empty((B, H), f), dx=np.empty((B, kd), f),
                      onehot=np.empty((V, B * self.context), f), rows=np.arange(B),
                      flat_rows=np.arange(B) * V, ones=np.ones(B, f), zeros=np.zeros((B, H), f),
                      mask=np.empty((B, H), bool), symbols=np.arange(V, dtype=np.uint8)[:, None])
            self._buffers = {B: ws}            # keep one batch size: the last, smaller batch is rare
        return ws

    def _forward(self, contexts, ws):
        """Logits (n, V) for checked contexts (n, k), in the workspace, which also keeps h."""
        p = self.params
        B = len(contexts)
        x, z, logits = ws["x"], ws["z"], ws["logits"]
        np.take(p["embedding"], contexts, axis=0, out=x.reshape(B, self.context, self.embed),
                mode="clip")   # indices were checked; "clip" avoids a buffered copy
        np.matmul(x, p["w1"], out=z)
        z += p["b1"]
        # z now holds h = relu(x W1 + b1); a zero array, not the scalar 0, keeps numpy on its fast path
        np.maximum(z, ws["zeros"][:B], out=z)
        np.matmul(z, p["w2"], out=logits)
        logits += p["b2"]
        return logits

    def loss(self, contexts, targets) -> float:
        """Mean cross-entropy of the next token, in nats per token (no gradients)."""
        c, t = self._check_batch(contexts, targets)
        total = 0.0
        for i in range(0, len(c), 8192):
            cc, tt = c[i:i + 8192], t[i:i + 8192]
            ws = self._workspace(len(cc))
            logits = self._forward(cc, ws)
            total += float(_log_softmax_loss(logits, tt, ws["rows"][:len(cc)]).sum())
        return total / len(c)

    def generate(self, n_tokens=80, *, prompt="", seed=0) -> str:
        """Sample ``n_tokens`` characters from the model after ``prompt`` (letters and spaces), seeded.

        The context starts as spaces followed by the prompt, as if a new word began.
        """
        n = as_count("n_tokens", n_tokens, "tokens", maximum=1_000_000)
        seed = as_seed("seed", seed)
        if not isinstance(prompt, str) or any(ch not in ALPHABET for ch in prompt):
            raise ScalingLabError(f"prompt must be a string of lower-case letters a-z and spaces; got {prompt!r}")
        rng = np.random.default_rng(seed)
        context = [SPACE] * self.context + [ALPHABET.index(ch) for ch in prompt]
        out = []
        ws = self._workspace(1)
        for _ in range(n):
            logits = self._forward(np.array([context[-self.context:]], dtype=np.uint8), ws)[0].astype(float)
            p = np.exp(logits - logits.max())
            token = int(rng.choice(self.vocab, p=p / p.sum()))
            context.append(token)
            out.append(ALPHABET[token])
        return "".join(out)

    def loss_and_grads(self, contexts, targets) -> float:
        """Mean cross-entropy (nats per token); fills ``self.grads`` with its gradient.

        The backward pass, for a batch of B tokens (p = softmax(logits)):
        dlogits = (p - onehot(y)) / B; dW2 = h^T dlogits; dh = dlogits W2^T;
        dz = dh * [z > 0]; dW1 = x^T dz; dx = dz W1^T; and for the embedding
        d emb = onehot(contexts)^T dx, a (V x B k)(B k x d) product: at a
        batch of 256 it runs about 8x faster than scattering the rows with
        ``np.add.at`` (numpy 2.4, one thread), although most of its FLOPs
        multiply by zero.
        """
        c, t = self._check_batch(contexts, targets)
        return self._step_grads(c, t)

    def _step_grads(self, contexts, targets) -> float:
        p, g = self.params, self.grads
        B = len(contexts)
        ws = self._workspace(B)
        logits = self._forward(contexts, ws)
        at_target = ws["flat_rows"][:B] + targets          # flat index of each target logit
        logits -= logits.max(axis=1, keepdims=True)
        target_logit = np.take(logits, at_target)
        np.exp(logits, out=logits)
        total = logits.sum(axis=1, keepdims=True)
        loss = float(np.log(total).mean() - target_logit.mean())
        # dlogits = (softmax - onehot(target)) / B, in place
        logits *= 1.0 / (B * total)
        logits.ravel()[at_target] -= 1.0 / B
        h, dz, x, dx, ones = ws["z"], ws["dz"], ws["x"], ws["dx"], ws["ones"][:B]
        np.matmul(h.T, logits, out=g["w2"])
        np.matmul(ones, logits, out=g["b2"])               # column sums, faster as a BLAS product
        np.matmul(logits, p["w2"].T, out=dz)
        np.greater(h, ws["zeros"], out=ws["mask"])
        np.multiply(dz, ws["mask"], out=dz)
        np.matmul(x.T, dz, out=g["w1"])
        np.matmul(ones, dz, out=g["b1"])
        np.matmul(dz, p["w1"].T, out=dx)
        onehot = ws["onehot"]
        np.equal(ws["symbols"], contexts.reshape(1, -1), out=onehot, casting="unsafe")
        np.matmul(onehot, dx.reshape(-1, self.embed), out=g["embedding"])
        return loss


def _views(flat, shapes) -> dict:
    views, start = {}, 0
    for name in _PARAM_NAMES:
        size = math.prod(shapes[name])
        views[name] = flat[start:start + size].reshape(shapes[name])
        start += size
    return views


def _log_softmax_loss(logits, targets, rows):
    """Turn ``logits`` into log-probabilities in place; return the per-token losses."""
    logits -= logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(logits).sum(axis=1, keepdims=True))
    logits -= lse
    return -logits[rows, targets]


class Adam:
    """Adam (Kingma & Ba 2015, arXiv 1412.6980) on a flat parameter vector, updated in place."""

    def __init__(self, flat, betas=ADAM_BETAS, eps=ADAM_EPS):
        self.flat, self.betas, self.eps, self.t = flat, betas, eps, 0
        self.m = np.zeros_like(flat)
        self.v = np.zeros_like(flat)
        self._tmp = np.zeros_like(flat)

    def step(self, grad, lr):
        b1, b2 = self.betas
        self.t += 1
        self.m *= b1
        self.m += (1 - b1) * grad
        np.multiply(grad, grad, out=self._tmp)
        self.v *= b2
        self._tmp *= 1 - b2
        self.v += self._tmp
        np.sqrt(self.v, out=self._tmp)
        self._tmp += self.eps * math.sqrt(1 - b2 ** self.t)
        np.divide(self.m, self._tmp, out=self._tmp)
        self._tmp *= lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)   # bias corrections
        self.flat -= self._tmp


def lr_schedule(step, n_steps, peak, warmup_steps):
    """Learning rate at ``step`` (0-based): linear warmup to ``peak``, then a cosine that reaches 0 at ``n_steps``."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, n_steps - warmup_steps)
    return peak * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass(frozen=True)
class TrainResult:
    """One training run: its size, budget, final losses and speed.

    ``loss`` is the held-out loss (nats per token) on the same
    ``EVAL_TOKENS`` tokens of fresh text for every run; ``train_loss`` the mean
    training loss over the last tenth of the steps (for repeated data, on text
    the model has seen before). ``flops`` = 6 N D (Chinchilla's C);
    ``counted_flops`` = the exact count of :func:`mlp_flops` times D.
    """

    hidden: int
    n_params: int
    n_tokens: int                 # D, training tokens processed
    unique_tokens: int            # distinct training tokens (= n_tokens for a single epoch)
    loss: float                   # nats per token, held out
    train_loss: float             # nats per token
    seconds: float
    flops: float                  # 6 N D
    counted_flops: float          # FLOPs the trainer executes
    exponent: float               # Zipf exponent a of the text
    seed: int
    curve_tokens: np.ndarray = field(repr=False, compare=False)   # tokens seen, about 100 points
    curve_loss: np.ndarray = field(repr=False, compare=False)     # mean training loss of the stretch ending there
    model: MLPLanguageModel = field(repr=False, compare=False)    # the trained model

    @property
    def epochs(self) -> float:
        return self.n_tokens / self.unique_tokens

    @property
    def tokens_per_second(self) -> float:
        return self.n_tokens / self.seconds

    @property
    def flops_per_second(self) -> float:
        """Achieved FLOP/s: the FLOPs the trainer executes, per second of training."""
        return self.counted_flops / self.seconds

    def record(self) -> dict:
        """The run as one row of a sweep table (no learning curve)."""
        row = {k: getattr(self, k) for k in self.__dataclass_fields__ if not k.startswith("curve") and k != "model"}
        row.update(epochs=self.epochs, tokens_per_second=self.tokens_per_second,
                   flops_per_second=self.flops_per_second)
        return row


def training_contexts(tokens, context=CONTEXT):
    """Views (contexts (n, k), targets (n,)) of a token stream: predict each token from the k before it."""
    t = np.asarray(tokens)
    windows = np.lib.stride_tricks.sliding_window_view(t, context + 1)
    return windows[:, :context], windows[:, context]


def train_mlp(hidden, n_tokens, *, exponent=DEFAULT_EXPONENT, seed=0, unique_tokens=None,
              batch_size=BATCH_SIZE, lr=None, warmup_fraction=0.02, eval_tokens=EVAL_TOKENS) -> TrainResult:
    """Train an MLP language model of width ``hidden`` on ``n_tokens`` tokens of Zipf-lexicon text.

    One step processes ``batch_size`` tokens (the last step may take fewer),
    so D = ``n_tokens`` exactly. By default every token is fresh (a single
    epoch); with ``unique_tokens`` = U < D the same U tokens are repeated for
    D / U epochs, reshuffled each epoch -- the data-constrained regime of
    Muennighoff et al. 2023 (arXiv 2305.16264). ``lr`` defaults to
    :func:`learning_rate`; warmup is ``warmup_fraction`` of the steps (at
    least 10), then a cosine decay that reaches 0 where the budget ends. Seeds: the
    training text, the weights and the order come from ``seed``; the
    held-out text from ``EVAL_SEED``.

    >>> r = train_mlp(32, 20_000, eval_tokens=4096)
    >>> r.n_params, r.n_tokens, r.loss < 2.9      # below the unigram entropy, 2.89 nats
    (5451, 20000, True)
    """
    H = as_count("hidden", hidden, "hidden units", maximum=MAX_HIDDEN, why="wider would exhaust the memory")
    D = as_count("n_tokens", n_tokens, "tokens", maximum=MAX_TRAIN_TOKENS, why="more would train for hours")
    B = as_count("batch_size", batch_size, "tokens", maximum=MAX_BATCH)
    U = D if unique_tokens is None else as_count("unique_tokens", unique_tokens, "tokens")
    if U > D:
        raise ScalingLabError(f"unique_tokens must be at most n_tokens ({D:,}); got {U:,}")
    n_eval = as_count("eval_tokens", eval_tokens, "tokens", maximum=MAX_TRAIN_TOKENS)
    seed = as_seed("seed", seed)
    peak = learning_rate(H) if lr is None else as_number("lr", lr, "a learning rate in (0, 1], such as 0.01",
                                                        lambda x: 0 < x <= 1)
    warmup_fraction = as_number("warmup_fraction", warmup_fraction, "a fraction of the steps in [0, 1), such as 0.02",
                                lambda x: 0 <= x < 1)
    lexicon = zipf_lexicon(exponent)
    data_seed, init_seed, order_seed = np.random.SeedSequence(seed).spawn(3)
    contexts, targets = training_contexts(lexicon.stream(U + CONTEXT, seed=data_seed))
    eval_contexts, eval_targets = training_contexts(lexicon.stream(n_eval + CONTEXT, seed=EVAL_SEED))
    model = MLPLanguageModel(H, seed=init_seed)
    adam = Adam(model.flat)
    order_rng = np.random.default_rng(order_seed)
    # the order of all D training positions: one permutation per epoch (the last one cut short)
    order = np.concatenate([order_rng.permutation(U) for _ in range(-(-D // U))])[:D]
    n_steps = -(-D // B)
    warmup = min(n_steps, max(10, round(warmup_fraction * n_steps)))
    losses = np.empty(n_steps)
    start = time.perf_counter()
    for step in range(n_steps):
        idx = order[step * B:(step + 1) * B]
        losses[step] = model._step_grads(contexts[idx], targets[idx])
        adam.step(model.grad_flat, lr_schedule(step, n_steps, peak, warmup))
    seconds = time.perf_counter() - start
    held_out = model.loss(eval_contexts, eval_targets)
    if not math.isfinite(held_out):
        raise ScalingLabError(f"training diverged (held-out loss {held_out}) at lr = {peak:g}; "
                              "expected a smaller learning rate (the default is learning_rate(hidden))")
    sizes = np.full(n_steps, B)
    sizes[-1] = D - (n_steps - 1) * B
    # learning curve: mean training loss over each of about 100 equal stretches of steps
    edges = np.unique(np.linspace(0, n_steps, min(n_steps, 100) + 1).astype(int))
    sums = np.add.reduceat(losses * sizes, edges[:-1])
    counts = np.add.reduceat(sizes, edges[:-1])
    tail = slice(n_steps - max(1, n_steps // 10), n_steps)
    model._buffers = {}                                # scratch arrays: not worth returning from a worker
    return TrainResult(
        hidden=H, n_params=model.n_params, n_tokens=D, unique_tokens=U, loss=held_out,
        train_loss=float(np.average(losses[tail], weights=sizes[tail])), seconds=seconds,
        flops=6.0 * model.n_params * D, counted_flops=mlp_flops(H, batch_size=B).training_per_token * D,
        exponent=float(exponent), seed=seed, curve_tokens=np.cumsum(counts), curve_loss=sums / counts,
        model=model,
    )
