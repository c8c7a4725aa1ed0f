"""The explorer machinery every lesson's explorers share: a figure shown through an ``Image`` widget, and
:class:`Explorer`, which ties controls, a ``compute_*`` function, a ``plot_*`` figure and a readout together.

The figure is drawn once on a reused Agg canvas, with its layout computed once; a move redraws only
the changing artists over a cached background (blitting) and sends a quickly compressed PNG to an
``Image`` widget. This needs no frontend extension, works under any matplotlib backend, keeps the
picture in the saved notebook, and takes about 70 ms a move where a full replot takes about 400 ms.
A slow ``compute`` may offer ``compute_quick``: its provisional result is shown at once and the
final one replaces it from a background thread. The explorers themselves are reached through
:mod:`scalinglab.widgets`.
"""

from __future__ import annotations

import html
import io
import threading
import time

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image as PILImage

from ._checks import ScalingLabError, unknown_name

REFINE_AFTER = 0.3     # seconds the controls must rest before a provisional result is refined


class FigureImage:
    """A matplotlib figure shown through an ``ipywidgets.Image``, redrawn by blitting."""

    def __init__(self, plot):
        self.plot = plot
        self.figure = plot.figure
        self.canvas = FigureCanvasAgg(self.figure)
        width = int(self.figure.get_figwidth() * self.figure.dpi)
        self.image = widgets.Image(format="png", width=width, layout=widgets.Layout(max_width="100%"))
        for artist in plot.dynamic:
            artist.set_animated(True)
        self._background = None
        self._layout_fixed = False

    def redraw(self) -> None:
        """Draw everything that does not move, cache it, then blit the moving artists."""
        if not self._layout_fixed:
            self._fix_layout()
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self.blit()

    def _fix_layout(self) -> None:
        # The layout engine is about half of a full draw: run it once, with the widest tick labels, then keep it.
        undo = self.plot.widest() if self.plot.widest else None
        self.canvas.draw()
        if undo:
            undo()
        self.figure.set_layout_engine("none")
        self._layout_fixed = True

    def blit(self) -> None:
        """Restore the cached background, draw the moving artists on it and publish a PNG."""
        if self._background is None:
            return self.redraw()
        self.canvas.restore_region(self._background)
        for artist in self.plot.dynamic:
            (artist.axes or self.figure).draw_artist(artist)
        self.image.value = self.png()

    def png(self) -> bytes:
        rgba = np.asarray(self.canvas.buffer_rgba())
        buffer = io.BytesIO()
        PILImage.fromarray(rgba[..., :3]).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


