"""The process that runs a submission's cells, inside the sandbox (``python -m scalinglab.grading.runner``).

It is a small kernel: it reads requests from one pipe and answers on
another. Requests are to run a cell, to report the values of some names as
data, or to call a function the notebook defined with inputs the grader
chose. It never judges an answer: the grader does, outside this process.
Everything here is the submission's to tamper with, and nothing here needs
to be trusted -- a forged answer is only ever an answer about the
submission's own values.
"""

from __future__ import annotations

import ast
import io
import linecache
import os
import resource
import sys
import traceback

from . import protocol

OUTPUT_LIMIT = 20_000   # characters of a cell's printed output kept


class _CappedText(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int = OUTPUT_LIMIT):
        self.limit, self.parts, self.size = limit, [], 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(text[:room])
        self.size += len(text)
        return len(text)

    def value(self) -> str:
        text = "".join(self.parts)
        if self.size > self.limit:
            text += f"\n[output truncated: {self.size:,} characters printed, the first {self.limit:,} kept]\n"
        return text


class _Shell:
    """Enough of ``get_ipython()`` for the magics an exercise uses; any other magic is a clear error."""

    def run_line_magic(self, name, line, _stack_depth=1):
        if name in ("matplotlib", "config"):   # figures are not shown when grading
            return None
        raise RuntimeError(f"the magic %{name} is not available when grading; use plain Python")

    def run_cell_magic(self, name, line, cell):
        raise RuntimeError(f"the cell magic %%{name} is not available when grading; use plain Python")

    def system(self, cmd):
        raise RuntimeError("shell commands (!...) are not available when grading")

    getoutput = system


def _transform(source: str) -> str:
    """IPython syntax (``%matplotlib inline``, ``!ls``) to plain Python that calls ``get_ipython()``."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return source
    return TransformerManager().transform_cell(source)


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:   # an exception whose __str__ fails
        return f"<{type(exc).__name__}>"


def run_cell(source: str, namespace: dict, cell: int) -> dict:
    """Run one cell; return its printed output and its error, both capped."""
    out, err = _CappedText(), _CappedText()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    error = None
    try:
        code = _transform(source)
        linecache.cache[f"<cell {cell}>"] = (len(code), None, code.splitlines(True), f"<cell {cell}>")
        tree = ast.parse(code, filename=f"<cell {cell}>")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, f"<cell {cell}>", "exec"), namespace)
        if last is not None:   # a cell's last expression is evaluated, as in a notebook (not displayed)
            eval(compile(ast.Expression(last.value), f"<cell {cell}>", "eval"), namespace)
    except BaseException as exc:   # SystemExit and KeyboardInterrupt too: only this cell fails
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell")]
        error = {"ename": type(exc).__name__, "evalue": _text(exc)[:2000],
                 "traceback": [f"  cell {cell}, line {f.lineno}: {(f.line or '').strip()[:200]}" for f in frames][-5:]}
    finally:
        sys.stdout, sys.stderr = saved
    return {"stdout": out.value(), "stderr": err.value(), "error": error}


def serve(fd_in: int, fd_out: int) -> None:
    """Answer requests until the grader says goodbye or closes the pipe."""
    shell = _Shell()
    namespace = {"__name__": "__main__", "get_ipython": lambda: shell, "display": lambda *a, **k: None}
    handles: dict = {}
    while True:
        try:
            request = protocol.receive(fd_in)
        except (EOFError, protocol.ProtocolError):
            return
        reply = {"nonce": request.get("nonce")}
        kind = request.get("kind")
        try:
            if kind == "run":
                reply.update(run_cell(str(request["source"]), namespace, int(request.get("cell", 0))))
            elif kind == "get":
                values = {}
                for name in request.get("names", []):
                    if name in namespace:
                        values[name] = protocol.encode(namespace[name], handles=handles)
                reply["values"] = values
            elif kind == "call":
                reply.update(_call(request, handles))
            elif kind == "bye":
                protocol.send(fd_out, reply)
                return
            else:
                reply["error"] = {"ename": "ProtocolError", "evalue": f"unknown request {kind!r}", "traceback": []}
            protocol.send(fd_out, reply)
        except protocol.ProtocolError as exc:
            protocol.send(fd_out, {"nonce": request.get("nonce"), "refused": str(exc)[:500]})


def _call(request: dict, handles: dict) -> dict:
    function = handles.get(str(request.get("handle")))
    if function is None:
        return {"refused": "that function is gone (the kernel was restarted)"}
    args = protocol.decode(request.get("args", []))
    kwargs = protocol.decode(request.get("kwargs", {"__dict__": []}))
    out, err = _CappedText(), _CappedText()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        result = function(*args, **kwargs)
    except BaseException as exc:   # the learner's function failed: the grader says so
        return {"raised": {"ename": type(exc).__name__, "evalue": _text(exc)[:2000]}, "stdout": out.value()}
    finally:
        sys.stdout, sys.stderr = saved
    return {"value": protocol.encode(result, handles=handles), "stdout": out.value()}


def _limit_resources(memory_bytes: int, file_bytes: int) -> None:
    for which, amount in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_FSIZE, file_bytes),
                          (resource.RLIMIT_CORE, 0)):
        if amount >= 0:
            resource.setrlimit(which, (amount, amount))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    fd_in, fd_out, memory_bytes, file_bytes = (int(a) for a in argv[:4])
    os.set_inheritable(fd_in, False)
    os.set_inheritable(fd_out, False)
    import matplotlib   # imported before the memory limit, as the exercises all use it

    matplotlib.use("Agg")
    _limit_resources(memory_bytes, file_bytes)
    protocol.send(fd_out, {"nonce": "ready", "pid": os.getpid()})
    serve(fd_in, fd_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
