"""The scaling-law challenge's ledger and server, and the teacher's class summary.

:class:`Ledger` applies the rules (budget, free repeats, submissions) and keeps one JSON file per
student: in self-study the learner's own, in the working folder; in a class the server's.
:class:`ServerLedger` asks the same of the server over its socket.

In a class the learners' kernels never hold the secret. The teacher runs::

    scalinglab challenge-server --secret-file secret.hex --socket /srv/course/challenge.sock \\
        [--ledger /srv/course/challenge-ledger] [--deadline 2027-01-15T18:00+00:00] [--create-secret]

and sets ``SCALINGLAB_CHALLENGE_SERVER=/srv/course/challenge.sock`` in the learners' environment
(the socket must be writable by them). The server holds the secret, computes every loss, and keeps
the authoritative budget ledger, one JSON file per student in ``--ledger`` (default: next to the
secret). Protocol: one JSON object per line, ``{"op": "status" | "train" | "submit", "student": ...,
...}``, answered by ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``.

Score policy: a submission is recorded at once; its score is sent back only after ``--deadline``
(ISO 8601). Without a deadline the server never sends scores: the teacher publishes them, e.g.
with ``scalinglab challenge-summary``.

Who is playing: with ``--identity peer`` (the default) the server asks the operating system which
user opened the connection (``SO_PEERCRED``) and plays as that user, refusing a request that claims
another name: on a JupyterHub whose learners are separate system users (LocalProcessSpawner,
SystemdSpawner) nobody can spend another's budget or read another's runs. ``--identity claimed``
trusts the name a kernel sends; use it only where learners share one system user (e.g. containers),
and then give each learner their own socket with ``--student NAME``, which plays only as NAME. Servers
may share a ledger folder: every change takes the folder's lock (``fcntl.flock``). The ledger folder
is private to the server's user (mode 700). Set the server's deadline no earlier than the exercise's:
after it, a submission's reply shows its errors, and so the truth.

To autograde exercise 11, whose last question replays each student's runs against their own law, set
``SCALINGLAB_CHALLENGE_SECRET_FILE=secret.hex`` in the grader's environment (never the learners'): without
it, grading falls back to the grading computer's own self-study secret, and warns.

After the deadline::

    scalinglab challenge-summary --secret-file secret.hex --ledger /srv/course/challenge-ledger \\
        --csv scores.csv --png scores.png
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import fcntl
import hashlib
import hmac
import io
import json
import math
import os
import socket
import socketserver
import struct
import sys
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ._checks import ScalingLabError
from .challenge_law import (
    BUDGET_FLOPS, POINTS, SERVER_VARIABLE, TARGET_FLOPS, ChallengeScore, _prediction, _secret, _student,
    challenge_truth, check_run, make_secret, read_secret, run_loss, safe_name, score_prediction,
)

MAX_REQUEST = 65_536     # bytes in one request line
MAX_SUBMISSIONS = 20     # predictions kept per student (only the first counts)
IDLE_SECONDS = 600       # a connection silent this long is closed


# --- the ledger: who spent what (the server's, or the learner's own in self-study) ---------------------

IDENTITIES = ("peer", "claimed")   # how the server tells who is playing (see the module's docstring)


class Ledger:
    """Budget, runs and submissions of each student, kept in JSON files (in memory with ``folder=None``);
    all the rules are applied here."""

    def __init__(self, secret, folder, *, reveal=True, deadline_message=""):
        self._key = _secret(secret)                     # never shown
        self.folder = None if folder is None else Path(folder)
        self._memory = {}
        self.reveal, self.deadline_message = reveal, deadline_message

    def _path(self, student: str) -> Path:
        return self.folder / f"{safe_name(student)}.json"

    def _fingerprint(self, student: str) -> str:
        return hmac.new(self._key, f"id:{student}".encode(), hashlib.sha256).hexdigest()[:16]

    def load(self, student: str) -> dict:
        student = _student(student)
        if self.folder is None:
            path, state = None, json.loads(self._memory.get(student, "null"))
        else:
            path, state = self._path(student), None
        if path is not None and path.is_file():
            try:
                state = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise ScalingLabError(f"{path}: the challenge's history cannot be read; move it away to start over")
            if state.get("student") != student or state.get("law") != self._fingerprint(student):
                raise ScalingLabError(f"{path} holds runs of another law (another secret or student); move it "
                                      "away to start over")
        return state or {"student": student, "law": self._fingerprint(student), "spent": 0.0, "runs": [],
                         "submissions": []}

    def _save(self, state: dict) -> None:
        if self.folder is None:
            self._memory[state["student"]] = json.dumps(state)
            return
        self._make_folder()
        path = self._path(state["student"])
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")   # private (0600) and unique
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(state, indent=1))
        os.replace(tmp, path)

    def _make_folder(self) -> None:
        if not self.folder.is_dir():
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)    # runs are nobody else's business

    @contextlib.contextmanager
    def _locked(self):
        """Hold the ledger folder's lock: one load-change-save at a time, across processes too."""
        if self.folder is None:
            yield
            return
        self._make_folder()
        with open(self.folder / ".lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def status(self, student: str) -> dict:
        state = self.load(student)
        return {"student": state["student"], "budget": BUDGET_FLOPS, "spent": state["spent"],
                "target": TARGET_FLOPS, "runs": state["runs"]}

    def train(self, student: str, n_params, n_tokens) -> dict:
        N, D = check_run(n_params, n_tokens)
        with self._locked():
            return self._train(student, N, D)

    def _train(self, student: str, N: float, D: float) -> dict:
        state = self.load(student)
        for run in state["runs"]:
            if run["n_params"] == N and run["n_tokens"] == D:
                return {**run, "charged": 0.0, "spent": state["spent"]}
        cost = 6.0 * N * D
        left = BUDGET_FLOPS - state["spent"]
        if cost > left * (1 + 1e-12):
            p = 3 if cost > 1.001 * left else 7          # digits enough to show the difference
            raise ScalingLabError(f"this run needs 6 N D = {cost:.{p}g} FLOPs but only {left:.{p}g} FLOPs of the "
                                  "budget are left; nothing was charged. Try a smaller run.")
        run = {"n_params": N, "n_tokens": D, "flops": cost, "loss": run_loss(state["student"], self._key, N, D)}
        state["runs"].append(run)
        state["spent"] += cost
        self._save(state)
        return {**run, "charged": cost, "spent": state["spent"]}

    def submit(self, student: str, n_params, n_tokens, loss) -> ChallengeScore:
        N, D, L = _prediction(n_params, n_tokens, loss)
        with self._locked():
            state = self.load(student)
            if len(state["submissions"]) >= MAX_SUBMISSIONS:
                raise ScalingLabError(f"{MAX_SUBMISSIONS} predictions are recorded already; only the first counts")
            state["submissions"].append({"n_params": N, "n_tokens": D, "loss": L})
            self._save(state)
        if not self.reveal:
            return ChallengeScore(state["student"], N, D, L, message=self.deadline_message)
        score = score_prediction(challenge_truth(state["student"], self._key), N, D, L)
        attempt = len(state["submissions"])
        note = "" if attempt == 1 else f"; submission {attempt}: only the first counts as your result"
        return ChallengeScore(**{**score.__dict__, "message": score.message + note})

    def __repr__(self):
        return f"Ledger({str(self.folder)!r})"


class ServerLedger:
    """The same operations, asked of ``scalinglab challenge-server`` over a unix socket (JSON lines)."""

    def __init__(self, path: str):
        self.path = path

    def _ask(self, request: dict) -> dict:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(30)
                sock.connect(self.path)
                sock.sendall(json.dumps(request).encode() + b"\n")
                data = b""
                while not data.endswith(b"\n"):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError as exc:
            raise ScalingLabError(f"the challenge server at {self.path} ({SERVER_VARIABLE}) cannot be reached "
                                  f"({exc.strerror or exc}); ask your teacher") from None
        try:
            reply = json.loads(data)
        except ValueError:
            raise ScalingLabError(f"the challenge server at {self.path} sent a malformed reply") from None
        if not reply.get("ok"):
            raise ScalingLabError(str(reply.get("error", "the challenge server refused the request")))
        return reply["result"]

    def status(self, student):
        return self._ask({"op": "status", "student": student})

    def train(self, student, n_params, n_tokens):
        N, D = check_run(n_params, n_tokens)
        return self._ask({"op": "train", "student": student, "n_params": N, "n_tokens": D})

    def submit(self, student, n_params, n_tokens, loss):
        N, D, L = _prediction(n_params, n_tokens, loss)
        return ChallengeScore(**self._ask({"op": "submit", "student": student, "n_params": N, "n_tokens": D,
                                           "loss": L}))

    def __repr__(self):
        return f"ServerLedger({self.path!r})"



# --- the server ---------------------------------------------------------------------------------------

def _deadline(text):
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(str(text))
    except ValueError:
        raise ScalingLabError(f"deadline must be an ISO 8601 time such as 2027-01-15T18:00+00:00; got {text!r}")
    return when if when.tzinfo else when.astimezone()      # a naive time is the server's local time


class Oracle:
    """The server's state: the secret (through its ledger), the deadline, and one lock for every ledger change."""

    def __init__(self, secret_file, ledger_folder=None, deadline=None, identity="claimed", student=None):
        if identity not in IDENTITIES:
            raise ScalingLabError(f"identity must be one of {', '.join(IDENTITIES)}; got {identity!r}")
        self.identity, self.pinned = identity, None if student is None else _student(student)
        self.secret_file = Path(secret_file)
        self.deadline = _deadline(deadline)
        folder = ledger_folder or self.secret_file.parent / "challenge-ledger"
        self.ledger = Ledger(read_secret(self.secret_file), folder)
        self.lock = threading.Lock()

    def _revealed(self) -> bool:
        return self.deadline is not None and datetime.now(timezone.utc) >= self.deadline

    def handle(self, request, peer=None) -> dict:
        """Answer one request; ``peer`` is the system user on the other end of the socket, if known."""
        if not isinstance(request, dict) or request.get("op") not in ("status", "train", "submit"):
            raise ScalingLabError("a request must be a JSON object with op 'status', 'train' or 'submit'")
        op, student = request["op"], request.get("student")
        if self.identity == "peer":
            if peer is None:
                raise ScalingLabError("this server identifies players by their system user, and could not "
                                      "tell who is connected")
            if student not in (None, peer):
                raise ScalingLabError(f"this connection belongs to {peer!r}; it cannot play as {student!r}")
            student = peer
        if self.pinned is not None:
            if student not in (None, self.pinned):
                raise ScalingLabError(f"this server plays only as {self.pinned!r}; it cannot play as {student!r}")
            student = self.pinned
        with self.lock:
            if op == "status":
                return self.ledger.status(student)
            if op == "train":
                return self.ledger.train(student, request.get("n_params"), request.get("n_tokens"))
            self.ledger.reveal = self._revealed()
            self.ledger.deadline_message = (
                f"prediction recorded; it is scored after the deadline, {self.deadline.isoformat()}"
                if self.deadline else "prediction recorded; your teacher publishes the scores")
            score = self.ledger.submit(student, request.get("n_params"), request.get("n_tokens"),
                                       request.get("loss"))
            return dict(score.__dict__)


def _peer_user(sock) -> str | None:
    """The name of the system user at the other end of a unix socket (Linux SO_PEERCRED), or None."""
    try:
        import pwd

        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _, uid, _ = struct.unpack("3i", creds)
        return pwd.getpwuid(uid).pw_name
    except (AttributeError, OSError, KeyError, ImportError):
        return None


class _Handler(socketserver.StreamRequestHandler):
    timeout = IDLE_SECONDS

    def handle(self):
        peer = _peer_user(self.connection)
        while True:
            try:
                line = self.rfile.readline(MAX_REQUEST + 1)
            except OSError:             # idle too long, or gone
                return
            if not line:
                return
            too_long = len(line) > MAX_REQUEST and not line.endswith(b"\n")
            try:
                if too_long:
                    raise ScalingLabError(f"request longer than {MAX_REQUEST:,} bytes; closing the connection")
                reply = {"ok": True, "result": self.server.oracle.handle(json.loads(line), peer)}
            except ScalingLabError as exc:
                reply = {"ok": False, "error": str(exc)}
            except Exception:           # malformed in any other way (deep nesting, huge numbers): never a crash
                reply = {"ok": False, "error": "a request must be one line of JSON with op, and numbers for sizes"}
            try:
                self.wfile.write(json.dumps(reply).encode() + b"\n")
                self.wfile.flush()
            except OSError:
                return
            if too_long:
                return


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def serve(secret_file, socket_path, *, ledger_folder=None, deadline=None, identity="peer", student=None,
          ready=None) -> None:
    """Serve the challenge on the unix socket ``socket_path`` until interrupted."""
    oracle = Oracle(secret_file, ledger_folder, deadline, identity, student)
    path = Path(socket_path)
    if path.exists():
        path.unlink()
    with _Server(str(path), _Handler) as server:
        server.oracle = oracle
        if ready is not None:
            ready()
        try:
            server.serve_forever()
        finally:
            path.unlink(missing_ok=True)


# --- the class summary ------------------------------------------------------------------------------

def _as_prediction(value) -> tuple:
    if isinstance(value, ChallengeScore):
        return value.n_params, value.n_tokens, value.loss
    if isinstance(value, dict):
        return value.get("n_params"), value.get("n_tokens"), value.get("loss")
    if isinstance(value, (tuple, list)) and len(value) == 3:
        return tuple(value)
    raise ScalingLabError(f"a prediction must be a dict with n_params, n_tokens and loss; got {value!r}")


def class_scores(predictions: dict, secret) -> list:
    """A :class:`~scalinglab.challenge.ChallengeScore` per student, against each one's own truth."""
    if not isinstance(predictions, dict):
        raise ScalingLabError("predictions must be a dict: student -> {n_params, n_tokens, loss}")
    return [score_prediction(challenge_truth(student, secret), *_as_prediction(p))
            for student, p in sorted(predictions.items())]


CSV_COLUMNS = ("student", "points", "max_points", "n_params", "true_n_params", "n_params_log_error", "n_tokens",
               "true_n_tokens", "n_tokens_log_error", "loss", "true_loss", "loss_log_error")


def challenge_summary(predictions: dict, secret) -> tuple[str, Figure]:
    """(CSV text, figure) of a class: every prediction against its student's truth, and the scores.

    ``predictions``: student -> {"n_params", "n_tokens", "loss"} (or a ChallengeScore);
    ``secret``: the course secret, bytes or the path of its file.
    """
    scores = class_scores(predictions, secret)
    truths = [challenge_truth(s.student, secret) for s in scores]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s, t in zip(scores, truths):
        writer.writerow([s.student, f"{s.points:.2f}", f"{s.max_points:g}", f"{s.n_params:.6g}", f"{t.n_params:.6g}",
                         f"{s.n_params_error:.4f}", f"{s.n_tokens:.6g}", f"{t.n_tokens:.6g}",
                         f"{s.n_tokens_error:.4f}", f"{s.loss:.6g}", f"{t.loss:.6g}", f"{s.loss_error:.5f}"])
    return out.getvalue(), _summary_figure(scores, truths)


def _summary_figure(scores, truths) -> Figure:
    from matplotlib.ticker import FuncFormatter, LogLocator

    from .units import format_quantity

    fig = Figure(figsize=(12, 3.8), dpi=100, layout="constrained")
    ax, bx, cx = fig.subplots(1, 3)
    target = f"{TARGET_FLOPS:.0e}".replace("e+", "e")
    true_n = np.array([t.n_params for t in truths])
    pred_n = np.array([s.n_params for s in scores])
    both = np.concatenate([true_n, pred_n]) if true_n.size else np.array([1e8, 1e9])
    lim = (both.min() / 1.3, both.max() * 1.3)
    ax.plot(lim, lim, color="0.5", lw=1, label="prediction = truth")
    ax.fill_between(lim, [v / 1.5 for v in lim], [v * 1.5 for v in lim], color="C2", alpha=0.12, label="within 1.5x")
    ax.scatter(true_n, pred_n, s=18, color="C0", zorder=3, label="a student")
    ax.set(xscale="log", yscale="log", xlim=lim, ylim=lim, xlabel="true compute-optimal N (parameters)",
           ylabel="predicted N (parameters)", title=f"Model size at {target} FLOPs")
    for axis in (ax.xaxis, ax.yaxis):   # ticks at 1, 2, 5 x 10^k, labelled 200M, 500M, 1B
        axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda v, _: format_quantity(v)))
        axis.set_minor_locator(LogLocator(subs=()))
    true_l = np.array([t.loss for t in truths])
    error = 100 * np.array([s.loss_error for s in scores])      # percent
    bx.axhline(0, color="0.5", lw=1)
    bx.axhspan(-1, 1, color="C2", alpha=0.12, label="within 1%")
    bx.scatter(true_l, error, s=18, color="C0", zorder=3, label="a student")
    bx.set(xlabel="true loss at the optimum (nats/token)", ylabel="100 ln(predicted / true loss) (%)",
           title=f"Loss at {target} FLOPs")
    for panel in (ax, bx):
        panel.grid(True, alpha=0.3)
        panel.legend(fontsize=8, loc="upper left")
    points = [s.points for s in scores]
    top = sum(POINTS.values())
    cx.hist(points, bins=np.linspace(0, top, 11), color="C1", edgecolor="white")
    mean = float(np.mean(points)) if points else math.nan
    cx.set(xlim=(0, top), xlabel=f"points (out of {top:g})", ylabel="students",
           title=f"Scores of {len(points)} students (mean {mean:.1f})")
    cx.grid(True, alpha=0.3)
    return fig


