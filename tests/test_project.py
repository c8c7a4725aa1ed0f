"""The project's own promises: two commands, the conda environment, stored notebooks."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _requirement_names(requirements):
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def _environment_yml_names():
    names = set()
    for line in (ROOT / "environment.yml").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or not stripped.startswith("- "):
            continue
        entry = stripped[2:].strip()
        if entry == "pip:":
            continue
        names.add(re.split(r"[<>=!~ ]", entry, maxsplit=1)[0].lower())
    return names


def test_environment_yml_lists_every_dependency():
    requires = metadata.requires("scalinglab") or []
    runtime = _requirement_names(r for r in requires if "extra ==" not in r)
    test = _requirement_names(r for r in requires if 'extra == "test"' in r)
    conda = _environment_yml_names()
    assert runtime, "pyproject.toml lists no runtime dependencies?"
    assert runtime <= conda, f"environment.yml misses runtime dependencies {runtime - conda}"
    assert test <= conda, f"environment.yml misses test dependencies {test - conda}"
    assert "-e ." in (ROOT / "environment.yml").read_text()


def test_readme_gives_the_two_commands_and_the_conda_path():
    readme = (ROOT / "README.md").read_text()
    for text in ("make lab", "make test", "environment.yml", "notebooks/", "scalinglab/", "exercises/",
                 "solutions/"):
        assert text in readme


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert any(p.name.startswith("00_") for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_stored_from_one_clean_run(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name}: a stored error"
            assert "execution" not in cell.get("metadata", {}), f"{path.name}: timing metadata is not deterministic"
        text = json.dumps(cell.get("outputs", []))
        assert not re.search(r"at 0x[0-9a-f]{6,}", text), f"{path.name}: a memory address in an output"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_make_lab_starts_a_server(tmp_path):
    port, token = _free_port(), "scalinglab-test"
    args = f"--no-browser --port {port} --ServerApp.port_retries=0 --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token}"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path)}
    proc = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_ARGS={args}"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, status = time.monotonic() + 120, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as r:
                    status = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.5)
        assert status is not None, f"no answer from /api/status; make lab said:\n{_drain(proc)}"
        assert "started" in status
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _drain(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    return proc.communicate(timeout=20)[0].decode(errors="replace")[-3000:]


def test_the_wheel_a_hub_installs_has_no_solutions_and_no_answer_letters(tmp_path):
    """docs/teaching.md: a hub installs a wheel; it must carry no solutions, hidden tests or answer keys."""
    import ast
    import zipfile

    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT),
                           "-w", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    wheel = next(tmp_path.glob("scalinglab-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        texts = {n: zf.read(n).decode("utf-8", "replace") for n in names if n.endswith(".py")}
    assert "scalinglab/grading/questions/q03_chinchilla.py" in names
    assert not [n for n in names if n.startswith(("solutions/", "exercises/", "notebooks/", "tests/"))]
    assert not [n for n in names if n.endswith(".ipynb")]
    for name, text in texts.items():
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, name
        # a multiple-choice check knows the options only: the key is in the hidden tests, on the grader's side
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "expect_choice":
                assert len(node.args) == 3 and not node.keywords, (name, ast.dump(node))
