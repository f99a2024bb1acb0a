"""intake: pre-check of driving-licence dossiers before they are submitted to ANTS."""

import os

# Tesseract's OpenMP threads fight each other on small machines; parallelism comes from pieces.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

__version__ = "0.1.0"
