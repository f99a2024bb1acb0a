"""Arrays that are slow to build and never change between runs (glyph templates rendered from a
font), kept on disk in the data folder's `cache/` so each new process loads them instead.

The file name carries a digest of what the arrays are built from (the module that builds them, the
font files, the library versions): any change gives another name, so a stale cache is never read.
A cache that cannot be read or written only costs the rebuild.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np


def cache_path(name: str, sources: Iterable[Path]) -> Path:
    """Where the arrays called `name`, built from `sources` (files), are kept."""
    import cv2
    import PIL

    from intake.settings import get_settings

    digest = hashlib.sha256(name.encode())
    for path in sources:
        try:
            st = os.stat(path)
            digest.update(f"{path}:{st.st_size}:{st.st_mtime_ns}".encode())
        except OSError:
            digest.update(f"{path}:-".encode())
    digest.update(f"{PIL.__version__}:{cv2.__version__}:{np.__version__}".encode())
    return get_settings().data_dir / "cache" / f"{name}-{digest.hexdigest()[:20]}.npz"


def load(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):  # missing, cut short, foreign
        return None


def store(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Written atomically: several workers may start at once."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cache-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass


def cached_arrays(name: str, sources: Iterable[Path],
                  build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays from the cache file, or built (and stored for the next process)."""
    path = cache_path(name, sources)
    arrays = load(path)
    if arrays is None:
        arrays = build()
        store(path, arrays)
    return arrays
