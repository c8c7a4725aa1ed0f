"""Grade a notebook from outside the submission's process: answers come out as data, the verdict stays here.

A grading *plan* is a list of steps in notebook order:

* ``Run(source)`` -- a cell of the submission, run in its sandboxed kernel;
* ``Teacher(source)`` -- a locked cell taken from the teacher's source, run
  on the grader's side too (so data and explorers that tests use are the
  teacher's, whatever the submission did to its own copies);
* ``Graded(code, ...)`` -- a graded test, run only on the grader's side.

For a test, the grader asks the kernel for the values the test reads (the
question's answer names, and any other name the teacher's side lacks). They
arrive as data: numbers, strings, arrays, the library's records, an
explorer's settings (rebuilt here on the teacher's explorer), or a handle to
a learner's function that the grader calls with inputs it picks now, getting
the outputs back as data. Nothing the submission runs can reach this side:
not ``check``, not ``scalinglab``, not the test's source.

A cell that runs past its deadline or kills its kernel fails alone: the
kernel is restarted, the cells that ran before are replayed, and grading
goes on. Every such event is recorded in the report's ``problems``.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import os
import time
from dataclasses import dataclass, field

from . import protocol
from .checks import CheckFailed, clip
from .sandbox import Kernel, KernelFailed, Limits

OUTPUT_LIMIT = 20_000


@dataclass
class Run:
    source: str
    index: int
    label: str = ""        # how the teacher knows the cell: its grade id, or "cell N"

    def __post_init__(self):
        self.label = self.label or f"cell {self.index}"


@dataclass
class Teacher:
    source: str
    index: int


@dataclass
class Graded:
    code: str
    index: int
    grade_id: str
    points: float


@dataclass
class TestResult:
    grade_id: str
    points: float
    earned: float
    message: str
    outputs: list


@dataclass
class Report:
    """What grading one notebook found: outputs per cell, a result per test, and every problem."""

    outputs: dict = field(default_factory=dict)        # cell index -> list of nbformat-style outputs
    tests: list = field(default_factory=list)          # TestResult, in notebook order
    problems: list = field(default_factory=list)       # what went wrong, in words, for the teacher
    seconds: float = 0.0
    sandboxed: bool = True

    @property
    def earned(self) -> float:
        return sum(t.earned for t in self.tests)

    @property
    def total(self) -> float:
        return sum(t.points for t in self.tests)


class LearnerError(Exception):
    """Stands for an exception that a learner's function raised in its kernel."""


def _exception(ename: str, evalue: str) -> BaseException:
    """The learner's exception, rebuilt on this side from its name and message (never from code)."""
    from .._checks import ScalingLabError

    known = {"ScalingLabError": ScalingLabError, "UnknownNameError": ScalingLabError}
    cls = known.get(ename) or getattr(builtins, ename, None)
    # KeyError is rebuilt as a look-alike: its str() would quote the learner's message a second time
    if not (isinstance(cls, type) and issubclass(cls, Exception)) or cls in (KeyError,):
        cls = type(ename if ename.isidentifier() else "LearnerError", (LearnerError,), {})
    try:
        exc = cls(evalue)
    except Exception:   # an exception type that wants other arguments
        exc = LearnerError(f"{ename}: {evalue}")
    exc.from_learner = True
    return exc


class RemoteFunction:
    """A learner's function, called in its own kernel; arguments and results cross as data."""

    def __init__(self, session: "Session", handle: str, name: str):
        self._session, self._handle, self.__name__ = session, handle, name

    def __call__(self, *args, **kwargs):
        return self._session.call(self._handle, self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<the learner's function {self.__name__}>"


def _stream(name: str, text: str) -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def _error(ename: str, evalue: str, traceback=()) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue,
            "traceback": [f"{ename}: {evalue}", *traceback]}


class _Shell:
    """``get_ipython()`` for teacher cells: the magics the exercises use do nothing when grading."""

    def run_line_magic(self, name, line, _stack_depth=1):
        return None

    def run_cell_magic(self, name, line, cell):
        return None


