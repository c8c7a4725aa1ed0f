"""Lesson 09's own models: what a small language model on the Zipf language can do, beyond its loss.

``string_metrics`` scores greedy continuations of held-out text (exact match of an L-character
string, edit-distance credit, per-character accuracy); ``word_completion`` poses a task (finish a
word from its first letters) with a log-likelihood and an accuracy. ``load_ability_series`` reads the
ten cached models of ``tools/make_ability_models.py``. The explorers are in :mod:`scalinglab.ability_explorers`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np

from ._checks import ScalingLabError, as_count, as_seed
from .mlp_lm import CONTEXT, MLPLanguageModel, training_contexts
from .zipf import DEFAULT_EXPONENT, SPACE, decode, zipf_lexicon

TEST_SEED = 2107          # seed of the held-out text the abilities are measured on (not a training seed)
PREFIX_LETTERS = 3        # word completion: the prompt ends after this many letters of the word
MAX_LENGTH = 16           # longest continuation measured, characters



def _as_model(model) -> MLPLanguageModel:
    model = getattr(model, "model", model)          # a TrainResult carries its model
    if not isinstance(model, MLPLanguageModel):
        raise ScalingLabError(f"model must be an MLPLanguageModel or the TrainResult of train_mlp; got "
                              f"{type(model).__name__}")
    return model


def _log_probs(model: MLPLanguageModel, contexts) -> np.ndarray:
    """Log-probabilities (n, 27) of the next character after each context (n, 8), float64."""
    p = model.params
    n = len(contexts)
    x = p["embedding"][contexts].reshape(n, -1)
    h = np.maximum(x @ p["w1"] + p["b1"], 0.0)
    z = (h @ p["w2"] + p["b2"]).astype(float)
    z -= z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class StringMetrics:
    """Scores of greedy continuations of held-out text, for lengths 1 to ``max_length`` characters."""

    lengths: np.ndarray            # L, characters
    per_token_accuracy: float      # fraction of next characters whose argmax is right (teacher forcing)
    exact_match: np.ndarray        # fraction of L-character greedy continuations exactly right
    edit_credit: np.ndarray        # mean of 1 - (edit distance)/L, floored at 0
    n_windows: int

    def __repr__(self):
        i = min(7, len(self.lengths) - 1)
        return (f"StringMetrics(per-token accuracy {self.per_token_accuracy:.3f}; at L = {self.lengths[i]}: "
                f"exact match {self.exact_match[i]:.3f}, edit credit {self.edit_credit[i]:.3f}; "
                f"{self.n_windows} windows)")


def string_metrics(model, max_length=MAX_LENGTH, n_windows=2000, *, exponent=DEFAULT_EXPONENT,
                   seed=TEST_SEED) -> StringMetrics:
    """Per-token accuracy, exact match and edit-distance credit of a model's greedy continuations.

    From ``n_windows`` random places in held-out Zipf text, the model writes
    ``max_length`` characters greedily (its most probable character each
    time, fed back as context). A continuation of length L is an exact match
    if its first L characters equal the text's; its edit credit is
    1 - Levenshtein(first L generated, first L true) / L (Schaeffer et al.'s
    token edit distance, as partial credit). Per-token accuracy is measured
    with the true text as context (teacher forcing). Greedy decoding writes
    the true L characters exactly when it is right at each of them given the
    true prefix, so exact match equals "all L teacher-forced predictions
    right" -- p^L if the L were independent.
    """
    m = _as_model(model)
    Lmax = as_count("max_length", max_length, "characters", maximum=64)
    n = as_count("n_windows", n_windows, "windows", maximum=100_000)
    stream = zipf_lexicon(exponent).stream(max(20_000, 20 * n) + CONTEXT + Lmax, seed=as_seed("seed", seed))
    contexts, targets = training_contexts(stream[:20_000 + CONTEXT])
    per_token = float(np.mean(_log_probs(m, contexts).argmax(axis=1) == targets))
    rng = np.random.default_rng(seed)
    starts = np.sort(rng.choice(np.arange(CONTEXT, stream.size - Lmax), size=n, replace=False))
    window = stream[starts[:, None] + np.arange(-CONTEXT, 0)].astype(np.uint8)
    truth = stream[starts[:, None] + np.arange(Lmax)]
    generated = np.empty((n, Lmax), dtype=np.uint8)
    for t in range(Lmax):
        generated[:, t] = _log_probs(m, window).argmax(axis=1)
        window = np.concatenate([window[:, 1:], generated[:, t:t + 1]], axis=1)
    same = generated == truth
    exact = np.cumprod(same, axis=1).mean(axis=0)
    # Levenshtein distances of all prefix pairs at once, vectorised over the windows: D[i, j] is the
    # distance between generated[:i] and truth[:j]; the one for length L is D[L, L].
    D = np.zeros((Lmax + 1, Lmax + 1, n))
    D[:, 0] = np.arange(Lmax + 1)[:, None]
    D[0, :] = np.arange(Lmax + 1)[:, None]
    for i in range(1, Lmax + 1):
        for j in range(1, Lmax + 1):
            sub = D[i - 1, j - 1] + (generated[:, i - 1] != truth[:, j - 1])
            D[i, j] = np.minimum(sub, np.minimum(D[i - 1, j], D[i, j - 1]) + 1)
    L = np.arange(1, Lmax + 1)
    credit = np.clip(1.0 - D[L, L] / L[:, None], 0.0, 1.0).mean(axis=1)
    return StringMetrics(L, per_token, exact, credit, n)


@dataclass(frozen=True)
class WordCompletion:
    """Finishing words from their first three letters: one entry per problem (a word of held-out text)."""

    words: tuple                   # the words to finish
    answer_lengths: np.ndarray     # characters to write: the rest of the word and the space
    log_prob: np.ndarray           # ln P(right answer) under the model, nats
    greedy_correct: np.ndarray     # bool: greedy decoding writes the right answer
    ideal_log_prob: np.ndarray     # ln P(right answer) under the true language: the best any model can do

    @property
    def task_nll(self) -> float:
        """Negative log-likelihood of the right answers, nats per answer character (Llama 3's normalised NLL)."""
        return float(-self.log_prob.sum() / self.answer_lengths.sum())

    @property
    def accuracy(self) -> float:
        """Fraction of problems greedy decoding solves."""
        return float(self.greedy_correct.mean())

    @property
    def sample_accuracy(self) -> float:
        """Expected fraction solved by one sample at temperature 1: the mean of P(right answer)."""
        return float(np.exp(self.log_prob).mean())

    def __repr__(self):
        return (f"WordCompletion({len(self.words)} problems: task NLL {self.task_nll:.3f} nats/char, greedy "
                f"accuracy {self.accuracy:.3f}, one-sample accuracy {self.sample_accuracy:.3f})")


def word_completion(model, n_problems=500, *, exponent=DEFAULT_EXPONENT, seed=TEST_SEED) -> WordCompletion:
    """Score a model on finishing the first ``n_problems`` words of held-out text from their first 3 letters.

    The prompt is the text up to and including the word's third letter; the
    answer is the rest of the word and the space after it (1 to 6
    characters). Returns the model's log-probability of each answer
    (teacher-forced, summed over its characters), whether greedy decoding
    writes it, and the true language's probability of it, P(word) / P(words
    with the same first three letters) -- a perfect model's.
    """
    m = _as_model(model)
    n = as_count("n_problems", n_problems, "problems", maximum=20_000)
    lexicon = zipf_lexicon(exponent)
    stream = lexicon.stream(int(9 * n) + 64, seed=as_seed("seed", seed)).astype(np.int64)
    contexts, targets = training_contexts(stream)
    logp = _log_probs(m, contexts)
    rows = np.arange(len(targets))
    hit_lp = np.concatenate([[0.0], np.cumsum(logp[rows, targets])])     # target t's position is t + CONTEXT
    hit_ok = np.concatenate([[0], np.cumsum(logp.argmax(axis=1) == targets)])
    space = np.flatnonzero(stream == SPACE)
    starts = space[:-1] + 1                         # a word starts after each space ...
    ends = space[1:]                                # ... and ends at the next one (the space included below)
    keep = starts >= CONTEXT
    starts, ends = starts[keep][:n], ends[keep][:n]
    if len(starts) < n:
        raise ScalingLabError(f"n_problems: the held-out text holds only {len(starts)} words")
    first, last = starts + PREFIX_LETTERS - CONTEXT, ends - CONTEXT + 1   # answer targets, as target indices
    lengths = last - first
    words = tuple(decode(stream[s:e]) for s, e in zip(starts, ends))
    prob = dict(zip(lexicon.words, lexicon.probs))
    prefix_mass = {}
    for w, p in prob.items():
        prefix_mass[w[:PREFIX_LETTERS]] = prefix_mass.get(w[:PREFIX_LETTERS], 0.0) + p
    ideal = np.log([prob[w] / prefix_mass[w[:PREFIX_LETTERS]] for w in words])
    return WordCompletion(words, lengths, hit_lp[last] - hit_lp[first], (hit_ok[last] - hit_ok[first]) == lengths,
                          ideal)


# --- the cached series ----------------------------------------------------------------------------

@dataclass(frozen=True)
class AbilitySeries:
    """The cached models of lesson 09 (``tools/make_ability_models.py``), one entry per model."""

    hidden: np.ndarray                 # hidden units H
    n_params: np.ndarray
    n_tokens: np.ndarray               # training tokens D = 20 N (at least 20,000)
    flops: np.ndarray                  # 6 N D
    loss: np.ndarray                   # held-out loss, nats per character
    per_token_accuracy: np.ndarray
    task_nll: np.ndarray               # word completion, nats per answer character
    task_accuracy: np.ndarray          # word completion, greedy
    lengths: np.ndarray                # L = 1 ... 16 characters
    exact_match: np.ndarray = field(repr=False)      # (models, lengths)
    edit_credit: np.ndarray = field(repr=False)      # (models, lengths)
    answer_lengths: np.ndarray = field(repr=False)   # (problems,) characters
    log_prob: np.ndarray = field(repr=False)         # (models, problems) nats
    ideal_log_prob: np.ndarray = field(repr=False)   # (problems,) nats
    source: str = ""


def _rows(filename):
    with resources.files("scalinglab").joinpath("data", filename).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=1)