def ledger_predictions(folder) -> dict:
    """The first submission of every student in a server ledger folder: student -> prediction."""
    out = {}
    for path in sorted(Path(folder).glob("*.json")):
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if state.get("submissions"):
            out[state["student"]] = state["submissions"][0]
    return out


# --- command line (reached from ``scalinglab`` through scalinglab.grading.cli) --------------------------

def main(argv=None) -> int:
    """``scalinglab challenge-server ...`` or ``scalinglab challenge-summary ...``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="scalinglab", description="The scaling-law challenge, teacher side.")
    sub = parser.add_subparsers(dest="command", required=True)
    srv = sub.add_parser("challenge-server", help="serve the challenge to the class over a unix socket")
    srv.add_argument("--secret-file", type=Path, required=True)
    srv.add_argument("--socket", type=Path, required=True)
    srv.add_argument("--ledger", type=Path, default=None, help="folder of the budget ledger")
    srv.add_argument("--deadline", default=None, help="ISO 8601 time after which scores are sent back")
    srv.add_argument("--create-secret", action="store_true", help="create the secret file if it does not exist")
    srv.add_argument("--identity", choices=IDENTITIES, default="peer",
                     help="who is playing: the connecting system user (peer, default) or the name the kernel sends")
    srv.add_argument("--student", default=None,
                     help="serve only this student (one socket per learner where learners share a system user)")
    summ = sub.add_parser("challenge-summary", help="score every student's first submission: a CSV and a PNG")
    summ.add_argument("--secret-file", type=Path, required=True)
    summ.add_argument("--ledger", type=Path, required=True)
    summ.add_argument("--csv", type=Path, default=Path("challenge-scores.csv"))
    summ.add_argument("--png", type=Path, default=Path("challenge-scores.png"))
    args = parser.parse_args(argv)
    try:
        if args.command == "challenge-server":
            if args.create_secret and not args.secret_file.exists():
                make_secret(args.secret_file)
            print(f"serving the scaling-law challenge on {args.socket}; set SCALINGLAB_CHALLENGE_SERVER="
                  f"{args.socket} for the class", flush=True)
            serve(args.secret_file, args.socket, ledger_folder=args.ledger, deadline=args.deadline,
                  identity=args.identity, student=args.student)
            return 0
        secret = read_secret(args.secret_file)
        if not args.ledger.is_dir():
            raise ScalingLabError(f"{args.ledger}: no such ledger folder")
        text, fig = challenge_summary(ledger_predictions(args.ledger), secret)
        args.csv.write_text(text, encoding="utf-8")
        fig.savefig(args.png)
        print(f"{args.csv}: {text.count(chr(10)) - 1} students; {args.png}: the plot")
        return 0
    except ScalingLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
