"""What a kind's reader is given: the page being filled and what the cheap pass already read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from intake.documents import PageRead
from intake.extractors.dates import DateCandidate
from intake.extractors.ocr.page_text import PageText


@dataclass
class PageContext:
    """One page during its reading. A reader fills `page` (fields, side, findings, evidence) and may
    read more of `text` (bands read on demand); it never decides the kind, the page reader did."""

    page: PageRead
    text: PageText
    image: np.ndarray
    #: dates found in the text read so far (a reader that reads more finds them again)
    dates: list[DateCandidate]
    #: the page's 2D-Docs of an address type, already decoded and verified
    address_codes: list
    #: the page is a card (ID-1 format), read as sparse text
    card: bool
