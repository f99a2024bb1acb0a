"""What every tool module shares: the probe's record, the error of a missing tool, and this process's
private folder for temporary files. Imported by each tool module and by `intake.tools`, never the
other way round."""


from __future__ import annotations

import atexit
import os
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path

from intake import errors


class ToolMissing(errors.ToolMissing, RuntimeError):
    """A program, library, language or font intake needs is not installed; the message is French."""


@dataclass
class Probe:
    """What one tool's probe found: its version, what it offers, what is missing and how to install it."""

    name: str
    found: bool
    version: str = ""
    details: dict = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # French: what intake cannot run without
    notes: list[str] = field(default_factory=list)  # French: missing but not blocking (slower, fewer faces)
    install: list[str] = field(default_factory=list)  # Debian packages that bring what is missing

    @property
    def ok(self) -> bool:
        return self.found and not self.missing


# --- private temporary folder ---------------------------------------------------------------------

_PRIVATE: tuple[int, Path] | None = None  # (pid, folder): a forked child makes its own


def _owner_tag() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def private_tmp(data_dir: Path | None = None) -> Path:
    """This process's own folder for temporary files (page images, renders): mode 0700, under
    `<data>/tmp/`, never /tmp. Created on first use; on that first use the folders that dead
    processes of this host left behind (a killed worker) are removed, so page images do not pile up.
    The data folder may be shared by several hosts: only this host's folders are touched."""
    global _PRIVATE
    from intake.settings import get_settings

    root = Path(data_dir or get_settings().data_dir) / "tmp"
    if _PRIVATE is not None and _PRIVATE[0] == os.getpid() and _PRIVATE[1].parent == root and _PRIVATE[1].is_dir():
        return _PRIVATE[1]
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    host = socket.gethostname()
    for entry in root.iterdir():
        name, _, pid = entry.name.rpartition("-")
        if name == host and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
    mine = root / _owner_tag()
    mine.mkdir(mode=0o700, exist_ok=True)
    os.chmod(mine, 0o700)
    _PRIVATE = (os.getpid(), mine)
    atexit.register(shutil.rmtree, mine, True)
    return mine
