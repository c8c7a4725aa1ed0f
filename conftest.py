"""Fixtures shared by the tests in tests/: fresh student copies, generated once, so no test depends on a learner's files."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent

# Stored notebooks show the self-study variant: a learner's own identity must not change what nbval compares.
for _variable in ("SCALINGLAB_GRADING_STUDENT", "JUPYTERHUB_USER", "SCALINGLAB_STUDENT"):
    os.environ.pop(_variable, None)

# Grading exercise 11 scores against the challenge server's secret, as a teacher's grader would (without one it
# warns and falls back to this computer's self-study secret); the challenge's own tests set their own.
_SECRETS = Path(tempfile.mkdtemp(prefix="scalinglab-test-secret-"))
(_SECRETS / "challenge-secret").write_text("5ca1ab1e" * 8 + "\n")
os.environ.setdefault("SCALINGLAB_CHALLENGE_SECRET_FILE", str(_SECRETS / "challenge-secret"))
os.environ.pop("SCALINGLAB_CHALLENGE_SERVER", None)


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
