"""Which option of a form is ticked, from the ink in the box before each option's word (issue 16).

A medical opinion prints its verdict as boxes: "[X] Apte", "[ ] Apte temporaire", "[ ] Inapte".
On a photo or a page turned a quarter turn, tesseract reads the ticked box as anything ("À",
"Q", nothing at all) and the empty ones as "[]" or nothing, so the text alone cannot say which
is ticked. The page is upright by then and the option words are read: the box is the square
just left of each word, and a ticked box holds more ink than an empty one (its outline plus the
cross). An option is taken only when the three options are read, its box holds clearly more ink
than the others, and those two hold about the same (both empty).

Pure functions on a gray image and OCR words (text, left, top, width, height)."""

from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np

from intake.extractors.dates import fold_text

#: The box before an option's word: this many word heights to its left, with this margin of its
#: height above and below.
BOX_REACH = 3.0
BOX_MARGIN = 0.35
#: The ticked box holds at least this share of its window more ink than the fullest other box,
#: and this many times its ink (an outline alone fills about a tenth of the window; a cross adds
#: 0.065 to 0.09 on the tuning seeds' scans, exports and phone photos)...
TICK_EXCESS = 0.05
TICK_RATIO = 1.3
#: ...while the empty boxes hold about the same ink: their difference at most this share of the
#: ticked box's excess (on a shaded photo an empty box may look as full as a ticked one).
EMPTY_SPREAD = 0.5
#: Word confidence (0..100) under which an option's word is not trusted to be the option.
WORD_MIN_CONF = 40


def options(words: Sequence[Any]) -> list[tuple[str, Any]]:
    """(option, word) of the medical verdict's options read on the page: "apte", "temporaire" (an
    "Apte" followed by "temporaire" on its line) and "inapte", each kept once."""
    found: list[tuple[str, Any]] = []
    for i, w in enumerate(words):
        text = re.sub(r"[^a-z]", "", fold_text(str(getattr(w, "text", ""))).lower())
        if text not in ("apte", "inapte") or float(getattr(w, "conf", 0)) < WORD_MIN_CONF:
            continue
        option = text
        if text == "apte":
            after = [v for v in words[i + 1:i + 3] if abs(v.top - w.top) < w.height]
            if any("tempor" in fold_text(str(v.text)).lower() for v in after):
                option = "temporaire"
        if any(abs(k.left - w.left) < w.height and abs(k.top - w.top) < w.height for _, k in found):
            continue  # the same word read twice (two bands overlapping)
        found.append((option, w))
    return found


def box_ink(image: np.ndarray, word: Any) -> float:
    """Share of dark pixels in the square left of `word` (where a form prints its box)."""
    h = int(word.height)
    if h <= 0:
        return 0.0
    y0 = max(0, int(word.top - BOX_MARGIN * h))
    y1 = min(image.shape[0], int(word.top + h + BOX_MARGIN * h))
    x1 = max(0, int(word.left - 0.15 * h))
    x0 = max(0, int(word.left - BOX_REACH * h))
    part = image[y0:y1, x0:x1]
    if part.size == 0:
        return 0.0
    paper = float(np.percentile(part, 90))
    return float(np.count_nonzero(part < paper - 60)) / part.size


def ticked(image: np.ndarray, words: Sequence[Any]) -> str | None:
    """The option whose box is clearly the only one ticked; None unless the three options are read
    once each, one box stands out and the two others look alike (both empty)."""
    found = options(words)
    if sorted(o for o, _ in found) != ["apte", "inapte", "temporaire"]:
        return None
    inks = sorted(((box_ink(image, w), o) for o, w in found), reverse=True)
    (best, option), (second, _), (third, _) = inks
    excess = best - second
    if excess >= TICK_EXCESS and best >= TICK_RATIO * second and second - third <= EMPTY_SPREAD * excess:
        return option
    return None
