"""The sandboxed kernel, the data-only protocol and the grader-side engine, without nbgrader."""

import math
import time
from pathlib import Path

import numpy as np
import pytest

from scalinglab import chinchilla_fit
from scalinglab.grading import protocol
from scalinglab.grading.engine import Graded, Run, Teacher, grade
from scalinglab.grading.questions import EXERCISES
from scalinglab.grading.sandbox import Kernel, KernelFailed, Limits, SandboxUnavailable, probe

ROOT = Path(__file__).resolve().parents[1]


def _sandbox_or_skip():
    try:
        probe()
    except SandboxUnavailable as exc:
        pytest.skip(f"the sandbox cannot start here: {exc}")


@pytest.fixture
def kernel():
    _sandbox_or_skip()
    k = Kernel(Limits(cell_timeout=5))
    k.start()
    yield k
    k.kill()


def _run(kernel, source):
    return kernel.request({"kind": "run", "source": source, "cell": 1})


# --- protocol -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [None, True, 3, -2.5, "text", [1, [2, "x"]], (1.0, 2.0), {"a": 1, 2: [3]},
                                   np.arange(6.0).reshape(2, 3), np.float32(1.5), np.int64(7)])
def test_values_cross_as_data_and_come_back_equal(value):
    back = protocol.decode(protocol.encode(value))
    if isinstance(value, np.ndarray):
        assert np.array_equal(back, value) and back.shape == value.shape
    else:
        assert back == value


def test_nan_and_inf_survive():
    back = protocol.decode(protocol.encode([math.nan, math.inf, -math.inf]))
    assert math.isnan(back[0]) and back[1:] == [math.inf, -math.inf]


def test_library_records_are_rebuilt_and_anything_else_is_opaque():
    fit = chinchilla_fit("besiroglu2024")
    assert protocol.decode(protocol.encode(fit)) == fit

    class Sneaky:
        def __eq__(self, other):
            return True

        def __float__(self):
            return 1.0
    back = protocol.decode(protocol.encode(Sneaky()))
    assert isinstance(back, protocol.Opaque) and type(back).__name__ == "Sneaky"
    assert back != 1.0 and not hasattr(back, "__float__")
    forged = {"__record__": "scalinglab.grading.engine:Teacher", "fields": {"source": "1/0", "index": 0}}
    assert isinstance(protocol.decode(forged), protocol.Opaque), "grading records are never rebuilt from data"
    assert isinstance(protocol.decode({"__record__": "os:system", "fields": {}}), protocol.Opaque)


def test_oversized_or_malformed_values_are_refused_or_opaque():
    assert isinstance(protocol.decode(protocol.encode("x" * 200_000)), protocol.Opaque)
    assert isinstance(protocol.decode(protocol.encode(list(range(300_000)))), protocol.Opaque)
    deep = []
    for _ in range(50):
        deep = [deep]
    with pytest.raises(protocol.ProtocolError):
        protocol.encode(deep)
    with pytest.raises(protocol.ProtocolError):
        protocol.decode({"__ndarray__": ["1"], "shape": [1]})
    with pytest.raises(protocol.ProtocolError):
        protocol.decode({"__ndarray__": [1, 2], "shape": [3]})
    with pytest.raises(protocol.ProtocolError):
        protocol.decode({"__what__": 1})


# --- the sandbox ----------------------------------------------------------------------------------