def load_ability_series() -> AbilitySeries:
    """The ten cached models (H = 1 to 512) and their scores, from ``scalinglab/data/ability_*.csv``."""
    models = _rows("ability_models.csv")
    strings = _rows("ability_strings.csv")
    problems = _rows("ability_problems.csv")
    col = lambda rows, k: np.array([float(r[k]) for r in rows])   # noqa: E731
    hidden = col(models, "hidden_units").astype(int)
    lengths = np.unique(col(strings, "length_chars")).astype(int)
    grid = lambda k: np.array([[float(r[k]) for r in strings if int(r["hidden_units"]) == h] for h in hidden])  # noqa: E731
    log_prob = np.array([col(problems, f"log_prob_h{h}") for h in hidden])
    series = AbilitySeries(hidden, col(models, "n_params"), col(models, "n_tokens"), col(models, "flops"),
                           col(models, "loss_nats"), col(models, "per_token_accuracy"),
                           col(models, "task_nll_nats_per_char"), col(models, "task_accuracy"), lengths,
                           grid("exact_match"), grid("edit_credit"), col(problems, "answer_length_chars"),
                           log_prob, col(problems, "ideal_log_prob"), models[0]["source"])
    if not (np.isfinite(series.log_prob).all() and series.exact_match.shape == (hidden.size, lengths.size)):
        raise RuntimeError("scalinglab/data/ability_*.csv is malformed: rerun tools/make_ability_models.py")
    return series
