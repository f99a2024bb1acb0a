"""intake: pre-check of driving-licence dossiers before they are submitted to ANTS."""

import os

# One core per piece: parallelism comes from reading several pages and pieces at once (threads of
# `intake check`, worker processes on Redis), never from the libraries' own thread pools, which only
# fight each other. Tesseract's OpenMP, OpenCV's and OpenBLAS's pools are sized before they load:
# a worker process that quietly borrowed a second core for OpenCV read 23 % faster alone and
# lost it all as soon as a second process ran beside it.
THREAD_POOL_VARIABLES = ("OMP_THREAD_LIMIT", "OPENCV_FOR_THREADS_NUM", "OPENBLAS_NUM_THREADS")


def single_threaded_pools(environ: dict | None = None) -> None:
    """Size those pools to one thread, unless told otherwise. Called by the entry points (the
    `intake` command, the worker processes, the test suite) before numpy, OpenCV or tesseract load;
    importing intake changes no environment variable."""
    env = os.environ if environ is None else environ
    for name in THREAD_POOL_VARIABLES:
        env.setdefault(name, "1")


__version__ = "0.1.0"