def test_the_sandbox_sees_no_course_no_home_no_network(kernel, tmp_path):
    secret = tmp_path / "gradebook.db"
    secret.write_text("secret")
    reply = _run(kernel, f"""
import os, socket
seen = {{p: os.path.exists(p) for p in [{str(secret)!r}, {str(ROOT / 'solutions')!r}, {str(ROOT / 'README.md')!r},
                                        os.path.expanduser('~root'), '/etc/passwd', '/etc/shadow']}}
wrote = []
for p in [{str(tmp_path / 'x')!r}, '/usr/x', {str(ROOT / 'scalinglab' / 'x')!r}]:
    try:
        open(p, 'w').write('x'); wrote.append(p)
    except OSError:
        pass
open('/tmp/mine', 'w').write('fine')
try:
    socket.create_connection(('127.0.0.1', 22), timeout=1); net = True
except OSError:
    net = False
""")
    assert reply["error"] is None, reply
    values = protocol.decode(kernel.request({"kind": "get", "names": ["seen", "wrote", "net"]})["values"]["seen"])
    assert values[str(secret)] is False and values[str(ROOT / "solutions")] is False
    assert values[str(ROOT / "README.md")] is False and values["/etc/shadow"] is False
    rest = kernel.request({"kind": "get", "names": ["wrote", "net"]})["values"]
    assert rest["wrote"] == [] and rest["net"] is False
    assert not (tmp_path / "x").exists()


def test_a_sigint_proof_loop_is_killed_at_its_deadline(kernel):
    with pytest.raises(KernelFailed, match="timed out"):
        _run(kernel, "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")
    assert not kernel.alive


def test_a_fork_bomb_is_capped_where_a_pids_cgroup_can_be_made(kernel):
    if not kernel.cgroup.active:
        pytest.skip("no pids cgroup can be made here; the deadline still ends the sandbox")
    reply = _run(kernel, "import os, time\nn = 0\nfor i in range(5000):\n    try:\n        pid = os.fork()\n"
                         "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n"
                         "    n += 1\nprint(n)")
    assert int(reply["stdout"]) <= Limits().max_tasks


def test_memory_is_limited(kernel):
    reply = _run(kernel, "x = bytearray(8 << 30)")
    assert reply["error"]["ename"] == "MemoryError"


def test_printed_output_is_truncated(kernel):
    reply = _run(kernel, "print('y' * 10_000_000)")
    assert len(reply["stdout"]) < 30_000 and "output truncated" in reply["stdout"]


# --- the engine -----------------------------------------------------------------------------------

def _plan(*answers):
    setup = "from scalinglab import chinchilla_fit, compute_optimal\nfrom scalinglab.grading import checker, variant\n" \
            "check = checker('03_chinchilla')\nV = variant('03_chinchilla')"
    return [Run(setup, 0), Teacher(setup, 0), *answers]


def test_a_function_answer_is_called_with_the_graders_inputs():
    _sandbox_or_skip()
    right = ("def optimal_params(flops, E, A, B, alpha, beta):\n"
             "    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))\n"
             "    return G * (flops / 6) ** (beta / (alpha + beta))")
    hidden = ("check('q2')\nf = chinchilla_fit('hoffmann2022')\n"
              "assert abs(optimal_params(3.3e25, f.E, f.A, f.B, f.alpha, f.beta) / "
              "compute_optimal(3.3e25, fit=f).n_params - 1) < 1e-6")
    report = grade(_plan(Run(right, 1), Graded(hidden, 2, "q2_test", 2)), questions=EXERCISES["03_chinchilla"])
    assert report.earned == 2, report
    # a function that knows only the inputs printed in the exercise fails the grader's own inputs
    lookup = "def optimal_params(flops, *a):\n    return {5.76e23: 6.7e10, 1e21: 2.9e9}.get(flops, 1.0)"
    report = grade(_plan(Run(lookup, 1), Graded(hidden, 2, "q2_test", 2)), questions=EXERCISES["03_chinchilla"])
    assert report.earned == 0


def test_a_hanging_function_costs_only_its_question_and_grading_goes_on():
    _sandbox_or_skip()
    plan = _plan(Run("def optimal_params(*a):\n    while True:\n        pass", 1), Graded("check('q2')", 2, "q2_test", 2),
                 Run("q4_choice = 'c'", 3), Graded("check('q4')", 4, "q4_test", 2))
    report = grade(plan, limits=Limits(cell_timeout=3), questions=EXERCISES["03_chinchilla"])
    assert [t.earned for t in report.tests] == [0, 2], report
    assert any("timed out" in p for p in report.problems)


