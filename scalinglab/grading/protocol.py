"""How answers cross from a submission's process to the grader: framed JSON messages holding data only.

Both sides import this module: the runner inside the sandbox encodes a
learner's values, and the grader outside decodes them. Nothing here ever
unpickles or evaluates: a message is JSON, at most :data:`MAX_MESSAGE`
bytes, and the values it carries are numbers, strings, lists, arrays, the
fields of the library's own records, an explorer's settings, or a handle
to a function that the grader may ask the runner to call.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import select
import struct
import time

MAX_MESSAGE = 8 << 20          # bytes; a larger answer is refused, not read
MAX_ITEMS = 200_000            # elements of one list or array
MAX_STRING = 100_000           # characters of one string
MAX_DEPTH = 20                 # nesting of lists and dicts
_HEADER = struct.Struct(">Q")


class ProtocolError(Exception):
    """A message that is malformed, too large, or not the answer to the question asked."""


# --- framing --------------------------------------------------------------------------------------

def send(fd: int, message: dict, deadline: float | None = None) -> None:
    """Write one message to ``fd``; with a ``deadline``, TimeoutError if the reader stops reading before it."""
    data = json.dumps(message, allow_nan=True, separators=(",", ":")).encode()
    if len(data) > MAX_MESSAGE:
        raise ProtocolError(f"message of {len(data):,} bytes is over the limit of {MAX_MESSAGE:,}")
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([], [fd], [], wait)[1]:
                raise TimeoutError("the other side stopped reading")
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            continue
        view = view[written:]


def _read_exactly(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, left = [], n
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError("no answer in time")
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, deadline: float | None = None) -> dict:
    """Read one message from ``fd``; TimeoutError after ``deadline`` (a ``time.monotonic()`` value)."""
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    if size > MAX_MESSAGE:
        raise ProtocolError(f"a message of {size:,} bytes is over the limit of {MAX_MESSAGE:,}")
    data = _read_exactly(fd, size, deadline)
    try:
        message = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:   # nesting deep enough to overflow too
        raise ProtocolError(f"not a JSON message ({type(exc).__name__})") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message must be a JSON object")
    return message


# --- values ---------------------------------------------------------------------------------------

def _safe_repr(value, limit: int = 200) -> str:
    try:
        text = repr(value)
    except Exception:   # a learner's __repr__ may raise
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."


def encode(value, *, handles: dict | None = None, depth: int = 0):
    """``value`` as JSON-ready data. Callables become handles (kept in ``handles``) when it is given."""
    if depth > MAX_DEPTH:
        raise ProtocolError("the value is nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str) and len(value) > MAX_STRING:
            return {"__opaque__": "str", "repr": _safe_repr(value), "size": len(value)}
        return value
    if isinstance(value, int):
        return value if abs(value) < 1 << 63 else float(value)
    if isinstance(value, float):
        return value
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        np = None
    if np is not None:
        if isinstance(value, np.generic) and value.dtype.kind in "biuf":
            return value.item()
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            if value.size > MAX_ITEMS:
                return {"__opaque__": "ndarray", "repr": f"array of shape {value.shape}", "size": value.size}
            return {"__ndarray__": value.ravel().tolist(), "shape": list(value.shape), "dtype": value.dtype.str}
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_ITEMS:
            return {"__opaque__": type(value).__name__, "repr": f"{type(value).__name__} of {len(value):,} items"}
        items = [encode(v, handles=handles, depth=depth + 1) for v in value]
        return items if isinstance(value, list) else {"__tuple__": items}
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            return {"__opaque__": "dict", "repr": f"dict of {len(value):,} items"}
        return {"__dict__": [[encode(k, depth=depth + 1), encode(v, handles=handles, depth=depth + 1)]
                             for k, v in value.items()]}
    state = getattr(type(value), "grading_state", None)
    if state is not None and type(value).__module__.startswith("scalinglab."):   # the library's explorers
        return {"__explorer__": type(value).__name__, "state": encode(value.grading_state(), depth=depth + 1)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type) \
            and type(value).__module__.startswith("scalinglab."):
        fields = {f.name: encode(getattr(value, f.name), depth=depth + 1) for f in dataclasses.fields(value)}
        return {"__record__": f"{type(value).__module__}:{type(value).__qualname__}", "fields": fields}
    if callable(value) and handles is not None:
        handle = str(len(handles) + 1)
        handles[handle] = value
        return {"__callable__": handle, "name": getattr(value, "__name__", type(value).__name__)[:100]}
    return {"__opaque__": type(value).__name__, "repr": _safe_repr(value)}


class Opaque:
    """A learner's value that cannot travel as data; it only prints as what it was."""

    def __init__(self, type_name: str, text: str):
        self.type_name, self.text = type_name, text

    def __repr__(self) -> str:
        return self.text

    def __eq__(self, other):
        return False

    __hash__ = object.__hash__


