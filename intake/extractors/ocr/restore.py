"""Restoration of a rough phone photo of a page: motion blur undone, JPEG blocks smoothed, small print
enlarged, before a second OCR attempt (issue 16).

A page photographed from far with a shaking hand and saved at low JPEG quality has print a few
pixels high smeared along one direction: tesseract reads nothing and the page is not even
classified. Linear motion blur is a box kernel along one direction, whose spectrum has zeros along
that direction at multiples of 1/length: the blur is estimated from the photo's own averaged power
spectrum (`estimate_motion`), then undone by Wiener deconvolution on the photo as taken. A sheet
small in the photo is also read enlarged (`enlarged`).

Pure functions on gray images; the caller decides when a page deserves it (a page read as nothing
and measured rough), since a restored reading costs seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Blur lengths (pixels of the photo) worth undoing: under 3 px tesseract copes; past 25 px there is
#: nothing left of small print to restore.
MIN_LENGTH, MAX_LENGTH = 3, 25
#: Directions tried (degrees, 0 = horizontal, counter-clockwise with the image's y axis down).
ANGLE_STEP = 2.5
#: Tile of the averaged power spectrum (Welch): tiles of plain paper or background are skipped.
TILE = 512
#: How far (log power) the deepest dip must fall under the ring's mean to be a blur's zero.
MIN_DIP = 1.5
#: Noise-to-signal ratio of the Wiener filter: larger is smoother and rings less (JPEG noise).
WIENER_NSR = 0.02
#: The enlarged sheet's long side (pixels) for the second attempt without deblurring: small print
#: of a sheet photographed from far reaches an x-height tesseract reads.
TARGET_LONG_SIDE = 2600
MAX_ZOOM = 2.5
#: Confidence every value read from a restored page keeps at most: the least sure reading there is
#: (under KEY_MIN_CONFIDENCE, so a person looks).
RESTORED_CEILING = 0.4


@dataclass(frozen=True)
class Motion:
    """A linear motion blur: its length in pixels and its direction in degrees."""

    length: float
    angle: float


def estimate_motion(g: np.ndarray) -> Motion | None:
    """The linear motion blur of a gray photo, or None when none is seen.

    A box blur of length L along direction a multiplies the spectrum by a sinc whose first zero is at
    frequency n/L along a, and leaves the perpendicular direction alone. The log power spectrum,
    averaged over tiles with something in them, is read along every direction; the deepest dip under
    the mean of its ring (same frequency, all directions) gives the direction and the length."""
    f = g.astype(np.float32)
    h, w = f.shape
    n = TILE
    if min(h, w) < n:
        return None
    window = np.outer(np.hanning(n), np.hanning(n)).astype(np.float32)
    power = np.zeros((n, n), np.float64)
    count = 0
    for y in range(0, h - n + 1, n // 2):
        for x in range(0, w - n + 1, n // 2):
            t = f[y:y + n, x:x + n]
            if t.std() < 8:
                continue
            power += np.abs(np.fft.fft2((t - t.mean()) * window)) ** 2
            count += 1
    if not count:
        return None
    p = np.fft.fftshift(np.log(power / count + 1e-6)).astype(np.float32)
    c = n // 2
    angles = np.arange(0.0, 180.0, ANGLE_STEP)
    radii = np.arange(n / (MAX_LENGTH + 1), n / (MIN_LENGTH - 0.2), 0.5)
    profiles = np.array([_profile(p, c, radii, a) for a in angles])
    dips = cv2.GaussianBlur(profiles - profiles.mean(axis=0, keepdims=True), (3, 3), 0)
    i, j = np.unravel_index(int(np.argmin(dips)), dips.shape)
    if dips[i, j] > -MIN_DIP:
        return None
    return Motion(float(n / radii[j]), float(angles[i]))


def _profile(p: np.ndarray, c: int, radii: np.ndarray, angle: float) -> np.ndarray:
    a = np.deg2rad(angle)
    xs = (c + radii * np.cos(a)).astype(np.float32)[None]
    ys = (c - radii * np.sin(a)).astype(np.float32)[None]
    return cv2.remap(p, xs, ys, cv2.INTER_LINEAR)[0]


def motion_kernel(length: float, angle: float) -> np.ndarray:
    """A normalised line of `length` pixels at `angle` degrees, centred in an odd square."""
    size = int(np.ceil(length)) | 1
    size += 2
    k = np.zeros((size, size), np.float32)
    c = size // 2
    a = np.deg2rad(angle)
    dx, dy = np.cos(a) * (length - 1) / 2, -np.sin(a) * (length - 1) / 2
    cv2.line(k, (int(round(c * 16 - dx * 16)), int(round(c * 16 - dy * 16))),
             (int(round(c * 16 + dx * 16)), int(round(c * 16 + dy * 16))), 1.0, 1, cv2.LINE_AA, shift=4)
    total = float(k.sum())
    return k / total if total > 0 else k


def wiener(g: np.ndarray, kernel: np.ndarray, nsr: float = WIENER_NSR) -> np.ndarray:
    """Wiener deconvolution of a gray image by `kernel` (float result, same size)."""
    f = g.astype(np.float32)
    h, w = f.shape
    pad = kernel.shape[0] * 2
    # Edges reflected so the circular convolution of the FFT does not ring at the borders.
    f = cv2.copyMakeBorder(f, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    H, W = f.shape
    psf = np.zeros((H, W), np.float32)
    kh, kw = kernel.shape
    psf[:kh, :kw] = kernel
    psf = np.roll(psf, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    K = np.fft.rfft2(psf)
    F = np.fft.rfft2(f)
    out = np.fft.irfft2(F * np.conj(K) / (np.abs(K) ** 2 + nsr), s=(H, W))
    return out[pad:pad + h, pad:pad + w].astype(np.float32)


def deblurred(g: np.ndarray) -> np.ndarray | None:
    """A rough photo with its motion blur undone (same size, print stretched to black on white),
    or None when no motion blur is seen. Done on the photo as taken: the blur is the same all over
    it there, not after the sheet is flattened."""
    motion = estimate_motion(g)
    if motion is None:
        return None
    return _stretch(wiener(g, motion_kernel(motion.length, motion.angle)))


def enlarged(g: np.ndarray) -> np.ndarray | None:
    """A small sheet enlarged so its print reaches a size tesseract reads, JPEG blocks smoothed;
    None when the sheet is large already."""
    h, w = g.shape[:2]
    zoom = min(MAX_ZOOM, TARGET_LONG_SIDE / max(h, w))
    if zoom < 1.3:
        return None
    big = cv2.resize(g, (int(w * zoom), int(h * zoom)), interpolation=cv2.INTER_CUBIC)
    return _stretch(big.astype(np.float32))


def _stretch(f: np.ndarray) -> np.ndarray:
    """Paper to white, print to black: the 2nd and 98th percentiles spread over the full range
    (ringing beyond them clipped)."""
    lo, hi = np.percentile(f, (2, 98))
    if hi - lo < 1:
        return np.clip(f, 0, 255).astype(np.uint8)
    return np.clip((f - lo) * 255.0 / (hi - lo), 0, 255).astype(np.uint8)
