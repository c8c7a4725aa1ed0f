"""A submission's kernel in a bubblewrap sandbox: no network, a read-only system, a scratch area of its own.

:class:`Kernel` starts ``python -m scalinglab.grading.runner`` inside
``bwrap`` (Debian's ``bubblewrap``, the sandbox Flatpak uses). The sandbox
sees the operating system's libraries, the Python installation and the
``scalinglab`` package, all read-only, plus an empty ``/tmp`` of its own;
nothing else of the machine: no course directory, no gradebook, no other
student's files, no home directory, no network. It runs as an unprivileged
user with every capability dropped, in its own process, PID and IPC
namespaces, and dies with the grader. Each request has a deadline; past it
the whole sandbox is killed (SIGKILL of its process group and PID
namespace), so a loop that ignores SIGINT costs only its own cell.

Where the sandbox cannot start, :func:`probe` says why, and grading
refuses unless the explicit opt-out ``allow_unsandboxed`` is set.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import protocol

OPT_OUT = "c.SandboxedGrade.allow_unsandboxed = True"


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot start here; the message says why and names the opt-out."""


class KernelFailed(RuntimeError):
    """The submission's process died, hung past its deadline, or broke the protocol."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Times in seconds, sizes in bytes."""

    cell_timeout: float = 30.0        # one cell, or one call of a learner's function
    submission_timeout: float = 300.0  # everything one submission runs, restarts included
    memory: int = 4 << 30             # address space of the kernel process
    scratch: int = 256 << 20          # size of its writable /tmp
    startup_timeout: float = 60.0     # for the kernel to import numpy, matplotlib and scalinglab
    max_tasks: int = 256              # processes and threads, where a pids cgroup can be made


def _package_dir() -> Path:
    return Path(__file__).resolve().parents[1]


