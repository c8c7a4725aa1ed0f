"""Explorer responsiveness in a real browser: key press to updated figure on screen.

For every explorer of the course, in one JupyterLab page in Chromium, this
moves the main slider one step at a time with the keyboard (right, left, right...; a dropdown: down,
up, ...) and measures the time from the key press to the new figure decoded and painted, over MOVES
moves. Side by side, in the same run, it measures the naive implementation
of the same explorer: ``interactive_output`` that clears its output and
displays a freshly drawn figure on every move (the same compute_* and plot_*
functions, so only the update path differs). Prints median and p95 for
both and the ratio. The fitting explorers (lessons 06 and 07) are measured
with their cache of full fits emptied before every move: each move shows a
quick refit from earlier optima while the full fit runs in the background,
the worst case a learner meets; their naive version fits in full on every move.

    make bench                     (or: .venv/bin/python benchmarks/bench_explorers.py)

Target: median under 100 ms and p95 under 200 ms, where an interface stops
feeling instant. This is a benchmark, not a test: machines are noisy, so
read the ratio, which is measured side by side.
"""

import json
import statistics
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

MOVES = 25
EXPLORERS = {   # class name of scalinglab.widgets -> its plot function, as module.function of scalinglab
    "PowerLawExplorer": "explorers.plot_power_law",
    "KaplanExplorer": "explorers.plot_kaplan",
    "IsoFlopExplorer": "explorers.plot_isoflop",
    "TransformerExplorer": "explorers.plot_transformer",
    "TrainingCalculator": "explorers.plot_training_run",
    "RefitExplorer": "fit_explorers.plot_refit",
    "MiniseriesExplorer": "fit_explorers.plot_miniseries",
    "InferenceExplorer": "beyond_explorers.plot_inference",
    "RepetitionExplorer": "beyond_explorers.plot_repetition",
    "EmergenceExplorer": "ability_explorers.plot_emergence",
    "InferenceComputeExplorer": "ability_explorers.plot_test_time",
    "MemoryExplorer": "memory_explorers.plot_memory",
    "ChallengeExplorer": "challenge_explorers.plot_challenge",
}

SETUP = """\
import importlib
import ipywidgets as widgets
from IPython.display import display
from matplotlib.backends.backend_agg import FigureCanvasAgg
import scalinglab.fit_explorers as fx
import scalinglab.widgets as sw

def uncached(cls_name):
    '''The explorer, with the fitting explorers' cache of full fits emptied before every move (the worst case).'''
    cls = getattr(sw, cls_name)
    if cls.compute_quick is sw.Explorer.compute_quick:
        return cls()
    class Uncached(cls):
        def compute_quick(self, **values):
            fx._FULL_FITS.clear()
            return super().compute_quick(**values)
    return Uncached()

def naive(cls_name, plot_path):
    '''The same explorer, the naive way: a full computation and a new figure per move, through interactive_output.'''
    e = getattr(sw, cls_name)()
    for control in e.controls.values():
        control.unobserve(e._on_change, names="value")
    module, function = plot_path.rsplit(".", 1)
    plot = getattr(importlib.import_module("scalinglab." + module), function)
    def show(**values):
        fx._FULL_FITS.clear()
        figure = plot(e.compute(**values)).figure
        FigureCanvasAgg(figure)
        display(figure)
    out = widgets.interactive_output(show, e.controls)
    return widgets.VBox([widgets.HBox(list(e.controls.values())), out])
"""

# The figure counts as on screen when the new image has loaded and the next frame is painted.
JS_DONE = """
  const done = (img) => {
    const stamp = () => requestAnimationFrame(() => { window.__lat = performance.now() - window.__t0; });
    if (img.complete && img.naturalWidth) { img.decode().then(stamp, stamp); }
    else { img.addEventListener('load', stamp, {once: true}); img.addEventListener('error', stamp, {once: true}); }
  };
"""

JS_ARM_FAST = """(img) => {""" + JS_DONE + """
  window.__lat = undefined;
  const old = img.src;
  const obs = new MutationObserver(() => {
    if (img.src === old) return;
    obs.disconnect();
    done(img);
  });
  obs.observe(img, {attributes: true, attributeFilter: ['src']});
}"""

JS_ARM_NAIVE = """(area) => {""" + JS_DONE + """
  window.__lat = undefined;
  const old = new Set(area.querySelectorAll('img'));
  const obs = new MutationObserver(() => {
    const img = [...area.querySelectorAll('img')].find(i => !old.has(i) && i.src);
    if (!img) return;
    obs.disconnect();
    done(img);
  });
  obs.observe(area, {childList: true, subtree: true, attributes: true});
}"""

JS_NEXT_OPTION = """(select) => {
  window.__t0 = performance.now();
  select.selectedIndex = (select.selectedIndex + 1) % select.options.length;
  select.dispatchEvent(new Event('change', {bubbles: true}));
}"""