class Explorer:
    """Controls, a figure and a readout; subclasses define ``compute`` and ``describe``."""

    title = ""

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        self._grading_args = (args, kwargs)   # how it was made, so a grader can make the same one
        return self

    def __init__(self, controls: dict, plot_function, layout_rows=None, presets=None, preset=None,
                 preset_label="preset"):
        self.controls = controls
        self.presets = presets or {}
        self._applying_preset = False
        self._lock = threading.RLock()      # the figure and readout are changed by one thread at a time
        self._pending, self._worker, self._synchronous = None, None, False
        for name, value in self.presets.get(preset, {}).items():   # every setting of the preset, not some
            controls[name].value = value
        self.readout = widgets.HTML()
        self.result = self.compute(**self.values())
        self.figure = FigureImage(plot_function(self.result))
        rows = layout_rows or [list(controls)]
        boxes = [widgets.HBox([controls[name] for name in row]) for row in rows]
        header = [widgets.HTML(f"<b>{html.escape(self.title)}</b>")] if self.title else []
        if self.presets:
            self.preset = widgets.Dropdown(options=["custom", *self.presets], value=preset or "custom",
                                           description=preset_label, style=_STYLE,
                                           layout=widgets.Layout(width="340px"))
            self.preset.observe(self._on_preset, names="value")
            header.append(self.preset)
        self.widget = widgets.VBox(header + boxes + [self.figure.image, self.readout])
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self.figure.redraw()
        self.readout.value = self.describe(self.result)
        self._initial = self.values()
        self._recorded = self._initial    # where code last put it: what grading, which reruns the code, sees

    @property
    def recorded(self) -> bool:
        """True while the controls are where the last ``.set(...)`` (or the constructor) put them."""
        return self.values() == self._recorded

    @property
    def untouched(self) -> bool:
        """True while every control still has the value the explorer was created with."""
        return self.values() == self._initial

    def _on_preset(self, change) -> None:
        if change["new"] not in self.presets:
            return
        self._applying_preset = True
        try:
            for name, value in self.presets[change["new"]].items():
                self.controls[name].value = value
        finally:
            self._applying_preset = False

    @property
    def image(self):
        return self.figure.image

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values) -> None:
        """Set controls by name, as if moved by hand: ``explorer.set(n_params=7e10)``.

        Values outside a slider's range, or not among a dropdown's options, are refused
        with a clear message instead of being silently clamped. ``preset=...`` picks a preset.
        """
        names = set(self.controls) | ({"preset"} if self.presets else set())
        for name, value in values.items():
            if name not in names:
                raise unknown_name("set", name, "control", names)
            control = self.preset if name == "preset" else self.controls[name]
            options = getattr(control, "options", None)
            if options is not None:
                allowed = [o[1] if isinstance(o, tuple) else o for o in options]   # (label, value) pairs
                if not any(value == a for a in allowed):
                    raise unknown_name(name, value, f"{name} option", [str(a) for a in allowed])
                continue
            low, high = getattr(control, "min", None), getattr(control, "max", None)
            if isinstance(control, widgets.FloatLogSlider):
                low, high = control.base ** control.min, control.base ** control.max
            if low is not None and not (low <= value <= high):
                raise ScalingLabError(f"{name} = {value!r} is outside this explorer's range [{low:g}, {high:g}]")
        self._synchronous = True       # code gets the final result at once, never a provisional one
        try:
            if "preset" in values:
                self.preset.value = values.pop("preset")
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._synchronous = False
        self._recorded = self.values()

    def settings(self, name: str = "explorer") -> str:
        """The line of code that puts an explorer in its current state; paste it into an answer cell."""
        def show(key, v):   # a choice among options must be pasted back exactly
            exact = hasattr(self.controls[key], "options")
            return f"{v:.4g}" if isinstance(v, float) and not exact else repr(v)
        line = f"{name}.set(" + ", ".join(f"{k}={show(k, v)}" for k, v in self.values().items()) + ")"
        print(line)
        return line

    def grading_state(self) -> dict:
        """How this explorer was made and where its controls are: what a grader reads, as data."""
        args, kwargs = self._grading_args
        return {"args": list(args), "kwargs": dict(kwargs), "values": self.values()}

    def compute(self, **values):  # pragma: no cover - abstract
        raise NotImplementedError

    def compute_quick(self, **values):
        """A fast provisional result (``.provisional`` true) while ``compute`` runs in the background, or None."""
        return None

    def wait(self, timeout: float = 60.0) -> None:
        """Wait until a background refinement, if any, has finished and is shown."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def describe(self, result) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def needs_redraw(self, change) -> bool:
        """Whether a change alters the static background (most do not)."""
        return False

    def _on_change(self, change) -> None:
        if self.presets and not self._applying_preset and self.preset.value != "custom":
            self.preset.value = "custom"   # a control moved by hand no longer shows the preset
        values = self.values()
        try:
            result = None if self._synchronous else self.compute_quick(**values)
            if result is None:
                result = self.compute(**values)
        except ScalingLabError as exc:   # show bad settings as a message, never a traceback
            with self._lock:
                self.readout.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            return
        self._show(result, change)
        if getattr(result, "provisional", False):
            self._refine(values)

    def _show(self, result, change=None) -> None:
        with self._lock:
            self.result = result
            plot = self.figure.plot
            plot.update(result)
            redraw = change is not None and self.needs_redraw(change)
            if (plot.rescale and plot.rescale(result)) or redraw:
                self.figure.redraw()
            else:
                self.figure.blit()
            self.readout.value = self.describe(result)

    def _refine(self, values) -> None:
        """Compute the final result for ``values`` in a background thread; show it if the controls still match."""
        with self._lock:
            self._pending = values
            if self._worker is None:
                self._worker = threading.Thread(target=self._refine_loop, daemon=True,
                                                name=f"{type(self).__name__} refinement")
                self._worker.start()

    def _refine_loop(self) -> None:
        while True:
            with self._lock:
                values = self._pending
                if values is None:
                    self._worker = None
                    return
            time.sleep(REFINE_AFTER)          # refine when the controls rest, not between quick moves
            with self._lock:
                if self._pending is not values:
                    continue                  # moved again meanwhile: wait for the new values to rest
                self._pending = None
            try:
                result = self.compute(**values)
            except ScalingLabError:
                continue
            with self._lock:
                if self._pending is None and self.values() == values:
                    self._show(result)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def _table(rows) -> str:
    cells = "".join(f"<tr><td>{html.escape(k)}</td><td style='text-align:right'><b>{v}</b></td></tr>"
                    for k, v in rows)
    return f"<table class='scalinglab-readout'>{cells}</table>"


def _slider_layout():
    return widgets.Layout(width="380px")


_STYLE = {"description_width": "140px"}
