"""Drive the course in a real JupyterLab with Debian's Chromium, through Playwright.

Used by the browser tests (tests/browser/) and the responsiveness benchmark
(benchmarks/bench_explorers.py). JupyterLab runs on loopback with a temporary
copy of the course; Chromium is launched from /usr/bin (Playwright's own
browser download cannot work offline).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

SETTINGS = {  # JupyterLab user settings for a quiet, fully rendered notebook
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    return shutil.which("chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def jupyter_lab(folders=("notebooks", "exercises")):
    """Start JupyterLab on 127.0.0.1 with a temporary copy of the course; yield (base_url, root)."""
    with tempfile.TemporaryDirectory(prefix="scalinglab-lab-") as tmp:
        tmp = Path(tmp)
        root = tmp / "course"
        for folder in folders:
            shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        settings = tmp / "settings"
        for name, value in SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        port = _free_port()
        env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "ws"),
               "JUPYTER_RUNTIME_DIR": str(tmp / "runtime")}
        env.pop("MPLBACKEND", None)
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
               "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
               "--ServerApp.disable_check_xsrf=True", "--LabApp.expose_app_in_browser=True",
               f"--ServerApp.root_dir={root}", "--allow-root"]
        log = open(tmp / "lab.log", "w")
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/api/status", timeout=2):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("JupyterLab did not start:\n" + (tmp / "lab.log").read_text()[-3000:])
                    time.sleep(0.3)
            yield base, root
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            log.close()


@contextmanager
def chromium():
    """A headless Chromium from the system, driven by Playwright; yields a Browser."""
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    if executable is None:
        raise RuntimeError("no Chromium found (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


JS_KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle';
}"""

JS_CELLS = """() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  return nb.widgets.map((w, i) => ({index: i, type: w.model.type, source: w.model.sharedModel.getSource(),
    count: w.model.type === 'code' ? w.model.executionCount : null,
    outputs: w.model.type === 'code' ? w.model.outputs.toJSON() : []}));
}"""


class Notebook:
    """One open notebook in JupyterLab."""

    def __init__(self, page, base: str, path: str):
        self.page = page
        page.goto(f"{base}/lab/tree/{path}?reset")   # ?reset: no tabs restored from an earlier page
        page.wait_for_function(JS_KERNEL_IDLE, timeout=120_000)
        self.panel_id = page.evaluate("window.jupyterapp.shell.currentWidget.id")
        self.panel = page.locator(f"[id='{self.panel_id}']")

    def run_all(self, timeout_s: float = 180) -> list:
        self.page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        return self.wait_until_run(timeout_s)

    def wait_until_run(self, timeout_s: float = 180, indices=None) -> list:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            cells = self.cells()
            code = [c for c in cells if c["type"] == "code" and (indices is None or c["index"] in indices)]
            if all(c["count"] not in (None,) for c in code) and self.page.evaluate(JS_KERNEL_IDLE):
                return cells
            time.sleep(0.25)
        raise TimeoutError("cells did not finish running")

    def cells(self) -> list:
        return self.page.evaluate(JS_CELLS)

    def run_cell(self, index: int, timeout_s: float = 60) -> dict:
        self.page.evaluate(f"""() => {{
            const nb = window.jupyterapp.shell.currentWidget.content;
            nb.activeCellIndex = {index};
            nb.deselectAll();
            return window.jupyterapp.commands.execute('notebook:run-cell');
        }}""")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            cell = self.cells()[index]
            if cell["count"] is not None and self.page.evaluate(JS_KERNEL_IDLE):
                return cell
            time.sleep(0.2)
        raise TimeoutError(f"cell {index} did not finish")

    def set_source(self, index: int, text: str) -> None:
        """Replace a cell's text, as typing or pasting into it would."""
        self.page.evaluate("""([index, text]) => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            nb.widgets[index].model.sharedModel.setSource(text);
        }""", [index, text])

    def errors(self) -> list:
        found = []
        for cell in self.cells():
            for out in cell["outputs"]:
                if out.get("output_type") == "error":
                    found.append((cell["index"], out.get("ename"), out.get("evalue")))
        return found

    def explorers(self):
        """Locators of the explorers: widget boxes that hold an image."""
        return self.panel.locator(".jp-OutputArea-output .widget-vbox:has(> .widget-image)")