def _plain(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


class Session:
    """One submission being graded: its kernel (restarted and replayed as needed) and the teacher's side."""

    def __init__(self, limits: Limits = Limits(), *, sandboxed: bool = True, questions: dict | None = None,
                 explorers: dict | None = None, env: dict | None = None):
        self.limits, self.sandboxed, self.env = limits, sandboxed, dict(env or {})
        self.questions = questions or {}          # question key -> Question (answer names, points)
        self.explorers = explorers                # class name -> class, for rebuilding explorers
        self.report = Report(sandboxed=sandboxed)
        self.history: list[Run] = []               # cells the current kernel has run, for a replay
        self.kernel: Kernel | None = None
        self.started = time.monotonic()
        self.namespace = {"__name__": "__grader__", "get_ipython": lambda: _Shell()}
        self.last_error = None                     # the latest error of a submission cell, for a test's message

    # -- the kernel --

    def _remaining(self) -> float:
        return self.limits.submission_timeout - (time.monotonic() - self.started)

    def _timeout(self) -> float:
        remaining = self._remaining()
        if remaining <= 0:
            raise KernelFailed(f"the submission's time limit ({self.limits.submission_timeout:g} s) was reached")
        return min(self.limits.cell_timeout, remaining)

    def _kernel(self) -> Kernel:
        if self.kernel is not None and self.kernel.alive:
            return self.kernel
        self._timeout()
        first = self.kernel is None
        self.kernel = Kernel(self.limits, sandboxed=self.sandboxed, env=self.env)
        self.kernel.start()
        if not first:
            replayed = []
            for step in self.history:
                try:
                    self.kernel.request({"kind": "run", "source": step.source, "cell": step.index},
                                        timeout=self._timeout())
                    replayed.append(step)
                except KernelFailed as exc:
                    self.report.problems.append(f"{step.label} failed when it was replayed: {exc}")
                    self.kernel = Kernel(self.limits, sandboxed=self.sandboxed, env=self.env)
                    self.kernel.start()
                    for again in replayed:
                        self.kernel.request({"kind": "run", "source": again.source, "cell": again.index},
                                            timeout=self._timeout())
            self.history = replayed
        return self.kernel

    def run(self, step: Run) -> list:
        """Run a submission cell in the kernel; return its outputs."""
        try:
            reply = self._kernel().request({"kind": "run", "source": step.source, "cell": step.index},
                                           timeout=self._timeout())
        except KernelFailed as exc:
            self.report.problems.append(f"{step.label}: {exc}")
            return [_error("CellFailed", f"this cell was stopped: {exc}. The cells after it were still graded.")]
        if not isinstance(reply, dict) or not all(isinstance(reply.get(k, ""), str) for k in ("stdout", "stderr")):
            self.report.problems.append(f"{step.label}: a malformed reply from the kernel")
            return [_error("CellFailed", "this cell's output could not be read")]
        self.history.append(step)
        outputs = []
        if isinstance(reply.get("error"), dict) and reply["error"].get("ename") != "NotImplementedError":
            self.last_error = reply["error"]
        if reply.get("stdout"):
            outputs.append(_stream("stdout", clip(reply["stdout"], OUTPUT_LIMIT)))
        if reply.get("stderr"):
            outputs.append(_stream("stderr", clip(reply["stderr"], OUTPUT_LIMIT)))
        error = reply.get("error")
        if isinstance(error, dict):
            outputs.append(_error(str(error.get("ename", "Error"))[:100], clip(error.get("evalue", ""), 2000),
                                  [clip(line, 300) for line in error.get("traceback", [])[:5]]))
        return outputs

    def fetch(self, names) -> dict:
        """The values of ``names`` in the kernel, as data; names it does not define are left out."""
        reply = self._kernel().request({"kind": "get", "names": sorted(names)}, timeout=self._timeout())
        if "refused" in reply:
            raise KernelFailed(f"its answers could not be read ({reply['refused']})")
        values = {}
        for name, data in dict(reply.get("values", {})).items():
            if name in names:
                values[name] = protocol.decode(
                    data, on_callable=lambda handle, fname: RemoteFunction(self, handle, fname),
                    on_explorer=lambda cls, state, name=name: self._explorer(name, cls, state))
        return values

    def call(self, handle: str, name: str, args, kwargs):
        """Call a learner's function in its kernel with the grader's inputs; its result as data."""
        message = {"kind": "call", "handle": handle, "args": protocol.encode(list(args)),
                   "kwargs": protocol.encode(dict(kwargs))}
        try:
            reply = self._kernel().request(message, timeout=self._timeout())
        except KernelFailed as exc:
            self.report.problems.append(f"{name}(...): {exc}")
            raise LearnerError(f"{name}(...) {exc}") from None
        if "refused" in reply:
            raise LearnerError(f"{name}(...) could not be called: {reply['refused']}")
        if "raised" in reply:
            raised = reply["raised"]
            raise _exception(str(raised.get("ename", "Exception"))[:100], clip(raised.get("evalue", ""), 1000))
        return protocol.decode(reply.get("value"), on_callable=lambda h, n: RemoteFunction(self, h, n))

    def _explorer(self, name: str, cls_name: str, state: dict):
        """The learner's explorer, rebuilt here: the teacher's own where it has one, moved to the same settings."""
        explorers = self.explorers
        if explorers is None:
            from .. import widgets

            explorers = {c.__name__: c for c in vars(widgets).values()
                         if isinstance(c, type) and issubclass(c, widgets.Explorer) and c is not widgets.Explorer}
        cls = explorers.get(cls_name)
        if cls is None:
            return protocol.opaque(cls_name, f"<{cls_name}>")
        explorer = self.namespace.get(name)
        if type(explorer) is not cls:
            args, kwargs = state.get("args", []), state.get("kwargs", {})
            if not isinstance(args, (list, tuple)) or not isinstance(kwargs, dict) \
                    or not all(isinstance(k, str) for k in kwargs):
                return protocol.opaque(cls_name, f"<{cls_name}>")
            explorer = cls(*args, **kwargs)
        values = state.get("values", {})
        for key, value in (values.items() if isinstance(values, dict) else ()):
            if key in explorer.controls and explorer.controls[key].value != value:
                explorer.controls[key].value = value
        explorer._recorded = explorer.values()    # in a rerun notebook, code put it there
        return explorer

    def close(self) -> None:
        if self.kernel is not None:
            self.kernel.close()
        self.report.seconds = time.monotonic() - self.started

    # -- the teacher's side --

    def teacher(self, step: Teacher) -> None:
        """Run a locked cell of the teacher's source on the grader's side."""
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(compile(_plain(step.source), f"<teacher cell {step.index}>", "exec"), self.namespace)
        except Exception as exc:   # a locked cell that needs the learner's values: its names come from them
            self.report.problems.append(f"locked cell {step.index} did not run on the grader's side "
                                        f"({type(exc).__name__}: {clip(exc, 200)})")

    def test(self, step: Graded) -> TestResult:
        """Evaluate a graded test here, on the learner's values fetched as data."""
        tree = ast.parse(_plain(step.code))
        wanted = self._names_for(tree)
        scope = dict(self.namespace)
        try:
            values = self.fetch(wanted)
        except KernelFailed as exc:
            self.report.problems.append(f"{step.grade_id}: {exc}")
            return self._result(step, False, [_error("GradingError", f"the answers could not be read: {exc}")])
        except Exception as exc:   # a value that cannot be rebuilt here (a malformed record or explorer)
            return self._result(step, False, [_error("GradingError", "the answers could not be read as data: "
                                                     f"{type(exc).__name__}: {clip(exc, 300)}")])
        for name in wanted & self._answer_names(tree):
            if name not in values and not hasattr(scope.get(name), "controls"):
                scope.pop(name, None)      # an answer the kernel never defined is not answered
        scope.update(values)
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                exec(compile(tree, f"<test {step.grade_id}>", "exec"), scope)
        except CheckFailed as exc:
            printed = [_stream("stdout", out.getvalue())] if out.getvalue() else []
            text = "\n".join(exc._render_traceback_())
            if "not answered yet" in text and self.last_error:   # say why the answer is missing
                text = (f"✗ {exc.question}: your answer cell raised {self.last_error.get('ename')}: "
                        f"{clip(self.last_error.get('evalue', ''), 300)}")
            return self._result(step, False, printed + [_error("CheckFailed", text)])
        except Exception as exc:   # a hidden test's assertion, or the learner's value breaking the test
            if getattr(exc, "from_learner", False):   # its message could echo the grader's inputs
                message = f"your function raised {type(exc).__name__} on the grader's own inputs"
            else:
                message = clip(exc, 1000) or "a hidden test failed"
            return self._result(step, False, [_error(type(exc).__name__, message)])
        return self._result(step, True, [_stream("stdout", out.getvalue())] if out.getvalue() else [])

    def _result(self, step: Graded, passed: bool, outputs: list) -> TestResult:
        self.last_error = None
        message = "" if passed else next((o["evalue"] for o in outputs if o["output_type"] == "error"), "")
        result = TestResult(step.grade_id, step.points, step.points if passed else 0.0, message, outputs)
        self.report.tests.append(result)
        self.report.outputs[step.index] = outputs
        return result

    def _answer_names(self, tree) -> set:
        keys = [node.args[0].value for node in ast.walk(tree)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "check"
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)]
        return {name for key in keys if key in self.questions for name in self.questions[key].names}

    def _names_for(self, tree) -> set:
        """The names a test reads that must come from the learner: its answers, and what this side lacks."""
        loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        stored |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        stored |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
        free = {n for n in loaded - stored if n not in self.namespace and not hasattr(builtins, n)}
        return free | self._answer_names(tree)