def test_an_answer_missing_because_its_cell_failed_says_why():
    _sandbox_or_skip()
    plan = _plan(Run("q1_loss = chinchilla_loss(280e9, 300e9, fit='hofman')", 1), Graded("check('q1')", 2, "q1_test", 2))
    report = grade(plan, questions=EXERCISES["03_chinchilla"])
    assert "your answer cell raised NameError" in report.tests[0].message


# --- attacks found by a hostile review --------------------------------------------------------------

def test_a_kernel_that_stops_reading_cannot_block_the_grader(kernel):
    reply = _run(kernel, "import time, scalinglab.grading.protocol as P\nP.receive = lambda fd, deadline=None: time.sleep(1e9)")
    assert reply["error"] is None
    start = time.monotonic()
    with pytest.raises(KernelFailed):
        kernel.request({"kind": "run", "source": "#" + "x" * 2_000_000, "cell": 2}, timeout=3)
    assert time.monotonic() - start < 10


def test_a_reply_nested_too_deeply_is_a_protocol_failure(kernel):
    with pytest.raises(KernelFailed, match="protocol"):    # its own reply is the first one sent this way
        _run(kernel, "import os, struct, scalinglab.grading.protocol as P\n"
                 "def send(fd, message, deadline=None):\n"
                 "    data = b'[' * 200000 + b']' * 200000\n"
                 "    os.write(fd, struct.pack('>Q', len(data)) + data)\n"
                 "P.send = send")
    assert not kernel.alive


def test_dev_is_read_only_and_dev_shm_is_small(kernel):
    reply = _run(kernel, "import os\nfor p in ['/dev/evil', '/dev/shm/big']:\n    try:\n"
                         "        with open(p, 'wb') as f:\n            f.write(b'x' * (64 << 20))\n"
                         "        print('wrote', p)\n    except OSError as e:\n        print('refused', p)")
    assert "wrote" not in reply["stdout"], reply


def test_many_explorers_in_an_answer_do_not_cost_the_grader():
    _sandbox_or_skip()
    plan = _plan(Run("from scalinglab.widgets import PowerLawExplorer\nq1_loss = [PowerLawExplorer()] * 300", 1),
                 Graded("check('q1')", 2, "q1_test", 2))
    start = time.monotonic()
    report = grade(plan, questions=EXERCISES["03_chinchilla"])
    assert report.earned == 0 and time.monotonic() - start < 30


def test_a_learners_exception_does_not_echo_the_graders_hidden_inputs():
    _sandbox_or_skip()
    leaky = ("def optimal_params(flops, E, A, B, alpha, beta):\n"
             "    if flops in V['q2_budgets']:                  # right on the public check's inputs only\n"
             "        G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))\n"
             "        return G * (flops / 6) ** (beta / (alpha + beta))\n"
             "    raise ValueError('HIDDEN INPUTS: %r' % (flops,))")
    hidden = "check('q2')\nf = chinchilla_fit('hoffmann2022')\noptimal_params(3.3e25, f.E, f.A, f.B, f.alpha, f.beta)"
    report = grade(_plan(Run(leaky, 1), Graded(hidden, 2, "q2_test", 2)), questions=EXERCISES["03_chinchilla"])
    assert report.earned == 0
    assert "HIDDEN" not in str(report.tests[0].outputs) and "3.3e" not in str(report.tests[0].outputs)


def test_an_installation_under_tmp_is_still_visible_in_the_sandbox(tmp_path, monkeypatch):
    """A clone or a venv under /tmp is bound after the sandbox's own /tmp, not hidden by it."""
    _sandbox_or_skip()
    import subprocess

    from scalinglab.grading import sandbox
    (tmp_path / "marker.txt").write_text("visible")
    monkeypatch.setattr(sandbox, "bound_paths", lambda: [tmp_path])
    cmd = sandbox.bwrap_command(["/bin/cat", str(tmp_path / "marker.txt")], Limits())
    assert subprocess.run(cmd, capture_output=True, text=True).stdout == "visible"
