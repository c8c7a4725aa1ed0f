"""The scaling-law challenge: a FLOP budget, a hidden law per student, one prediction at a budget you cannot afford.

Every student faces their own law ``L(N, D) = E + A/N**alpha + B/D**beta`` (nats per token).
``Challenge.train(n_params, n_tokens)`` returns the loss of a simulated run and charges its
compute ``6 N D`` FLOPs against a budget of ``BUDGET_FLOPS`` = 1e18; the task is to predict the
compute-optimal model size, tokens and loss at ``TARGET_FLOPS`` = 1e20, 100 times the whole budget
(the largest run it allows). A careful IsoFLOP study -- three to five budgets of 1e15 to 1e17
FLOPs, five or six sizes each, 15 to 30 runs -- fits inside it.

**The hidden law** is drawn from ``HMAC-SHA256(secret, "law:" + student)``, in ranges spanned by
six real fits: the three Chinchilla-style fits of :data:`scalinglab.CHINCHILLA_FITS` (Hoffmann et
al. 2022, arXiv 2203.15556, Appendix D.2; Besiroglu et al. 2024, arXiv 2404.10102) and the fits to
lesson 07's laptop miniseries (Zipf exponents 1.3, 1.5 and 2.0, :func:`scalinglab.load_sweep`).
See ``LAW_RANGES``: the exponents' sum alpha + beta, the split a = beta/(alpha + beta) (N_opt ∝ C**a),
E, and, at the target, the optimal tokens per parameter and the curvature alpha beta (L* - E)/E (the
depth of an IsoFLOP valley: along a budget, the loss rises by about alpha beta (L* - E) x**2 / 2 at
x = ln(N / N_opt)). A and B follow, so that the truth is exactly :func:`~scalinglab.compute_optimal`
of the law at the target.

**Noise** is multiplicative, ``loss = L(N, D) exp(sigma z)`` with sigma = ``NOISE_REL_STD`` = 0.5%
and z a standard normal drawn from ``HMAC(secret, "noise:" student N D)``, so repeating a run gives
the same loss. 0.5% is the spread of the final held-out loss of lesson 07's trainer over seeds:
``python tools/measure_challenge_noise.py`` trained H = 32, 64, 128 and 512 on 0.25M to 1M tokens
with 6 seeds each and found 0.36% to 0.75%, pooled 0.50% (20 degrees of freedom).

**The secret.** In self-study it is a random local file, ``$XDG_CONFIG_HOME/scalinglab/
challenge-secret`` (default ``~/.config/...``, mode 600), created on first use: a determined
learner can read it and so recover the law -- it is self-study. In a class the learner's kernel
never holds it: :class:`Challenge` talks to ``scalinglab challenge-server`` (see
:mod:`scalinglab.challenge_server`), which holds the secret and the authoritative budget ledger,
through the unix socket named by ``SCALINGLAB_CHALLENGE_SERVER``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ._checks import ScalingLabError
from .challenge_law import (   # the challenge's public names, re-exported here
    BUDGET_FLOPS, CREDIT, D_RANGE, FOLDER, GRADING_VARIABLE, LAW_RANGES, MIN_RUN_FLOPS, N_RANGE, NOISE_REL_STD,
    POINTS, PRACTICE_SECRET, SECRET_VARIABLE, SERVER_VARIABLE, TARGET_FLOPS, ChallengeScore, ChallengeTruth,
    RunHistory, _student, challenge_truth, check_run, grading_secret, hidden_law, local_secret, make_secret,
    read_secret, run_loss, safe_name, score_prediction,
)
from .challenge_server import Ledger, ServerLedger

__all__ = ["BUDGET_FLOPS", "CREDIT", "D_RANGE", "FOLDER", "LAW_RANGES", "MIN_RUN_FLOPS", "N_RANGE", "NOISE_REL_STD",
           "POINTS", "PRACTICE_SECRET", "SECRET_VARIABLE", "SERVER_VARIABLE", "TARGET_FLOPS", "Challenge",
           "ChallengeScore", "ChallengeTruth", "RunHistory", "challenge_truth", "check_run", "grading_secret",
           "hidden_law", "local_secret", "make_secret", "read_secret", "run_loss", "safe_name", "score_prediction"]


# --- the learner's side ----------------------------------------------------------------------------------

class Challenge:
    """Your scaling-law challenge: ``train`` runs within the budget, then ``submit`` a prediction.

    ``Challenge(student=None)`` takes your identity as the exercises do (nbgrader's id, then
    ``JUPYTERHUB_USER``, then ``SCALINGLAB_STUDENT``, else ``"self-study"``). A run of N parameters
    on D tokens costs 6ND FLOPs; repeating one is free and gives the same loss.

    ``Challenge(practice=True)`` is a practice round with the same rules on a law whose secret is
    published (``PRACTICE_SECRET``), kept in memory only: for trying the rules, never graded.
    """

    def __init__(self, student=None, *, practice=False, folder=FOLDER):
        from ._checks import as_flag
        from .grading.variants import student_identity

        practice = as_flag("practice", practice)
        self.student, self.source = student_identity() if student is None else (_student(student), "chosen")
        self._folder = Path(folder)
        server = os.environ.get(SERVER_VARIABLE, "").strip()
        if practice:
            self.student, self.source, server = "practice", "the practice round", ""
            self._oracle, self.mode = Ledger(PRACTICE_SECRET, None), "practice"
        elif server:
            self._oracle, self.mode = ServerLedger(server), "class"
        else:
            if os.environ.get(GRADING_VARIABLE, "").strip():
                raise ScalingLabError("the challenge cannot be played while a notebook is being graded: grading "
                                      "reruns it without your challenge. Write your study as a list of runs and "
                                      "your analysis as a function (exercise 11); Challenge(practice=True) works.")
            self._oracle, self.mode = Ledger(local_secret(), self._folder), "self-study"
        self._status = self._oracle.status(self.student)
        self._save_history()

    @property
    def budget_left(self) -> float:
        """FLOPs left to spend on runs."""
        return BUDGET_FLOPS - self._status["spent"]

    @property
    def budget(self) -> float:
        """The whole budget, FLOPs."""
        return BUDGET_FLOPS

    @property
    def target_flops(self) -> float:
        """The budget to predict the compute-optimal model for, FLOPs."""
        return TARGET_FLOPS

    @property
    def history(self) -> RunHistory:
        """Your runs so far, in order."""
        return RunHistory(self.student, tuple(dict(r) for r in self._status["runs"]))

    def train(self, n_params, n_tokens) -> float:
        """The final loss (nats/token) of a run of ``n_params`` parameters on ``n_tokens`` tokens; costs 6ND FLOPs."""
        result = self._oracle.train(self.student, n_params, n_tokens)
        run = {k: result[k] for k in ("n_params", "n_tokens", "flops", "loss")}
        if result["charged"]:
            self._status["runs"].append(run)
        self._status["spent"] = result["spent"]
        self._save_history()
        return float(result["loss"])

    def submit(self, *, n_params, n_tokens, loss) -> ChallengeScore:
        """Submit your prediction at ``target_flops``: parameters, tokens and loss (nats/token)."""
        return self._oracle.submit(self.student, n_params, n_tokens, loss)

    def _save_history(self) -> None:
        if self.mode == "class":    # a copy of the server's ledger, so the runs stay visible offline
            path = self._folder / f"{safe_name(self.student)}.json"
            self._folder.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"student": self.student, **self._status}, indent=1), encoding="utf-8")

    def __repr__(self):
        return (f"Challenge({self.student!r}, {self.mode}: {len(self._status['runs'])} runs, "
                f"{self.budget_left:.3g} of {BUDGET_FLOPS:.3g} FLOPs left; predict for {TARGET_FLOPS:.3g} FLOPs)")