def bound_paths() -> list[Path]:
    """The directories the sandbox sees read-only, beside the system's /usr."""
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(sys.exec_prefix).resolve(),
             _package_dir()}
    return sorted(p for p in paths if not str(p).startswith("/usr/"))


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        path = Path(top)
        if path.is_symlink():
            args += ["--symlink", os.readlink(top), top]
        elif path.is_dir():
            args += ["--ro-bind", top, top]
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "fonts"):
        if Path("/etc", name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    return args


def bwrap_command(argv: list[str], limits: Limits, *, user_namespace: bool = True, env: dict | None = None) -> list[str]:
    """The ``bwrap`` command line that runs ``argv`` sandboxed."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap is not installed (Debian: apt-get install bubblewrap)")
    cmd = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
           "--hostname", "sandbox", "--clearenv"]
    if user_namespace:
        cmd += ["--unshare-user", "--uid", "65534", "--gid", "65534"]
    # the scratch areas first: binds below /tmp (a course or a clone there) are then mounted over them
    cmd += ["--size", str(limits.scratch), "--tmpfs", "/tmp", "--dir", "/tmp/work", "--dir", "/tmp/home"]
    cmd += _system_binds()
    for path in bound_paths():
        cmd += ["--ro-bind", str(path), str(path)]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--size", str(16 << 20), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
            "--chdir", "/tmp/work"]
    for key, value in {**_environment(), **(env or {})}.items():
        cmd += ["--setenv", key, value]
    return cmd + ["--", *argv]


def _environment() -> dict:
    env = {"HOME": "/tmp/home", "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "MPLBACKEND": "Agg",
           "MPLCONFIGDIR": "/tmp/home/mpl", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "LANG": "C.UTF-8"}
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):   # some processors need these for a correct BLAS
        if key in os.environ:
            env[key] = os.environ[key]
    return env


@functools.lru_cache(maxsize=None)
def probe() -> tuple[bool, str]:
    """Whether the sandbox starts here, and how: (user namespace?, "") or raise SandboxUnavailable."""
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable("bubblewrap is not installed (Debian: apt-get install bubblewrap). "
                                 f"To grade without a sandbox anyway, set  {OPT_OUT}  in nbgrader_config.py.")
    errors = []
    for user_namespace in (True, False):
        cmd = bwrap_command([sys.executable, "-c", "import scalinglab.grading.runner"], Limits(),
                            user_namespace=user_namespace)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode == 0:
            return user_namespace, ""
        errors.append(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
    raise SandboxUnavailable(
        "the bubblewrap sandbox cannot start on this machine (" + "; ".join(errors) + "). It needs user "
        "namespaces or root (in a container: run it with --privileged or allow unprivileged user namespaces). "
        f"To grade without a sandbox anyway, set  {OPT_OUT}  in nbgrader_config.py.")


class ProcessLimit:
    """Best effort: cgroups that cap one sandbox's processes and threads (fork bombs) and its total memory.

    Where the grader may create cgroups (root with cgroup v1's ``pids`` and ``memory`` hierarchies, or a
    cgroup v2 tree with those controllers enabled), the sandbox starts inside fresh ones with ``pids.max``
    and a memory limit that also counts its ``/tmp``; elsewhere :attr:`active` is False and only the
    per-process limits apply. The time limit ends everything in the sandbox either way.
    """

    def __init__(self, max_tasks: int, memory: int):
        self.paths = []
        name = f"scalinglab-{os.getpid()}-{secrets.token_hex(4)}"
        v2 = Path("/sys/fs/cgroup")
        controllers = _read(v2 / "cgroup.subtree_control").split()
        if (v2 / "cgroup.procs").exists() and "pids" in controllers:
            self._make(v2 / name, {"pids.max": max_tasks, **({"memory.max": memory} if "memory" in controllers else {})})
        else:
            self._make(v2 / "pids" / name, {"pids.max": max_tasks})
            self._make(v2 / "memory" / name, {"memory.limit_in_bytes": memory})

    def _make(self, path: Path, settings: dict) -> None:
        if not (path.parent / "cgroup.procs").exists():
            return
        try:
            path.mkdir()
        except OSError:
            return
        try:
            for key, value in settings.items():
                (path / key).write_text(str(value))
        except OSError:
            path.rmdir()
            return
        self.paths.append(path)

    @property
    def active(self) -> bool:
        return bool(self.paths)

    def enter(self) -> None:
        """Move the calling process into the cgroups (run in the child before it starts the sandbox)."""
        for path in self.paths:
            (path / "cgroup.procs").write_text(str(os.getpid()))

    def remove(self) -> None:
        for path in self.paths:
            for _ in range(100):
                try:
                    path.rmdir()
                    break
                except OSError:   # its last processes are still exiting
                    time.sleep(0.02)
        self.paths = []


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


class Kernel:
    """One submission's process: run cells, read values, call functions; each with a deadline."""

    def __init__(self, limits: Limits = Limits(), *, sandboxed: bool = True, env: dict | None = None):
        self.limits, self.sandboxed, self.env = limits, sandboxed, dict(env or {})
        self.process = None
        self.user_namespace = probe()[0] if sandboxed else False
        self.stderr_tail = b""

    # -- life cycle --

    def start(self) -> None:
        to_kernel_r, to_kernel_w = os.pipe()
        from_kernel_r, from_kernel_w = os.pipe()
        argv = [sys.executable, "-m", "scalinglab.grading.runner", str(to_kernel_r), str(from_kernel_w),
                str(self.limits.memory), str(self.limits.scratch)]
        if self.sandboxed:
            argv = bwrap_command(argv, self.limits, user_namespace=self.user_namespace, env=self.env)
            env = None
        else:
            from .variants import IDENTITY

            hidden = {name for name, _ in IDENTITY} | {"SCALINGLAB_CHALLENGE_SECRET_FILE", "SCALINGLAB_CHALLENGE_SERVER"}
            env = {k: v for k, v in os.environ.items() if k not in hidden}     # no identity, no challenge secret
            env.update({**_environment(), "HOME": os.environ.get("HOME", "/tmp"), **self.env})
            env.pop("MPLCONFIGDIR", None)
        self.cgroup = ProcessLimit(self.limits.max_tasks, self.limits.memory + self.limits.scratch)
        self.scratch = None if self.sandboxed else tempfile.mkdtemp(prefix="scalinglab-grade-")
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, pass_fds=(to_kernel_r, from_kernel_w),
                                        start_new_session=True, env=env, preexec_fn=self.cgroup.enter,
                                        cwd=self.scratch)
        os.close(to_kernel_r)
        os.close(from_kernel_w)
        os.set_blocking(to_kernel_w, False)   # a kernel that stops reading cannot block the grader
        self._in, self._out = to_kernel_w, from_kernel_r
        threading.Thread(target=self._drain, args=(self.process.stderr,), daemon=True).start()
        try:
            protocol.receive(self._out, time.monotonic() + self.limits.startup_timeout)
        except (TimeoutError, EOFError, protocol.ProtocolError) as exc:
            self.kill()
            detail = self.stderr_tail.decode(errors="replace").strip()[-500:]
            raise KernelFailed(f"the kernel did not start ({exc}){': ' + detail if detail else ''}") from None

    def _drain(self, stream) -> None:
        """Read the process's own error stream so it never blocks; keep its last 4 kB for diagnosis."""
        for chunk in iter(lambda: stream.read(4096), b""):
            self.stderr_tail = (self.stderr_tail + chunk)[-4096:]

    def kill(self) -> None:
        """Kill the sandbox and everything in it."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not wait
            pass
        for fd in (self._in, self._out):
            try:
                os.close(fd)
            except OSError:
                pass
        self.process = None
        self.cgroup.remove()
        if self.scratch is not None:   # the unsandboxed kernel's working folder
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def close(self) -> None:
        if self.process is not None:
            try:
                self.request({"kind": "bye"}, timeout=2)
            except KernelFailed:
                pass
        self.kill()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- requests --

    def request(self, message: dict, timeout: float | None = None) -> dict:
        """Send a request and wait for its reply; on any failure kill the kernel and raise KernelFailed."""
        if not self.alive:
            raise KernelFailed("the kernel is not running")
        nonce = secrets.token_hex(8)
        deadline = time.monotonic() + (self.limits.cell_timeout if timeout is None else timeout)
        try:
            protocol.send(self._in, {**message, "nonce": nonce}, deadline)
            reply = protocol.receive(self._out, deadline)
        except TimeoutError:
            self.kill()
            raise KernelFailed(f"timed out after {self.limits.cell_timeout if timeout is None else timeout:g} s; "
                               "the kernel was stopped") from None
        except (EOFError, BrokenPipeError, OSError):
            code = self.process.poll() if self.process else None
            self.kill()
            raise KernelFailed("the kernel died" + (f" (exit status {code})" if code is not None else "")
                               + ": os._exit, a crash, or over the memory limit") from None
        except (protocol.ProtocolError, RecursionError, MemoryError) as exc:
            self.kill()
            raise KernelFailed(f"the kernel broke the grading protocol ({exc})") from None
        if reply.get("nonce") != nonce:
            self.kill()
            raise KernelFailed("the kernel answered out of turn (something wrote to the grading channel)")
        return reply
