"""Start child processes that cannot outlive their parent.

Each child gets its own process group (so Ctrl-C reaches only the runner, which stops
children in order) and, on Linux, a parent-death signal: if the runner is killed
outright, the kernel sends SIGTERM to its children, so no broker is ever orphaned.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import IO, Any

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    os.setsid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(
    args: Sequence[str], out: IO[bytes] | int | None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Popen ``args`` in a new process group that dies with this process."""
    kwargs: dict[str, Any] = {"stdout": out, "stderr": subprocess.STDOUT, "env": env}
    return subprocess.Popen(list(args), preexec_fn=_die_with_parent, **kwargs)


def stop(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> int:
    """SIGTERM the child's process group, SIGKILL it after ``timeout``; return its code."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            proc.wait()
    return int(proc.returncode)
