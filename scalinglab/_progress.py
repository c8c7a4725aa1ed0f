"""Progress for long computations: a widget bar in a notebook, a line on stderr in a terminal, or nothing.

A low layer: :mod:`scalinglab.fitting` and :mod:`scalinglab.sweep` use it, so it imports no other
scalinglab module. The notebook bar is built here from ipywidgets directly, imported only when a
bar is shown, so that ``import scalinglab`` does not load ipywidgets.
"""

from __future__ import annotations

import sys


def in_kernel() -> bool:
    """True inside a Jupyter kernel (IPython is imported there already; elsewhere it is not needed)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def progress_bar(total: int, label: str):
    """Show a progress bar now; return ``update(done, text="")`` that moves it."""
    import ipywidgets
    from IPython.display import display

    bar = ipywidgets.IntProgress(value=0, min=0, max=total, description=label,
                                 style={"description_width": "initial"})
    display(bar)

    def update(done, text=""):
        bar.value = done
        bar.description = f"{label} {done}/{total}" + (f" ({text})" if text else "")

    return update


def reporter(progress, total: int, label: str):
    """``update(done, text="")`` for a computation of ``total`` steps.

    ``progress`` is a function ``progress(done, total)``; or None for a bar in a notebook and
    nothing elsewhere; True for a bar in a notebook and a line on stderr elsewhere; False for nothing.

    >>> seen = []
    >>> update = reporter(lambda done, total: seen.append((done, total)), 3, "steps")
    >>> update(1); update(3, "last")
    >>> seen
    [(1, 3), (3, 3)]
    >>> reporter(False, 3, "steps")(3)
    """
    if callable(progress):
        return lambda done, text="": progress(done, total)
    if progress is False:
        return lambda done, text="": None
    if in_kernel():
        return progress_bar(total, label)
    if not progress:
        return lambda done, text="": None

    def line(done, text=""):
        end = "\n" if done == total or not sys.stderr.isatty() else ""
        sys.stderr.write(f"\r{label}: {done}/{total}{' (' + text + ')' if text else ''}{end}")
        sys.stderr.flush()

    return line
