"""intake: pre-check of driving-licence dossiers before they are submitted to ANTS."""

import os

# One core per piece: parallelism comes from reading several pages and pieces at once (threads of
# `intake check`, worker processes on Redis), never from the libraries' own thread pools, which only
# fight each other. Tesseract's OpenMP, OpenCV's and OpenBLAS's pools are sized before they load:
# a worker process that quietly borrowed a second core for OpenCV read 23 % faster alone and
# lost it all as soon as a second process ran beside it.
THREAD_POOL_VARIABLES = ("OMP_THREAD_LIMIT", "OPENCV_FOR_THREADS_NUM", "OPENBLAS_NUM_THREADS")
for _pool in THREAD_POOL_VARIABLES:
    os.environ.setdefault(_pool, "1")
del _pool

__version__ = "0.1.0"
