"""The scaling-law challenge's rules, hidden laws, truths, scores and secrets: shared by the learner's side
(:mod:`scalinglab.challenge`) and the server (:mod:`scalinglab.challenge_server`). No course secret is kept
here -- only the practice round's, published on purpose: every function that needs one takes it as an
argument. See :mod:`scalinglab.challenge` for the design and where the ranges and the noise come from.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import math
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np

from ._checks import ScalingLabError, as_number, as_positive
from .chinchilla import ChinchillaFit, chinchilla_loss, compute_optimal

BUDGET_FLOPS = 1e18          # FLOPs every student may spend on runs
TARGET_FLOPS = 1e20          # FLOPs of the budget to predict for: 100x the largest run the budget allows
MIN_RUN_FLOPS = 1e14         # the smallest run: tiny runs are not free information
N_RANGE = (1e5, 1e12)        # parameters a run may have
D_RANGE = (1e5, 1e14)        # tokens a run may have
NOISE_REL_STD = 0.005        # multiplicative run-to-run noise, measured on lesson 07's trainer (see above)
SERVER_VARIABLE = "SCALINGLAB_CHALLENGE_SERVER"
SECRET_VARIABLE = "SCALINGLAB_CHALLENGE_SECRET_FILE"   # the teacher's side only: where grading finds the secret
GRADING_VARIABLE = "SCALINGLAB_GRADING_STUDENT"        # set by the grader in the kernels it runs
#: The practice round's secret: published on purpose, so its law is anyone's to compute.
PRACTICE_SECRET = b"scalinglab practice round: this secret is public"
FOLDER = ".scalinglab-challenge"   # where the history of runs is kept, in the working folder

#: Ranges of the hidden law, and the real fits they are read from (uniform; "log" = log-uniform).
#: Published: hoffmann2022 (printed / unrounded) and besiroglu2024, evaluated at the Gopher budget
#: 5.76e23 FLOPs; miniseries: Approach-3 fits to lesson 07's sweeps, evaluated at 1e14 FLOPs (100x
#: their largest run). The observed values are in brackets.
LAW_RANGES = {
    "alpha_plus_beta": (0.60, 1.70, "uniform", "published 0.62-0.71, miniseries 1.18-1.68"),
    "a": (0.43, 0.52, "uniform", "beta/(alpha+beta): published 0.452-0.513, miniseries 0.439-0.479"),
    "E": (0.20, 1.85, "uniform", "nats: published 1.69-1.82, miniseries 0.21-0.68"),
    "tokens_per_param": (15.0, 100.0, "log", "D/N at the target optimum: published 18-93, miniseries 39-62"),
    "curvature": (0.006, 0.015, "log", "alpha beta (L* - E)/E at the target: published 0.011-0.014, miniseries "
                                       "0.003-0.013; below 0.006 IsoFLOP valleys sink into the noise"),
}
POINTS = {"n_params": 4.0, "n_tokens": 3.0, "loss": 3.0}
#: Partial credit: full points within the first log-error, none beyond the second, linear between.
CREDIT = {"n_params": (math.log(1.05), math.log(3.0)), "n_tokens": (math.log(1.05), math.log(3.0)),
          "loss": (0.0025, 0.05)}


# --- the law and the truth (need the secret) ---------------------------------------------------------

def _uniforms(secret: bytes, message: str, n: int) -> list[float]:
    digest = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return [(int.from_bytes(digest[6 * i:6 * i + 6], "big") + 0.5) / 2 ** 48 for i in range(n)]


def hidden_law(student: str, secret) -> ChinchillaFit:
    """The hidden law of ``student`` under ``secret`` (bytes, or the path of a secret file): teacher side.

    The constants come from HMAC-SHA256(secret, "law:" + student), in ``LAW_RANGES``; A and B are set
    so that the law's compute optimum at ``TARGET_FLOPS`` has the drawn tokens per parameter. The ranges
    hold the published fits, e.g. Besiroglu et al. 2024's a = beta/(alpha+beta) = 0.513 (arXiv 2404.10102):

    >>> from scalinglab import CHINCHILLA_FITS
    >>> low, high = LAW_RANGES["a"][:2]
    >>> low <= round(CHINCHILLA_FITS["besiroglu2024"].a, 3) <= high
    True
    >>> law = hidden_law("alice", b"an example secret, not a course's")
    >>> n, d = compute_optimal(TARGET_FLOPS, fit=law)
    >>> 15 <= d / n <= 100, law == hidden_law("alice", b"an example secret, not a course's")
    (True, True)
    """
    key, student = _secret(secret), _student(student)
    u = _uniforms(key, f"law:{student}", 5)
    draw = {}
    for x, (name, (low, high, kind, _)) in zip(u, LAW_RANGES.items()):
        draw[name] = math.exp(math.log(low) + x * math.log(high / low)) if kind == "log" else low + x * (high - low)
    s, a, E = draw["alpha_plus_beta"], draw["a"], draw["E"]
    alpha, beta = (1 - a) * s, a * s
    N = math.sqrt(TARGET_FLOPS / (6 * draw["tokens_per_param"]))     # parameters at the target optimum
    D = TARGET_FLOPS / (6 * N)                                        # tokens
    R = draw["curvature"] / (alpha * beta) * E                        # reducible loss there, nats
    # at a compute optimum alpha A/N**alpha = beta B/D**beta, and the two terms add up to R
    A, B = R * beta / s * N ** alpha, R * alpha / s * D ** beta
    return ChinchillaFit(E=E, A=A, B=B, alpha=alpha, beta=beta, name="hidden",
                         source="scalinglab.challenge: drawn from the course secret")


@dataclass(frozen=True)
class ChallengeTruth:
    """The compute-optimal model at the target budget under a student's hidden law."""

    student: str
    flops: float       # FLOPs of the target budget
    n_params: float    # parameters
    n_tokens: float    # tokens
    loss: float        # nats per token

    def __repr__(self):
        return (f"ChallengeTruth({self.student!r}: N = {self.n_params:.4g}, D = {self.n_tokens:.4g}, "
                f"L = {self.loss:.4f} nats at {self.flops:.3g} FLOPs)")


