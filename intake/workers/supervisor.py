"""`intake worker`'s master: one Dramatiq process per slot, a dead one replaced, and the outbox sweeper.

Dramatiq's own master stops its whole pool when one worker process dies (and nothing starts it
again). Here each slot is its own `dramatiq --processes 1` master, so a worker process killed (an
OOM kill, a crash in a C library) takes only its slot down, which is started again within a second
or two; its unfinished messages come back to the queue on the Redis heartbeat (see
`intake.workers.broker`). The loop also runs the outbox sweeper (`intake.workers.outbox.sweep`).

For the whole `intake worker` itself, deploy/intake-worker.service restarts it (Restart=always).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

#: A slot that dies sooner than this after its start counts as crashing: its restarts back off.
QUICK_EXIT_S = 10.0
MAX_BACKOFF_S = 30.0
#: Dramatiq's exit code for an import error or bad arguments: restarting cannot help.
RET_IMPORT = 2


def _load_prctl():
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None


#: Loaded in the parent: the child, forked from a process with threads, only calls it.
_PRCTL = _load_prctl()


def _die_with_parent() -> None:
    """In the child before exec: receive SIGTERM if `intake worker` dies (Linux), never be orphaned."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Slot:
    index: int
    cmd: list[str]
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    started: float = 0.0
    failures: int = 0
    next_start: float = 0.0
    restarts: int = field(default=0)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, env=self.env, preexec_fn=_die_with_parent)
        self.started = time.monotonic()


def temp_dir(data_dir: Path) -> Path:
    """This host's temporary folder for the workers (OCR inputs), under the data folder, 0700.

    Emptied at every start: what a killed worker left (a page image handed to tesseract) does
    not stay behind. Per host, since the data folder may be shared by several.
    """
    folder = data_dir / "tmp" / f"{socket.gethostname()}-workers"
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    return folder


def supervise(cmds: list[list[str]], envs: list[dict[str, str]], sweep_interval: float,
              sweep=None, heartbeat=None) -> int:
    """Run one process per command, replace any that dies, sweep the outbox; until SIGTERM/SIGINT."""
    slots = [Slot(i, cmd, env) for i, (cmd, env) in enumerate(zip(cmds, envs))]
    stopping = {"signal": None}

    def on_signal(signum, _frame):
        stopping["signal"] = signum

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    for slot in slots:
        slot.start()
    # The sweeper has its own thread: a slow database or Redis never delays replacing a process.
    sweeping = threading.Event()
    threading.Thread(target=_sweep_loop, args=(sweeping, sweep_interval, (heartbeat, sweep)),
                     name="intake-sweeper", daemon=True).start()
    code = 0
    while stopping["signal"] is None:
        now = time.monotonic()
        for slot in slots:
            if slot.proc is not None:
                exit_code = slot.proc.poll()
                if exit_code is None:
                    continue
                quick = now - slot.started < QUICK_EXIT_S
                slot.failures = slot.failures + 1 if quick else 0
                if exit_code == RET_IMPORT and quick:
                    print(f"intake worker : le processus {slot.index} ne peut pas démarrer (code {exit_code}) ; "
                          "arrêt", file=sys.stderr, flush=True)
                    stopping["signal"] = signal.SIGTERM
                    code = exit_code
                    break
                delay = min(MAX_BACKOFF_S, 0.5 * 2 ** slot.failures) if slot.failures else 0.2
                print(f"intake worker : processus {slot.index} arrêté (code {exit_code}) ; relancé dans "
                      f"{delay:.1f} s", file=sys.stderr, flush=True)
                slot.proc, slot.next_start = None, now + delay
            elif now >= slot.next_start:
                slot.start()
                slot.restarts += 1
        time.sleep(0.2)
    sweeping.set()
    _stop_all(slots, stopping["signal"] or signal.SIGTERM)
    return code


def _sweep_loop(stop: threading.Event, interval: float, tasks) -> None:
    while not stop.wait(interval):
        for task in tasks:
            if task is None:
                continue
            try:
                task()
            except Exception as exc:  # noqa: BLE001 - database or Redis away: next time
                log.warning("sweeper: %s", type(exc).__name__)


def _stop_all(slots: list[Slot], signum: int, timeout: float = 30.0) -> None:
    """Pass the signal on (Dramatiq finishes or requeues what it holds), then wait; SIGKILL the late."""
    if signum in (signal.SIGINT, signal.SIGHUP):
        signum = signal.SIGTERM
    running = [s.proc for s in slots if s.proc is not None and s.proc.poll() is None]
    for proc in running:
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    for proc in running:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
