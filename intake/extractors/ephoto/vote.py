"""Glyphs the template matcher cannot tell apart, settled by the sheet's other readings, or left in doubt.

On a blurred phone photo of a bold face, an O matches the D template as well as its own (margins of
0.003 to 0.007, where a clear glyph wins by 0.05 and more). No rule by position can help (codes are
random), so such a glyph is decided only by another reader of the same line (the free reading of
the page, the line read alone by tesseract) naming one of its two best characters. A glyph no
other reader settles leaves the code in doubt: it is reported as read, for a person to check.
"""

from __future__ import annotations

from dataclasses import dataclass

from intake.extractors.ephoto.code import GlyphReading

#: A glyph whose best character beats its runner-up by less than this is ambiguous. Measured on the
#: family-2 tuning corpora (seeds 105, 106): glyphs read wrong won by 0.003 to 0.007; the closest
#: right ones (S over 5, G over 6) by 0.010 to 0.025.
AMBIGUOUS_MARGIN = 0.02


#: A glyph winning by less than this is in doubt when another reader names its runner-up.
CONTESTED_MARGIN = 0.05

#: Pairs tesseract confuses both ways in random codes (the issue's O/0 and I/1): its reading of one
#: of them settles nothing (measured: a Courier O read 0 by both the page and the line reading).
BLIND_PAIRS = ({"O", "0"}, {"I", "1"})


@dataclass(frozen=True)
class Settled:
    code: str
    #: positions of ambiguous glyphs no other reading settled
    unsettled: tuple[int, ...]


def settle(glyphs: GlyphReading, others: list[str], margin: float = AMBIGUOUS_MARGIN,
           zeros: dict[int, bool] | None = None) -> Settled:
    """The glyph reading with each ambiguous glyph decided by the other readings of the line (codes
    of the same length only: another length is another cut of the line, its positions say nothing).
    A glyph is kept when another reading has it, changed to its runner-up when another reading has
    that and none has it, else left as read and counted unsettled.

    An O against a 0 is settled by `zeros` (`code.zero_rings`: the ring's middle, in a face that
    marks its zeros) when given: tesseract confuses the two both ways, its word is no vote there."""
    chars = list(glyphs.chars)
    aligned = [o for o in others if o and len(o) == len(chars)]
    unsettled = []
    for i in glyphs.ambiguous(margin):
        pair = {chars[i], glyphs.second[i]}
        if zeros is not None and i in zeros and pair == {"O", "0"}:
            chars[i] = "0" if zeros[i] else "O"
            continue
        if pair in BLIND_PAIRS:
            unsettled.append(i)  # tesseract cannot vote: left as the glyphs read it, in doubt
            continue
        said = {o[i] for o in aligned}
        if chars[i] in said:
            continue
        if glyphs.second[i] in said:
            chars[i] = glyphs.second[i]
            continue
        unsettled.append(i)
    # A glyph that wins by little, where another reader names its runner-up: in doubt too
    # (a slanted phone photo's 2 read Z by 0.035, read 2 by the line's tesseract reading).
    for i, m in enumerate(glyphs.margins):
        if margin <= m < CONTESTED_MARGIN and i not in unsettled and chars[i] == glyphs.chars[i] \
                and any(o[i] == glyphs.second[i] for o in aligned):
            unsettled.append(i)
    return Settled("".join(chars), tuple(sorted(unsettled)))


#: Characters another reading of the line may give otherwise before the glyph reading is in doubt.
#: Measured on the family-2 tuning seeds (116, 117): a glyph reading that was right differed from
#: the line's tesseract readings of its length at 0 or 1 character outside O/0 and I/1; a line read
#: in a wrong face (a sheared phone photo of a bold mono face matched by a bold sans, 0.83) at 5 and 6.
CONTRADICTED_AT = 3


def contradicts(code: str, other: str) -> bool:
    """Whether another reading of the line, of the same length, gives other characters than
    `code` at CONTRADICTED_AT positions or more (O/0 and I/1 not counted: tesseract confuses them
    in random codes). A glyph reading so contradicted fits its face badly however well its glyphs
    match one by one: the code is then in doubt, for a person to check."""
    if not other or len(other) != len(code):
        return False
    differ = sum(1 for a, b in zip(code, other) if a != b and {a, b} not in BLIND_PAIRS)
    return differ >= CONTRADICTED_AT