def challenge_truth(student: str, secret) -> ChallengeTruth:
    """The truth a prediction is scored against: compute_optimal(TARGET_FLOPS) of the student's law."""
    law = hidden_law(student, secret)
    n, d = compute_optimal(TARGET_FLOPS, fit=law)
    return ChallengeTruth(_student(student), TARGET_FLOPS, n, d, chinchilla_loss(n, d, fit=law))


def run_loss(student: str, secret, n_params: int, n_tokens: int) -> float:
    """The loss a run reports: the law times exp(sigma z), z fixed by (secret, student, N, D)."""
    key = _secret(secret)
    u = _uniforms(key, f"noise:{_student(student)}:{int(n_params)}:{int(n_tokens)}", 1)[0]
    z = min(4.0, max(-4.0, NormalDist().inv_cdf(u)))
    return chinchilla_loss(float(n_params), float(n_tokens), fit=hidden_law(student, key)) * math.exp(NOISE_REL_STD * z)


# --- scoring -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChallengeScore:
    """A submitted prediction and, when the course reveals it, its score: log-errors against the truth."""

    student: str
    n_params: float                   # predicted parameters
    n_tokens: float                   # predicted tokens
    loss: float                       # predicted loss, nats/token
    points: float | None = None       # None until the score is revealed
    max_points: float = sum(POINTS.values())
    n_params_error: float | None = None   # ln(predicted / true)
    n_tokens_error: float | None = None
    loss_error: float | None = None
    message: str = ""

    def __repr__(self):
        if self.points is None:
            return f"ChallengeScore({self.student!r}: prediction recorded; {self.message})"
        return (f"ChallengeScore({self.student!r}: {self.points:.2f}/{self.max_points:g} points; log-errors "
                f"N {self.n_params_error:+.3f}, D {self.n_tokens_error:+.3f}, loss {self.loss_error:+.4f})")

    def _repr_html_(self):
        rows = [("predicted N", f"{self.n_params:.4g} parameters"), ("predicted D", f"{self.n_tokens:.4g} tokens"),
                ("predicted loss", f"{self.loss:.4f} nats")]
        if self.points is not None:
            rows += [("error in N", _factor(self.n_params_error)), ("error in D", _factor(self.n_tokens_error)),
                     ("error in loss", f"{100 * self.loss_error:+.2f}%"),
                     ("points", f"{self.points:.2f} / {self.max_points:g}")]
        body = "".join(f"<tr><td>{k}</td><td><b>{html.escape(v)}</b></td></tr>" for k, v in rows)
        return f"<table>{body}</table><p>{html.escape(self.message)}</p>"