def grade(plan: list, *, limits: Limits = Limits(), sandboxed: bool = True, questions: dict | None = None,
          student: str | None = None) -> Report:
    """Carry out a plan of Run, Teacher and Graded steps; return the report (the kernel is always stopped).

    ``student`` is whose variant is graded (nbgrader's student id); without it, the identity of this
    process's environment is used, on both sides (see :mod:`scalinglab.grading.variants`).
    """
    from .variants import IDENTITY

    identity = {v: os.environ[v] for v, _ in IDENTITY if os.environ.get(v)}
    if student is not None:
        identity = {IDENTITY[0][0]: student}
    session = Session(limits, sandboxed=sandboxed, questions=questions, env=identity)
    saved = {v: os.environ.pop(v, None) for v, _ in IDENTITY}
    os.environ.update(identity)      # the teacher's side computes the same variant as the kernel
    try:
        for step in plan:
            if isinstance(step, Run):
                session.report.outputs[step.index] = session.run(step)
            elif isinstance(step, Teacher):
                session.teacher(step)
            else:
                session.test(step)
    finally:
        for variable, value in saved.items():
            os.environ.pop(variable, None)
            if value is not None:
                os.environ[variable] = value
        session.close()
        try:
            import matplotlib.pyplot as plt

            plt.close("all")
        except Exception:  # pragma: no cover - matplotlib is a dependency
            pass
    return session.report
