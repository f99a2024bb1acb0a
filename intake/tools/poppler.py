"""poppler: `pdfinfo` (structure of a PDF) and `pdftoppm` (its pages as images), each with a timeout.

A hostile PDF cannot hold a worker: every call is killed at its timeout. Rendered pages are written
in this process's private folder (`intake.tools.private_tmp`, 0700, files 0600), never /tmp, and
removed by the caller once loaded. pdf2image would run `pdfinfo` again before each rendering: the
caller already has the page count, so `pdftoppm` is called directly.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "poppler-utils"
PROGRAMS = ("pdfinfo", "pdftoppm")


class PopplerTimeout(RuntimeError):
    """A poppler program did not answer within its timeout."""


class PopplerError(RuntimeError):
    """A poppler program failed; `stderr` is poppler's own diagnostics (never page content)."""

    def __init__(self, message: str, stderr: str = ""):
        super().__init__(message)
        self.stderr = stderr


@dataclass(frozen=True)
class Info:
    returncode: int
    stdout: str
    stderr: str


def _exe(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise PopplerError(f"le programme {name} est introuvable (paquet {PACKAGE})")
    return exe


def pdfinfo(path: Path, last_page: int, timeout: float) -> Info:
    """`pdfinfo -f 1 -l last_page`: the page count and the sizes of the first pages."""
    cmd = [_exe("pdfinfo"), "-f", "1", "-l", str(last_page), str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise PopplerTimeout("pdfinfo") from None
    return Info(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


_PAGE_FILE = re.compile(r"-(\d+)\.p[gp]m$")


def render(path: Path, first: int, last: int, dpi: int, out_dir: Path, timeout: float,
           gray: bool = True) -> dict[int, Path]:
    """Pages `first`..`last` (1-based) rendered by ONE `pdftoppm` call into `out_dir`, as PGM (gray)
    or PPM: {page: file}. Plain PNM, because encoding PNG would cost more than the rendering."""
    prefix = out_dir / "page"
    cmd = [_exe("pdftoppm"), "-r", str(dpi), "-f", str(first), "-l", str(last)]
    if gray:
        cmd.append("-gray")
    cmd += [str(path), str(prefix)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, umask=0o077)
    except subprocess.TimeoutExpired:
        raise PopplerTimeout("pdftoppm") from None
    files = {}
    for file in out_dir.glob("page-*.p?m"):
        found = _PAGE_FILE.search(file.name)
        if found:
            files[int(found.group(1))] = file
    if proc.returncode != 0 and not files:
        raise PopplerError("pdftoppm", proc.stderr.decode("utf-8", "replace")[-300:])
    return files


def missing_requirements() -> list[tuple[str, list[str]]]:
    """(French description, Debian packages) of the poppler programs that are not installed."""
    lacking = [name for name in PROGRAMS if shutil.which(name) is None]
    if lacking:
        return [(f"les programmes poppler {', '.join(lacking)}", [PACKAGE])]
    return []


def probe():
    from intake.tools.base import Probe

    version = ""
    exe = shutil.which("pdftoppm")
    if exe:
        try:
            proc = subprocess.run([exe, "-v"], capture_output=True, timeout=10)
            text = (proc.stderr or proc.stdout).decode("utf-8", "replace")
            found = re.search(r"version\s+([\d.]+)", text)
            version = found.group(1) if found else "?"
        except (subprocess.TimeoutExpired, OSError):
            version = "?"
    problems = missing_requirements()
    details = {name: shutil.which(name) or "introuvable" for name in PROGRAMS}
    return Probe(name="poppler", found=not problems, version=version, details=details,
                 missing=[text for text, _ in problems], install=[PACKAGE] if problems else [])