_OPAQUE_TYPES: dict = {}


def opaque(type_name: str, text: str) -> Opaque:
    """An :class:`Opaque` whose type is named like the learner's (so messages say "a list", "a Foo")."""
    name = "".join(ch for ch in type_name if ch.isalnum() or ch == "_")[:60] or "object"
    cls = _OPAQUE_TYPES.get(name)
    if cls is None:
        cls = _OPAQUE_TYPES[name] = type(name, (Opaque,), {})
    return cls(type_name, text)


def _record(path: str, fields: dict):
    """Rebuild one of the library's own records (frozen dataclasses) from its fields."""
    import sys

    module_name, _, qualname = path.partition(":")
    module = sys.modules.get(module_name) if module_name.startswith("scalinglab.") else None
    if module is None or "." in qualname or module_name.startswith("scalinglab.grading"):
        return opaque(qualname or "object", f"<{qualname or path}>")
    try:
        cls = getattr(module, qualname)
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise TypeError(path)
        return cls(**fields)
    except Exception:   # a record the grader cannot rebuild prints as what it was
        return opaque(qualname, f"<{qualname}>")


def decode(data, *, on_callable=None, on_explorer=None, depth: int = 0):
    """The value ``encode`` produced. Handles become ``on_callable(handle, name)``; explorers ``on_explorer(...)``."""
    if depth > MAX_DEPTH:
        raise ProtocolError("the value is nested too deeply")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    # an explorer is rebuilt only as the top-level value of an answer name; nested ones stay opaque
    again = lambda d: decode(d, on_callable=on_callable, on_explorer=None, depth=depth + 1)  # noqa: E731
    if isinstance(data, list):
        return [again(d) for d in data]
    if not isinstance(data, dict):
        raise ProtocolError(f"unexpected {type(data).__name__} in a value")
    if "__ndarray__" in data:
        import numpy as np

        flat = data["__ndarray__"]
        if not isinstance(flat, list) or not all(isinstance(x, (int, float, bool)) for x in flat):
            raise ProtocolError("an array must hold numbers")
        dtype = np.dtype(str(data.get("dtype", "<f8")))
        if dtype.kind not in "biuf":
            raise ProtocolError("an array must hold numbers")
        shape = data.get("shape", [len(flat)])
        if not isinstance(shape, list) or len(shape) > 32 or \
                not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
            raise ProtocolError("an array's shape must be a list of non-negative whole numbers")
        shape = tuple(shape)
        if math.prod(shape) != len(flat):
            raise ProtocolError("an array's shape does not match its values")
        return np.array(flat, dtype=dtype).reshape(shape)
    if "__tuple__" in data:
        return tuple(again(d) for d in data["__tuple__"])
    if "__dict__" in data:
        out = {}
        for pair in data["__dict__"]:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ProtocolError("malformed dict")
            key = again(pair[0])
            try:
                out[key] = again(pair[1])
            except TypeError:   # an unhashable key
                raise ProtocolError("a dict key must be a number or a string") from None
        return out
    if "__record__" in data:
        return _record(str(data["__record__"]), {str(k): again(v) for k, v in dict(data.get("fields", {})).items()})
    if "__callable__" in data:
        name = str(data.get("name", "function"))[:100]
        return on_callable(str(data["__callable__"]), name) if on_callable else opaque("function", f"<function {name}>")
    if "__explorer__" in data:
        state = again(data.get("state", {}))
        if on_explorer is None or not isinstance(state, dict):
            return opaque(str(data["__explorer__"])[:100], f"<{str(data['__explorer__'])[:100]}>")
        return on_explorer(str(data["__explorer__"])[:100], state)
    if "__opaque__" in data:
        return opaque(str(data["__opaque__"])[:100], str(data.get("repr", ""))[:300])
    raise ProtocolError("unknown kind of value")
