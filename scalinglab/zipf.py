"""The "Zipf lexicon": a synthetic language whose entropy is known exactly.

A lexicon of 20,000 random letter strings is the vocabulary of words. Text is
a sequence of independent words, word i (rank i = 1, 2, ...) drawn with Zipf's
probability p_i = i^-a / sum_j j^-a (Zipf 1935, *The Psycho-Biology of
Language*; a = 1.5 by default), each followed by a space. The text uses 27
symbols: token 0 is the space and tokens 1-26 are the letters a-z.

Because the entropy of this source is known, so is the irreducible loss E of
the Chinchilla law L = E + A/N^alpha + B/D^beta (Hoffmann et al. 2022,
arXiv 2203.15556, eq. 2): a fitted E can be checked against the truth.

Why the entropy rate per character is H(words) / (mean word length + 1)
-----------------------------------------------------------------------
Write each word as its *codeword*, the word's letters followed by one space.
The words are distinct strings, and a codeword contains exactly one space, at
its end, so no codeword is a prefix of another (a prefix-free code): the text
of m words determines the m words, and the m words determine the text. Hence
the text of m words carries exactly m H(W) nats, H(W) = -sum_i p_i ln p_i. It
is m (Lbar + 1) characters long on average, Lbar = sum_i p_i len(word_i), and
by the law of large numbers almost surely so for large m. A text cut after n
characters ends inside at most one word, which changes its entropy by at
most ln(20,000) nats, nothing per character as n grows. So

    E = H(W) / (Lbar + 1)            nats per character.

A word being a prefix of another word ("ab" and "abc") does no harm: the space
tells them apart. Two words with the same spelling would: the text would then
not determine the word, and the entropy per character would be *less* than the
formula. That is why the lexicon holds distinct strings.

The same number, character by character: the best prediction of the next
character given everything before it needs only the letters since the last
space (words are independent), P(c | prefix) = P(prefix + c) / P(prefix), the
probability masses of the words starting so. Along one word the product of
these conditionals telescopes to p_i, so the per-character log-loss of this
predictor averages to E (:meth:`ZipfLexicon.optimal_loss` measures it on a
sample). No word is longer than 8 letters, so a model seeing the last 8
characters always knows the current prefix: for a context of 8, E is exactly
the lowest reachable loss, not just a lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ._checks import ScalingLabError, as_count, as_seed

ALPHABET = " abcdefghijklmnopqrstuvwxyz"   # token t is ALPHABET[t]; 0 is the space
N_SYMBOLS = len(ALPHABET)                   # 27
SPACE = 0
MIN_WORD_LENGTH = 3                         # letters; 26^3 = 17,576 three-letter strings
MAX_WORD_LENGTH = 8                         # letters; equals the model's context, see above
DEFAULT_EXPONENT = 1.5
DEFAULT_WORDS = 20_000
#: Most tokens one stream may hold: the lessons use at most a few million; 2e8 is 200 MB of text.
MAX_TOKENS = 2 * 10 ** 8


def _check_exponent(exponent) -> float:
    try:
        a = float(exponent)
    except (TypeError, ValueError, OverflowError):
        a = float("nan")
    if isinstance(exponent, (bool, np.bool_, str)) or not (np.isfinite(a) and 0 < a <= 10):
        raise ScalingLabError(f"exponent must be a Zipf exponent a in (0, 10], such as 1.5; got {exponent!r}")
    return a


def _draw_words(n_words: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct random letter strings: (n_words, MAX_WORD_LENGTH) letter tokens 1-26, and lengths."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(MIN_WORD_LENGTH, MAX_WORD_LENGTH + 1, size=n_words)
    letters = rng.integers(1, N_SYMBOLS, size=(n_words, MAX_WORD_LENGTH))
    positions = np.arange(MAX_WORD_LENGTH)
    while True:
        keys = _word_keys(letters, lengths, positions)
        _, first = np.unique(keys, return_index=True)
        repeated = np.setdiff1d(np.arange(n_words), first)   # every copy but the first of a spelling
        if repeated.size == 0:
            return letters * (positions < lengths[:, None]), lengths
        letters[repeated] = rng.integers(1, N_SYMBOLS, size=(repeated.size, MAX_WORD_LENGTH))


def _word_keys(letters, lengths, positions) -> np.ndarray:
    """Each string as a base-27 integer with digits 1-26: distinct strings, distinct keys."""
    digits = np.where(positions < lengths[:, None], letters, 0).astype(np.int64)
    keys = np.zeros(len(letters), dtype=np.int64)
    for j in range(MAX_WORD_LENGTH):
        keys = np.where(j < lengths, keys * N_SYMBOLS + digits[:, j], keys)
    return keys


@dataclass(frozen=True, eq=False)
class ZipfLexicon:
    """A lexicon of distinct random words and their Zipf probabilities p_i ∝ i^-a.

    Make one with :func:`zipf_lexicon`. Entropies are in nats; lengths in
    characters. ``letters[i, :lengths[i]]`` spells word i+1 (rank i+1).
    """

    exponent: float                 # Zipf exponent a
    seed: int                       # seed of the spellings
    letters: np.ndarray = field(repr=False)    # (n_words, 8) letter tokens, 0-padded
    lengths: np.ndarray = field(repr=False)    # (n_words,) letters per word
    probs: np.ndarray = field(repr=False)      # (n_words,) p_i, summing to 1

    @property
    def n_words(self) -> int:
        return len(self.lengths)

    @property
    def words(self) -> list[str]:
        """The spellings, most frequent first."""
        return [decode(row[:n]) for row, n in zip(self.letters, self.lengths)]

    @property
    def word_entropy(self) -> float:
        """H(W) = -sum_i p_i ln p_i, in nats per word."""
        p = self.probs
        return float(-(p * np.log(p)).sum())

    @property
    def mean_word_length(self) -> float:
        """Lbar = sum_i p_i len(word_i), in letters (the space not included)."""
        return float((self.probs * self.lengths).sum())

    @property
    def entropy_rate(self) -> float:
        """E = H(W) / (Lbar + 1), in nats per character: the irreducible loss (see the module docstring)."""
        return self.word_entropy / (self.mean_word_length + 1.0)

    @property
    def unigram_entropy(self) -> float:
        """Entropy of single characters, in nats: the best loss of a model that ignores the context."""
        counts = np.zeros(N_SYMBOLS)
        np.add.at(counts, self.letters.ravel(), np.repeat(self.probs, MAX_WORD_LENGTH))
        counts[SPACE] = 1.0                         # one space per word; padding zeros were added above
        q = counts / counts.sum()
        q = q[q > 0]                                # letters no word uses: 0 ln 0 = 0
        return float(-(q * np.log(q)).sum())

    def stream(self, n_tokens, seed=0) -> np.ndarray:
        """``n_tokens`` characters of text as tokens (uint8, 0 = space, 1-26 = a-z), seeded.

        The text starts at the beginning of a word. The same ``seed`` gives the
        same text; a longer stream extends a shorter one with the same seed.
        """
        n = as_count("n_tokens", n_tokens, "tokens", maximum=MAX_TOKENS,
                     why="a longer stream would exhaust the memory")
        rng = np.random.default_rng(as_seed("seed", seed))
        cdf = np.cumsum(self.probs)
        cdf[-1] = 1.0
        code_len = self.lengths + 1                 # letters + the space
        codes = np.zeros((self.n_words, MAX_WORD_LENGTH + 1), dtype=np.uint8)
        codes[:, :MAX_WORD_LENGTH] = self.letters    # padding zero after the last letter is the space
        out = np.empty(n, dtype=np.uint8)
        filled = 0
        per_call = int(n / (self.mean_word_length + 1) * 1.05) + 64
        while filled < n:
            ids = np.searchsorted(cdf, rng.random(per_call), side="right")
            lens = code_len[ids]
            starts = np.cumsum(lens) - lens           # where each word begins in the text
            total = int(lens.sum())
            offset = np.arange(total) - np.repeat(starts, lens)
            chars = codes[np.repeat(ids, lens), offset]
            take = min(total, n - filled)
            out[filled:filled + take] = chars[:take]
            filled += take
        return out

    def optimal_loss(self, tokens) -> float:
        """Log-loss of the best possible predictor on ``tokens``, in nats per character.

        Predicts each character from the letters since the last space,
        P(c | prefix) = P(words starting prefix+c) / P(words starting prefix);
        characters before the first space are skipped (their prefix is unknown).
        On a long stream this tends to :attr:`entropy_rate`: a Monte-Carlo check
        of the formula that does not use it.
        """
        t = np.asarray(tokens)
        if t.ndim != 1 or t.size < 2 or t.min() < 0 or t.max() >= N_SYMBOLS:
            raise ScalingLabError(f"tokens must be a 1-d array of at least 2 tokens in 0-26; got shape {t.shape}")
        prefix_mass, word_mass = self._masses()
        t = t.astype(np.int64)
        pos = np.arange(t.size)
        last_space = np.maximum.accumulate(np.where(t == SPACE, pos, -1))
        start = np.concatenate([[-1], last_space[:-1]])  # last space strictly before each position
        keep = start >= 0
        n_letters = pos - start - 1
        if n_letters.max() > MAX_WORD_LENGTH:
            raise ScalingLabError("tokens: a word longer than 8 letters is not from this lexicon")
        key = np.zeros(t.size, dtype=np.int64)
        for j in range(MAX_WORD_LENGTH, 0, -1):      # prefix letters, oldest first
            key = np.where(n_letters >= j, key * N_SYMBOLS + t[np.maximum(pos - j, 0)], key)
        letter = t != SPACE
        num_key = np.where(letter, key * N_SYMBOLS + t, key)
        num = np.where(letter, _mass(prefix_mass, num_key), _mass(word_mass, key))
        den = _mass(prefix_mass, key)
        ok = keep & (num > 0)
        if not ok[keep].all():
            raise ScalingLabError("tokens: this text holds a word that is not in the lexicon")
        return float(-np.mean(np.log(num[keep] / den[keep])))

    def _masses(self):
        """Sorted (keys, masses) of every word prefix, and of every whole word."""
        positions = np.arange(MAX_WORD_LENGTH)
        keys, masses = [np.zeros(1, dtype=np.int64)], [np.ones(1)]
        for j in range(1, MAX_WORD_LENGTH + 1):
            has = self.lengths >= j
            lens = np.full(has.sum(), j)
            keys.append(_word_keys(self.letters[has], lens, positions))
            masses.append(self.probs[has])
        k, m = np.concatenate(keys), np.concatenate(masses)
        uniq, inverse = np.unique(k, return_inverse=True)
        prefix = (uniq, np.bincount(inverse, weights=m))
        wk = _word_keys(self.letters, self.lengths, positions)
        order = np.argsort(wk)
        return prefix, (wk[order], self.probs[order])

    def __repr__(self):
        return (f"ZipfLexicon(exponent={self.exponent:g}, n_words={self.n_words}, "
                f"entropy_rate={self.entropy_rate:.4f} nats/char)")


def _mass(table, keys) -> np.ndarray:
    """Look up masses for keys in a sorted (keys, masses) table; 0 for absent keys."""
    known, mass = table
    i = np.clip(np.searchsorted(known, keys), 0, len(known) - 1)
    return np.where(known[i] == keys, mass[i], 0.0)


@lru_cache(maxsize=16)
def _lexicon(exponent: float, n_words: int, seed: int) -> ZipfLexicon:
    letters, lengths = _draw_words(n_words, seed)
    letters, lengths = letters.astype(np.uint8), lengths.astype(np.int64)
    weights = np.arange(1, n_words + 1, dtype=float) ** -exponent
    probs = weights / weights.sum()
    for array in (letters, lengths, probs):
        array.setflags(write=False)        # shared by every caller through the cache
    return ZipfLexicon(exponent, seed, letters, lengths, probs)


def zipf_lexicon(exponent=DEFAULT_EXPONENT, *, n_words=DEFAULT_WORDS, seed=0) -> ZipfLexicon:
    """The lexicon of ``n_words`` random words with Zipf probabilities p_i ∝ i^-``exponent``.

    Spellings depend only on ``seed`` (lengths 3-8 letters, uniform; letters
    uniform; all distinct), so every exponent uses the same words in the same
    rank order. Cached: calling again is free.

    >>> lex = zipf_lexicon(1.5)
    >>> lex.n_words, lex.words[:3]
    (20000, ['fomzltlv', 'voipnq', 'hqwzfu'])
    >>> round(float(lex.probs[0]), 4)       # 1 / sum_{i<=20000} i^-1.5, close to 1 / zeta(1.5) = 0.3827
    0.3849
    """
    a = _check_exponent(exponent)
    n = as_count("n_words", n_words, "words", minimum=2)
    if n > 200_000:
        raise ScalingLabError(f"n_words must be at most 200,000 words (26^3 spellings are short); got {n}")
    return _lexicon(a, n, as_seed("seed", seed))


def zipf_entropy(exponent=DEFAULT_EXPONENT, *, n_words=DEFAULT_WORDS, seed=0) -> float:
    """Exact irreducible loss E = H(W) / (Lbar + 1) of the Zipf lexicon, in nats per character.

    A larger exponent concentrates the text on fewer words, so it is more
    predictable:

    >>> [round(zipf_entropy(a), 4) for a in (1.3, 1.5, 2.0)]
    [0.6156, 0.4245, 0.2054]
    """
    return zipf_lexicon(exponent, n_words=n_words, seed=seed).entropy_rate


def zipf_stream(n_tokens, exponent=DEFAULT_EXPONENT, *, seed=0, n_words=DEFAULT_WORDS,
                lexicon_seed=0) -> np.ndarray:
    """``n_tokens`` characters of Zipf-lexicon text as uint8 tokens (0 = space, 1-26 = a-z).

    ``seed`` seeds the word draws (numpy PCG64); ``lexicon_seed`` the spellings.

    >>> decode(zipf_stream(40, seed=0))
    'vsch fomzltlv fomzltlv fomzltlv ksgtied '
    """
    seed = as_seed("seed", seed)
    lexicon = zipf_lexicon(exponent, n_words=n_words, seed=as_seed("lexicon_seed", lexicon_seed))
    return lexicon.stream(n_tokens, seed=seed)


def decode(tokens) -> str:
    """Tokens (0 = space, 1-26 = a-z) back to text."""
    t = np.asarray(tokens)
    if t.size and (t.min() < 0 or t.max() >= N_SYMBOLS):
        raise ScalingLabError(f"tokens must lie in 0-26 (space, a-z); got values from {t.min()} to {t.max()}")
    return "".join(ALPHABET[int(i)] for i in t.ravel())