def _factor(log_error: float) -> str:
    return f"{math.exp(abs(log_error)):.3g}x too {'high' if log_error > 0 else 'low'}" if log_error else "exact"


def _credit(error: float, full: float, zero: float) -> float:
    return float(np.clip((zero - abs(error)) / (zero - full), 0.0, 1.0))


def score_prediction(truth: ChallengeTruth, n_params, n_tokens, loss) -> ChallengeScore:
    """Points for a prediction: per quantity full credit within CREDIT[0] log-error, none beyond CREDIT[1].

    N is worth 4 points, D and the loss 3 each; between the two thresholds the credit falls
    linearly with |ln(predicted / true)|. Chinchilla's own rule, 20 tokens per parameter, against a law
    whose optimum has 40:

    >>> truth = ChallengeTruth("example", 1e20, 6.45e8, 2.58e10, 2.0)
    >>> score_prediction(truth, 6.45e8, 2.58e10, 2.0).points
    10.0
    >>> score_prediction(truth, 9.13e8, 1.83e10, 2.0)
    ChallengeScore('example': 8.02/10 points; log-errors N +0.347, D -0.343, loss +0.0000)
    """
    if not isinstance(truth, ChallengeTruth):
        raise ScalingLabError(f"truth must be a ChallengeTruth, from challenge_truth(student, secret); got {truth!r}")
    N, D, L = _prediction(n_params, n_tokens, loss)
    errors = {"n_params": math.log(N / truth.n_params), "n_tokens": math.log(D / truth.n_tokens),
              "loss": math.log(L / truth.loss)}
    points = sum(POINTS[k] * _credit(e, *CREDIT[k]) for k, e in errors.items())
    return ChallengeScore(truth.student, N, D, L, round(points, 4), n_params_error=errors["n_params"],
                          n_tokens_error=errors["n_tokens"], loss_error=errors["loss"],
                          message=f"scored against your own law at {truth.flops:.3g} FLOPs")


def _prediction(n_params, n_tokens, loss) -> tuple:
    N = as_positive("n_params", n_params, "parameters", scalar=True)
    D = as_positive("n_tokens", n_tokens, "tokens", scalar=True)
    L = as_number("loss", loss, "a predicted loss in nats per token, between 0.01 and 100", lambda x: 0.01 <= x <= 100)
    for name, x, (low, high) in (("n_params", N, (1.0, 1e15)), ("n_tokens", D, (1.0, 1e17))):
        if not low <= x <= high:
            raise ScalingLabError(f"{name} must be between {low:.0e} and {high:.0e}; got {x:.4g}")
    return N, D, L


# --- runs, checked on both sides ------------------------------------------------------------------------

def check_run(n_params, n_tokens) -> tuple[int, int]:
    """(N, D) as whole numbers within the challenge's ranges, or a ScalingLabError saying what is wrong."""
    out = []
    for name, value, unit, (low, high) in (("n_params", n_params, "parameters", N_RANGE),
                                           ("n_tokens", n_tokens, "tokens", D_RANGE)):
        x = as_positive(name, value, unit, scalar=True)
        if not low <= x <= high:
            raise ScalingLabError(f"{name} must be between {low:.0e} and {high:.0e} {unit} in this challenge; "
                                  f"got {x:.4g}")
        out.append(int(round(x)))
    N, D = out
    if 6.0 * N * D < MIN_RUN_FLOPS:
        raise ScalingLabError(f"a run must spend at least {MIN_RUN_FLOPS:.0e} FLOPs (6 N D); N = {N:,} and "
                              f"D = {D:,} give {6.0 * N * D:.3g}")
    return N, D


