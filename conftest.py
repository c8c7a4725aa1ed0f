"""Fixtures shared by the tests in tests/: fresh student copies, generated once, so no test depends on a learner's files."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent

# Stored notebooks show the self-study variant: a learner's own identity must not change what nbval compares.
for _variable in ("SCALINGLAB_GRADING_STUDENT", "JUPYTERHUB_USER", "SCALINGLAB_STUDENT"):
    os.environ.pop(_variable, None)


@pytest.fixture(scope="session")
def released(tmp_path_factory):
    """Folder of student copies freshly generated from solutions/ by nbgrader (what `make exercises` writes)."""
    if not (Path(sys.executable).parent / "nbgrader").exists():
        pytest.skip("nbgrader is not installed (pip install -e '.[classroom]')")
    out = tmp_path_factory.mktemp("released")
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--out", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


try:   # the nbgrader plug-ins need the classroom extra; without it, their module is not imported for doctests
    import nbgrader  # noqa: F401
except ImportError:
    collect_ignore = ["scalinglab/grading/nbgrader_plugins.py"]
