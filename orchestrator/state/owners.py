"""Who holds a lease or an operation claim: a process token that can be checked for life.

A token is ``host/boot/ns/pid/start``: the host name, the kernel's boot id, the PID
namespace, the pid and the process's start time in clock ticks (/proc/<pid>/stat
field 22). A restarted daemon on the same host can tell that a token's process is
gone: another boot, no such pid, or a pid that now belongs to a process started at
another time. Such leases and claims are re-adopted at start (state/claims.py
`readopt_dead`) instead of being waited out.

Only what this process can see is judged: a token of another host, or of another PID
namespace (another container that happens to share the host name), is left alone and
its leases expire as before. Containers get the same speed-up from a stable
REELGATE_WORKER_ID (the Kubernetes manifests set it to the pod name). Where /proc is
missing (macOS), boot, ns and start are "-": only "no such pid" counts as dead there.
"""

from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcessToken", "is_dead", "this_process", "token_for"]

_PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessToken:
    host: str
    boot: str
    ns: str
    pid: int
    start: str

    def __str__(self) -> str:
        return f"{self.host}/{self.boot}/{self.ns}/{self.pid}/{self.start}"

    @classmethod
    def parse(cls, text: str | None) -> ProcessToken | None:
        parts = (text or "").rsplit("/", 4)
        if len(parts) != 5 or not parts[3].isdigit():
            return None
        return cls(parts[0], parts[1], parts[2], int(parts[3]), parts[4])


def _boot_id(proc: Path) -> str:
    try:
        return (proc / "sys/kernel/random/boot_id").read_text().strip()[:8] or "-"
    except OSError:
        return "-"


def _pid_namespace(proc: Path, pid: int) -> str:
    try:
        link = os.readlink(proc / str(pid) / "ns" / "pid")  # "pid:[4026531836]"
    except OSError:
        return "-"
    return "".join(ch for ch in link if ch.isdigit()) or "-"


def _start_ticks(proc: Path, pid: int) -> str | None:
    """The process's start time, or None when there is no such process."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return "-"
    # The command name (field 2) may hold spaces: count from its closing parenthesis.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else "-"


def token_for(pid: int) -> ProcessToken:
    """The token of process `pid` of this host (start "-" when it cannot be read)."""
    if _PROC.is_dir():
        return ProcessToken(
            socket.gethostname(),
            _boot_id(_PROC),
            _pid_namespace(_PROC, pid),
            pid,
            _start_ticks(_PROC, pid) or "-",
        )
    return ProcessToken(socket.gethostname(), "-", "-", pid, "-")


@functools.cache
def this_process() -> ProcessToken:
    return token_for(os.getpid())


def is_dead(token: ProcessToken, *, me: ProcessToken | None = None, proc: Path = _PROC) -> bool:
    """True only when `token` certainly names a process of this host that is gone."""
    me = me or this_process()
    if token.host != me.host:
        return False
    if token == me:
        return False
    if token.boot != "-" and me.boot != "-" and token.boot != me.boot:
        return True  # the host rebooted since
    if token.ns != me.ns:
        return False  # another container's processes: not ours to see
    if proc.is_dir():
        start = _start_ticks(proc, token.pid)
        if start is None:
            return True
        return token.start != "-" and start != "-" and start != token.start
    try:
        os.kill(token.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