@dataclass(frozen=True)
class RunHistory:
    """The runs made so far: ``history.n_params``, ``.n_tokens``, ``.flops``, ``.loss`` are numpy arrays."""

    student: str
    runs: tuple = ()        # dicts with n_params, n_tokens, flops, loss

    def __len__(self):
        return len(self.runs)

    def __iter__(self):
        return iter(self.runs)

    def _column(self, key):
        return np.array([r[key] for r in self.runs], dtype=float)

    n_params = property(lambda self: self._column("n_params"))
    n_tokens = property(lambda self: self._column("n_tokens"))
    flops = property(lambda self: self._column("flops"))
    loss = property(lambda self: self._column("loss"))

    def __repr__(self):
        lines = [f"{len(self)} runs of {self.student!r}", f"{'#':>3} {'N':>10} {'D':>10} {'6ND FLOPs':>10} {'loss':>8}"]
        lines += [f"{i:3d} {r['n_params']:10.4g} {r['n_tokens']:10.4g} {r['flops']:10.3g} {r['loss']:8.4f}"
                  for i, r in enumerate(self.runs, 1)]
        return "\n".join(lines)

    def _repr_html_(self):
        rows = "".join(f"<tr><td>{i}</td><td>{r['n_params']:.4g}</td><td>{r['n_tokens']:.4g}</td>"
                       f"<td>{r['flops']:.3g}</td><td>{r['loss']:.4f}</td></tr>" for i, r in enumerate(self.runs, 1))
        return (f"<p>{len(self)} runs of <code>{html.escape(self.student)}</code></p><table><tr><th>#</th>"
                "<th>N (parameters)</th><th>D (tokens)</th><th>6ND (FLOPs)</th><th>loss (nats)</th></tr>"
                f"{rows}</table>")


# --- helpers ----------------------------------------------------------------------------------------------

def _student(student) -> str:
    if not isinstance(student, str) or not student.strip() or len(student) > 200:
        raise ScalingLabError(f"student must be a non-empty name of at most 200 characters; got {student!r}")
    return student.strip()


def safe_name(student: str) -> str:
    """A file name for ``student``: letters, digits, dot, dash and underscore, plus a hash if changed."""
    clean = re.sub(r"[^A-Za-z0-9_.-]", "_", student)[:80].lstrip(".") or "_"
    return clean if clean == student else f"{clean}-{hashlib.sha256(student.encode()).hexdigest()[:8]}"


def _secret(secret) -> bytes:
    if isinstance(secret, (bytes, bytearray)) and len(secret) >= 16:
        return bytes(secret)
    if isinstance(secret, (str, Path)):
        return read_secret(secret)
    raise ScalingLabError("secret must be the bytes of a secret (16 or more) or the path of a secret file")


def read_secret(path) -> bytes:
    """The secret in the file ``path`` (hex text, as :func:`make_secret` writes it)."""
    try:
        text = Path(path).read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ScalingLabError(f"{path}: not a readable challenge secret ({exc})") from None
    if len(key) < 16:
        raise ScalingLabError(f"{path}: a challenge secret needs 16 bytes or more; it has {len(key)}")
    return key


def make_secret(path) -> Path:
    """Write a new random secret (32 bytes, hex) to ``path``, readable by its owner only; never overwrites."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return path


def grading_secret() -> bytes:
    """The secret grading scores against: the file named by ``SCALINGLAB_CHALLENGE_SECRET_FILE`` on the
    teacher's side, else this computer's self-study secret."""
    path = os.environ.get(SECRET_VARIABLE, "").strip()
    if path:
        return read_secret(path)
    if os.environ.get(GRADING_VARIABLE, "").strip():    # a class's grading, probably: say which secret it uses
        import warnings

        warnings.warn(f"grading the challenge against this computer's self-study secret; for a class, set "
                      f"{SECRET_VARIABLE} to the secret file of the challenge server", stacklevel=2)
    return local_secret()


def local_secret() -> bytes:
    """The self-study secret, created on first use in ``$XDG_CONFIG_HOME/scalinglab/challenge-secret``."""
    base = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.join(os.path.expanduser("~"), ".config")
    path = Path(base) / "scalinglab" / "challenge-secret"
    if not path.exists():
        try:
            make_secret(path)
        except FileExistsError:   # made meanwhile by another kernel
            pass
    return read_secret(path)