JS_STAMP_KEYDOWN = """() => document.addEventListener('keydown', () => { window.__t0 = performance.now(); }, true)"""


def chosen() -> dict:
    """The explorers to measure: all, or those named in the command line (``bench_explorers.py RefitExplorer``)."""
    names = sys.argv[1:] or list(EXPLORERS)
    unknown = [n for n in names if n not in EXPLORERS]
    if unknown:
        sys.exit(f"unknown explorer(s) {unknown}; known: {', '.join(EXPLORERS)}")
    return {n: EXPLORERS[n] for n in names}


def build_notebook(path: Path, explorers: dict) -> None:
    nb = nbformat.v4.new_notebook()
    cells = [nbformat.v4.new_code_cell(SETUP)]
    for cls, plot in explorers.items():
        cells.append(nbformat.v4.new_code_cell(f"uncached({cls!r})"))
        cells.append(nbformat.v4.new_code_cell(f"naive({cls!r}, {plot!r})"))
    nb.cells = cells
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nbformat.write(nb, path)


def measure(page, handle, arm_js, target, warmup=2) -> list:
    """Latencies in ms of MOVES single key presses on ``handle``, after ``warmup`` unmeasured ones.

    Right after "run all" the page is still settling and a first move can wait for
    the next one; the warm-up presses (each given up to 10 s) keep that out of the numbers.
    """
    if handle.evaluate("e => e.tagName") == "SELECT":
        def move():   # a dropdown: the next option, timed from the change (a closed select ignores arrow keys)
            handle.evaluate(JS_NEXT_OPTION)
    else:
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        keys = ["ArrowLeft", "ArrowRight"] if at_max else ["ArrowRight", "ArrowLeft"]
        presses = 0

        def move():   # alternate, so every press changes the value wherever the slider starts
            nonlocal presses
            presses += 1
            handle.focus()
            page.keyboard.press(keys[(presses - 1) % 2])

    done = tries = 0
    while done < warmup:
        tries += 1
        if tries > 10 * warmup:
            raise RuntimeError("the figure never changed after a key press on the explorer's main control")
        target.evaluate(arm_js)
        move()
        try:
            page.wait_for_function("window.__lat !== undefined", timeout=10_000)
            done += 1
        except Exception:   # the move was held back; the next press flushes it
            continue
    latencies = []
    for _ in range(MOVES):
        target.evaluate(arm_js)
        move()
        page.wait_for_function("window.__lat !== undefined", timeout=20_000)
        latencies.append(page.evaluate("window.__lat"))
        page.wait_for_function("window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'")
    return latencies


def main_control(area):
    """An explorer's first slider handle, or its first dropdown when it has no slider."""
    handles = area.locator(".noUi-handle")
    return handles.first if handles.count() else area.locator("select").first


def p95(values):
    return statistics.quantiles(values, n=20)[-1]


def main() -> int:
    from labdriver import Notebook, chromium, find_chromium, jupyter_lab

    if find_chromium() is None:
        print("skipped: no Chromium on this machine (apt-get install chromium)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_explorers.ipynb"
        explorers = chosen()
        build_notebook(path, explorers)
        with jupyter_lab(folders=("notebooks",)) as (base, root), chromium() as browser:
            (root / "notebooks" / path.name).write_bytes(path.read_bytes())
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            nb = Notebook(page, base, f"notebooks/{path.name}")
            nb.run_all()
            if nb.errors():
                print("errors while setting up:", nb.errors())
                return 1
            page.evaluate(JS_STAMP_KEYDOWN)
            page.wait_for_timeout(3000)
            cells = nb.panel.locator(".jp-CodeCell")
            rows = []
            for i, cls in enumerate(explorers):
                print(f"measuring {cls}", file=sys.stderr, flush=True)
                fast_area, naive_area = cells.nth(2 * i + 1), cells.nth(2 * i + 2)
                fast_area.scroll_into_view_if_needed()
                fast = measure(page, main_control(fast_area), JS_ARM_FAST, fast_area.locator(".widget-image").first)
                naive_area.scroll_into_view_if_needed()
                slow = measure(page, main_control(naive_area), JS_ARM_NAIVE, naive_area)
                rows.append((cls, fast, slow))
    print(f"key press to figure on screen, {MOVES} moves each (ms)")
    print(f"{'explorer':22s} {'median':>8s} {'p95':>8s}   {'naive median':>12s} {'naive p95':>10s}   {'ratio':>6s}  target")
    for cls, fast, slow in rows:
        ok = statistics.median(fast) < 100 and p95(fast) < 200
        print(f"{cls:22s} {statistics.median(fast):8.0f} {p95(fast):8.0f}   {statistics.median(slow):12.0f} "
              f"{p95(slow):10.0f}   {statistics.median(slow) / statistics.median(fast):5.1f}x  "
              f"{'met' if ok else 'MISSED'}")
    print(json.dumps({cls: {"fast_ms": fast, "naive_ms": slow} for cls, fast, slow in rows}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
