"""Parse machine-readable zones: TD1, TD2, TD3 and the French laminated CNI (2x36, not TD2).

OCR gives characters with alternatives; the layout says which positions are digits and which are
letters, and the check digits say which combination of alternatives is right. So parsing is:
pick the format from the shape, restrict every position to its alphabet (O->0 in a date, 0->O in a
name...), then let each check digit choose the cheapest set of substitutions that satisfies it.
ICAO check digits never cover the names; the French laminated CNI's final digit does.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from datetime import date

from intake.icao import check_digit, is_state_code
from intake.validators.dates import add_years
from intake.validators.validity import laminated_cni_issue, laminated_cni_years

log = logging.getLogger(__name__)

FILLER = "<"
DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MRZ_CHARS = DIGITS + LETTERS + FILLER

# Codes of residence permits (titres de séjour) among TD1 cards.
RESIDENCE_PERMIT_CODES = ("IR", "AR", "RT", "TS", "RP", "CR")

# What OCR reads instead of what is printed, by the alphabet a position allows.
_TO_DIGIT = {"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1", "T": "7", "Z": "2",
             "S": "5", "B": "8", "G": "6", "A": "4", "E": "8", "<": "0"}
_TO_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G", "4": "A", "7": "T",
              "3": "B", "9": "P"}
# Cost of a substitution that no OCR alternative proposed (a pure confusion guess).
_GUESS_COST = 1.0


class MrzParseError(ValueError):
    """The lines are not a machine-readable zone of a known format."""


@dataclass
class MrzResult:
    format: str
    kind: str
    fields: dict
    valid: bool
    names_protected: bool
    confidence: float
    lines: list[str]
    rotation: int = 0
    box: tuple[int, int, int, int] | None = None
    issuing_state: str = ""
    checks: dict = field(default_factory=dict)  # check name -> passed (bool); why `valid` is what it is
    #: Other (surname, given names) an unprotected name field may read: one letter swapped for its
    #: close runner-up (see name_readings). Empty when a check digit covers the names.
    name_readings: list = field(default_factory=list)


# --- layouts ---------------------------------------------------------------------------------------
# A field is (name, line, start, end, alphabet). Alphabets: "A" letters+filler, "N" digits,
# "D" digits (dates), "X" letters+digits+filler, "C" check digit (digit or filler), "S" sex.
_LAYOUTS: dict[str, dict] = {
    "td3": {
        "lines": (44, 44),
        "fields": [
            ("code", 0, 0, 2, "A"), ("issuing_state", 0, 2, 5, "A"), ("names", 0, 5, 44, "A"),
            ("number", 1, 0, 9, "X"), ("number_cd", 1, 9, 10, "C"), ("nationality", 1, 10, 13, "A"),
            ("birth", 1, 13, 19, "D"), ("birth_cd", 1, 19, 20, "C"), ("sex", 1, 20, 21, "S"),
            ("expiry", 1, 21, 27, "D"), ("expiry_cd", 1, 27, 28, "C"), ("optional", 1, 28, 42, "X"),
            ("optional_cd", 1, 42, 43, "C"), ("final_cd", 1, 43, 44, "C"),
        ],
        "checks": [
            ("number", [(1, 0, 9)], (1, 9)),
            ("birth", [(1, 13, 19)], (1, 19)),
            ("expiry", [(1, 21, 27)], (1, 27)),
            ("optional", [(1, 28, 42)], (1, 42)),
            ("final", [(1, 0, 10), (1, 13, 20), (1, 21, 43)], (1, 43)),
        ],
    },
    "td2": {
        "lines": (36, 36),
        "fields": [
            ("code", 0, 0, 2, "A"), ("issuing_state", 0, 2, 5, "A"), ("names", 0, 5, 36, "A"),
            ("number", 1, 0, 9, "X"), ("number_cd", 1, 9, 10, "C"), ("nationality", 1, 10, 13, "A"),
            ("birth", 1, 13, 19, "D"), ("birth_cd", 1, 19, 20, "C"), ("sex", 1, 20, 21, "S"),
            ("expiry", 1, 21, 27, "D"), ("expiry_cd", 1, 27, 28, "C"), ("optional", 1, 28, 35, "X"),
            ("final_cd", 1, 35, 36, "C"),
        ],
        "checks": [
            ("number", [(1, 0, 9)], (1, 9)),
            ("birth", [(1, 13, 19)], (1, 19)),
            ("expiry", [(1, 21, 27)], (1, 27)),
            ("final", [(1, 0, 10), (1, 13, 20), (1, 21, 35)], (1, 35)),
        ],
    },
    "td1": {
        "lines": (30, 30, 30),
        "fields": [
            ("code", 0, 0, 2, "A"), ("issuing_state", 0, 2, 5, "A"), ("number", 0, 5, 14, "X"),
            ("number_cd", 0, 14, 15, "C"), ("optional", 0, 15, 30, "X"),
            ("birth", 1, 0, 6, "D"), ("birth_cd", 1, 6, 7, "C"), ("sex", 1, 7, 8, "S"),
            ("expiry", 1, 8, 14, "D"), ("expiry_cd", 1, 14, 15, "C"), ("nationality", 1, 15, 18, "A"),
            ("optional2", 1, 18, 29, "X"), ("final_cd", 1, 29, 30, "C"),
            ("names", 2, 0, 30, "A"),
        ],
        "checks": [
            ("number", [(0, 5, 14)], (0, 14)),
            ("birth", [(1, 0, 6)], (1, 6)),
            ("expiry", [(1, 8, 14)], (1, 14)),
            ("final", [(0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)], (1, 29)),
        ],
    },
    "fr_cni_2x36": {
        "lines": (36, 36),
        "fields": [
            ("code", 0, 0, 2, "A"), ("issuing_state", 0, 2, 5, "A"), ("surname", 0, 5, 30, "A"),
            ("department", 0, 30, 33, "X"), ("office", 0, 33, 36, "X"),
            ("number", 1, 0, 12, "X"), ("number_cd", 1, 12, 13, "C"), ("given", 1, 13, 27, "A"),
            ("birth", 1, 27, 33, "D"), ("birth_cd", 1, 33, 34, "C"), ("sex", 1, 34, 35, "S"),
            ("final_cd", 1, 35, 36, "C"),
        ],
        "checks": [
            ("number", [(1, 0, 12)], (1, 12)),
            ("birth", [(1, 27, 33)], (1, 33)),
            ("final", [(0, 0, 36), (1, 0, 35)], (1, 35)),
        ],
    },
}
# The French card number is YYMM + department (3) + sequence (5): positions that are digits.
_FR_NUMBER_DIGITS = (0, 1, 2, 3, 7, 8, 9, 10, 11)


def _alphabet(kind: str) -> str:
    return {
        "A": LETTERS + FILLER,
        "N": DIGITS,
        "D": DIGITS,
        "X": DIGITS + LETTERS + FILLER,
        "C": DIGITS + FILLER,
        "S": "MFX" + FILLER,
    }[kind]


def _position_alphabets(fmt: str) -> list[list[str]]:
    layout = _LAYOUTS[fmt]
    alphabets = [[MRZ_CHARS] * n for n in layout["lines"]]
    for name, line, start, end, kind in layout["fields"]:
        for i in range(start, end):
            alphabets[line][i] = _alphabet(kind)
    if fmt == "fr_cni_2x36":
        alphabets[0][0:5] = ["I", "D", "F", "R", "A"]
        for i in _FR_NUMBER_DIGITS:
            alphabets[1][i] = DIGITS
    return alphabets


# --- candidates ------------------------------------------------------------------------------------
Candidates = list[tuple[str, float]]  # (character, cost) best first; cost 0 for the first


def _coerce(options: Candidates, allowed: str) -> Candidates:
    """Keep the options a position allows; map the others through the confusion tables."""
    out: dict[str, float] = {}
    for ch, cost in options:
        mapped = ch
        if ch not in allowed:
            mapped = (_TO_DIGIT.get(ch) if allowed[0] in DIGITS else _TO_LETTER.get(ch)) or ""
            if ch == FILLER and FILLER not in allowed and allowed[0] not in DIGITS:
                mapped = ""
            cost += 0.05  # a confusion is slightly less likely than a clean read
        if len(mapped) == 1 and mapped in allowed and (mapped not in out or out[mapped] > cost):
            out[mapped] = cost
    if not out:  # nothing usable: any allowed character, at guess cost
        out = {allowed[0]: _GUESS_COST}
    # Always offer the classic confusions of the best option as guesses.
    best = min(out, key=out.get)
    for alt, cost in _confusions(best, allowed):
        out.setdefault(alt, out[best] + cost)
    ranked = sorted(out.items(), key=lambda kv: kv[1])
    base = ranked[0][1]
    return [(c, cost - base) for c, cost in ranked]


# Look-alike groups with the cost of guessing one member for another (no OCR alternative said so).
_CONFUSABLE = [
    ("0O", 0.3), ("0Q", 0.5), ("0D", 0.5), ("OQ", 0.5), ("OD", 0.6), ("0U", 0.9), ("1I", 0.3),
    ("1L", 0.7), ("1T", 0.9), ("7T", 0.8), ("2Z", 0.4), ("5S", 0.4), ("8B", 0.4), ("3B", 0.9),
    ("8E", 0.9), ("6G", 0.5), ("4A", 0.7), ("<K", 0.5), ("<S", 0.6), ("<Z", 0.6), ("MN", 0.9),
    ("CG", 0.9), ("PR", 0.9), ("VY", 0.9), ("HN", 0.9), ("EF", 0.9), ("UV", 0.9), ("MH", 0.9),
]


def _confusions(ch: str, allowed: str) -> list[tuple[str, float]]:
    out: dict[str, float] = {}
    for pair, cost in _CONFUSABLE:
        if ch in pair:
            other = pair[1] if pair[0] == ch else pair[0]
            if other in allowed and cost < out.get(other, 9.0):
                out[other] = cost
    return sorted(out.items(), key=lambda kv: kv[1])


def _lines_to_candidates(lines: list[str]) -> list[list[Candidates]]:
    return [[[(c, 0.0)] for c in line] for line in lines]


def _normalise_lines(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        if not isinstance(line, str):
            raise MrzParseError("an MRZ line must be text")
        text = "".join(line.split()).upper().replace("«", "<<")
        text = "".join(c if c in MRZ_CHARS else FILLER for c in text)
        if text:
            out.append(text)
    return out


def detect_format(lines: list[str]) -> str:
    """The format of the MRZ from the number and length of its lines (and `IDFRA` for 2x36)."""
    lengths = [len(line) for line in lines]
    if len(lines) == 3 and all(27 <= n <= 33 for n in lengths):
        return "td1"
    if len(lines) == 2:
        if all(41 <= n <= 47 for n in lengths):
            return "td3"
        if all(33 <= n <= 39 for n in lengths):
            head = lines[0][:5]
            score = sum(a == b or b in dict(_confusions(a, MRZ_CHARS)) for a, b in zip("IDFRA", head))
            # the second character must be D (or a look-alike): 'I<FRA' is a French TD2 card
            return "fr_cni_2x36" if score >= 4 and head[1:2] in ("D", "0", "O") else "td2"
    raise MrzParseError(f"no MRZ format has {len(lines)} lines of lengths {lengths}")


def _fit_length(cands: list[Candidates], n: int) -> list[Candidates]:
    """Cut or pad a line to its format's length (a lost or extra filler at the end)."""
    if len(cands) > n:
        return cands[:n]
    return cands + [[(FILLER, 0.5)]] * (n - len(cands))


def parse_mrz(lines: list[str]) -> MrzResult:
    """Parse MRZ text lines (as OCR read them) into an MrzResult; MrzParseError on garbage."""
    if not isinstance(lines, (list, tuple)):
        raise MrzParseError("lines must be a list of strings")
    norm = _normalise_lines(list(lines))
    fmt = detect_format(norm)
    return parse_candidates(_lines_to_candidates(norm), fmt)


def parse_candidates(cands: list[list[Candidates]], fmt: str | None = None) -> MrzResult:
    """Parse per-position OCR candidates; the check digits choose among them."""
    if fmt is None:
        fmt = detect_format(["".join(opts[0][0] if opts else FILLER for opts in line) for line in cands])
    layout = _LAYOUTS[fmt]
    if len(cands) != len(layout["lines"]):
        raise MrzParseError(f"{fmt} needs {len(layout['lines'])} lines")
    cands = [_fit_length(line, n) for line, n in zip(cands, layout["lines"])]
    alphabets = _position_alphabets(fmt)
    grid = [[_coerce(opts or [(FILLER, 0.0)], alphabets[li][i]) for i, opts in enumerate(line)]
            for li, line in enumerate(cands)]
    chosen = [[opts[0][0] for opts in line] for line in grid]
    _repair_names(fmt, chosen, grid)
    _repair_states(fmt, chosen, grid)
    checks = _solve_checks(fmt, chosen, grid)
    text = ["".join(line) for line in chosen]
    return _build_result(fmt, text, checks, grid)


# --- check-digit driven choice ---------------------------------------------------------------------
_MAX_CHANGES = 2
_MAX_OPTIONS = 3
# A check group is only "fixed" by substitutions whose summed cost stays under this: with a
# mod-10 check digit, enough free guesses would make any garbage pass.
_MAX_FIX_COST = 1.0


def _check_passes(chosen: list[list[str]], spans, cd_pos) -> bool:
    data = "".join("".join(chosen[li][s:e]) for li, s, e in spans)
    cd = chosen[cd_pos[0]][cd_pos[1]]
    try:
        expected = check_digit(data)
    except ValueError:
        return False
    if cd == FILLER:  # an empty optional field may carry a filler for its check digit
        return expected == "0" and set(data) <= {FILLER}
    return cd == expected


#: Where a long document number continues (ICAO 9303-5 and -6, note j): (line, number start,
#: number end = its check digit's position, optional data start, optional data end).
_LONG_NUMBER = {"td1": (0, 5, 14, 15, 30), "td2": (1, 0, 9, 28, 35)}


def long_number_extension(fmt: str, chosen: list[list[str]]) -> tuple[int, int] | None:
    """(start, end) of the rest of a document number longer than nine characters in the optional
    data, its own check digit at `end` included; None for an ordinary number. The number's check
    digit position then holds '<', and the rest of the number is followed by the check digit of
    the whole number (computed without the '<') and a filler."""
    where = _LONG_NUMBER.get(fmt)
    if where is None:
        return None
    line, _start, cd, opt_start, opt_end = where
    row = chosen[line]
    if row[cd] != FILLER or row[opt_start] == FILLER:
        return None
    end = opt_start
    while end < opt_end and row[end] != FILLER:
        end += 1
    if end - opt_start < 2 or not row[end - 1].isdigit():
        return None  # at least one more character and a check digit
    return opt_start, end


def _checks(fmt: str, chosen: list[list[str]]) -> list:
    """The layout's check groups; a long document number is checked as a whole."""
    checks = _LAYOUTS[fmt]["checks"]
    extension = long_number_extension(fmt, chosen)
    if extension is None:
        return checks
    line, start, cd, _opt_start, _opt_end = _LONG_NUMBER[fmt]
    ext_start, ext_end = extension
    number = ("number", [(line, start, cd), (line, ext_start, ext_end - 1)], (line, ext_end - 1))
    return [number if name == "number" else (name, spans, cd_pos) for name, spans, cd_pos in checks]


def _solve_checks(fmt: str, chosen: list[list[str]], grid) -> dict[str, bool]:
    """Fix each check group with the cheapest substitutions that make it pass."""
    results: dict[str, bool] = {}
    locked: set[tuple[int, int]] = set()
    for name, spans, cd_pos in _checks(fmt, chosen):
        positions = [(li, i) for li, s, e in spans for i in range(s, e)] + [cd_pos]
        free = [p for p in positions if p not in locked]
        if _check_passes(chosen, spans, cd_pos):
            # passed as read, unless a reading nearly as likely passes too (S and 8, G and 6 weigh
            # the same modulo 10): then the check digit does not tell which one is printed
            results[name] = not _passing_rivals(chosen, grid, free, spans, cd_pos, RIVAL_MARGIN)
        else:
            results[name] = _search(chosen, grid, free, spans, cd_pos)
        if results[name]:
            locked.update(positions)
    return results


#: A digit is changed into another digit to pass a check only when the OCR hesitated between the two
#: (an alternative costing at most this): a digit read clearly is printed, and a check that fails
#: on it is an invalid MRZ (or a misreading elsewhere), not a reason to print another digit. A 5 read
#: clearly, turned into a 6 at 0.81 to pass an expiry's broken check digit, made an invalid MRZ
#: valid with another expiry (family-2 seed 131, the case `mrz_invalid`).
MAX_DIGIT_FIX = 0.5
#: A fix is trusted only when no other set of substitutions passing the same check costs less than
#: this more: a mod-10 check digit is passed by one combination in ten, so on a blurred band where
#: several letters hesitate, two fixes may pass and the check cannot say which one was printed.
AMBIGUITY_MARGIN = 0.2
#: A check passed as read is not trusted when another reading costing less than this passes too
#: (one of its letters nearly as likely as a look-alike of the same weight modulo 10: S and 8).
RIVAL_MARGIN = 0.12


#: Glyphs of OCR-B a blurred photo confuses: a look-alike nearly as likely as the chosen glyph...
LOOKALIKES = frozenset({frozenset(p) for p in ("O0", "D0", "Q0", "I1", "S5", "B8", "Z2", "G6")})
#: ...costing less than this, is a rival on its own terms: two look-alikes that together pass the
#: check as well (O and 0 differ by 24: swapped at weights 7 and 3 they change the sum by 240) make
#: the check unable to say which was printed ('OOX5SBSYF' for '00X5SBSYF', valid, at 0.87).
LOOKALIKE_RIVAL = 0.3


def _passing_rivals(chosen, grid, free, spans, cd_pos, under: float) -> bool:
    """Whether other readings of the free positions (up to _MAX_CHANGES OCR alternatives costing
    less than `under` in all, or look-alikes each costing less than LOOKALIKE_RIVAL) pass the check
    as well as the chosen one."""
    alts = [(cost, (li, i), ch) for li, i in free for ch, cost in grid[li][i][1:_MAX_OPTIONS + 1]
            if cost < under or (cost < LOOKALIKE_RIVAL and frozenset((ch, chosen[li][i])) in LOOKALIKES)]
    for k in range(1, _MAX_CHANGES + 1):
        for combo in itertools.combinations(alts, k):
            poss = [a[1] for a in combo]
            if len(set(poss)) != k:
                continue
            if sum(a[0] for a in combo) >= under and not all(
                    frozenset((ch, chosen[li][i])) in LOOKALIKES for _, (li, i), ch in combo):
                continue
            saved = [chosen[li][i] for li, i in poss]
            for _, (li, i), ch in combo:
                chosen[li][i] = ch
            passes = _check_passes(chosen, spans, cd_pos)
            for (li, i), ch in zip(poss, saved):
                chosen[li][i] = ch
            if passes:
                return True
    return False


def _search(chosen, grid, free, spans, cd_pos) -> bool:
    """Try alternatives at the free positions, up to _MAX_CHANGES changes, and apply the cheapest
    set that makes the check pass, unless another set passes nearly as cheaply (then the check
    does not tell which reading is right, and the group stays failed)."""
    alts = []  # (cost, position, char)
    for li, i in free:
        for ch, cost in grid[li][i][1:_MAX_OPTIONS + 1]:
            if cost > MAX_DIGIT_FIX and ch.isdigit() and chosen[li][i].isdigit():
                continue  # a digit read clearly as another: the check digit cannot say which is printed
            alts.append((cost, (li, i), ch))
    alts.sort(key=lambda a: a[0])
    alts = alts[:40]
    passing: list[tuple[float, list]] = []
    for k in range(1, _MAX_CHANGES + 1):
        for combo in itertools.combinations(alts, k):
            poss = [a[1] for a in combo]
            if len(set(poss)) != k:
                continue
            cost = sum(a[0] for a in combo)
            if cost > _MAX_FIX_COST:
                continue
            saved = [chosen[li][i] for li, i in poss]
            for _, (li, i), ch in combo:
                chosen[li][i] = ch
            if _check_passes(chosen, spans, cd_pos):
                passing.append((cost, list(combo)))
            for (li, i), ch in zip(poss, saved):
                chosen[li][i] = ch
    if not passing:
        return False
    passing.sort(key=lambda p: p[0])
    best_cost, best = passing[0]
    if len(passing) > 1 and passing[1][0] < best_cost + AMBIGUITY_MARGIN:
        log.debug("check digit fix ambiguous: %.2f vs %.2f", best_cost, passing[1][0])
        return False
    for _, (li, i), ch in best:
        chosen[li][i] = ch
    return True


# --- states ----------------------------------------------------------------------------------------
#: Where the issuing state and the nationality lie: (line, start) of each 3-letter code.
_STATE_FIELDS = {
    "td3": [(0, 2), (1, 10)],
    "td2": [(0, 2), (1, 10)],
    "td1": [(0, 2), (1, 15)],
    "fr_cni_2x36": [],
}
#: Summed cost of the alternatives that may turn a state field into an ICAO code: one or two letters
#: a blurred photo confuses (R/H, O/D), never a code made up.
_MAX_STATE_COST = 0.8


def _repair_states(fmt: str, chosen: list[list[str]], grid) -> None:
    """A state field read as no ICAO code becomes the cheapest code its OCR alternatives spell.
    No check digit covers it, but the list of codes is closed (like a check), and what it decides
    is only whether the band is an MRZ at all: the values the rules use stay under their checks."""
    for li, start in _STATE_FIELDS[fmt]:
        if is_state_code("".join(chosen[li][start:start + 3])):
            continue
        options = [grid[li][i][:_MAX_OPTIONS + 1] for i in range(start, start + 3)]
        best: tuple[float, tuple[str, ...]] | None = None
        for combo in itertools.product(*options):
            cost = sum(c for _ch, c in combo)
            code = tuple(ch for ch, _c in combo)
            if cost <= _MAX_STATE_COST and is_state_code("".join(code)) and (best is None or cost < best[0]):
                best = (cost, code)
        if best is not None:
            for offset, ch in enumerate(best[1]):
                chosen[li][start + offset] = ch


# --- names -----------------------------------------------------------------------------------------
_FILLER_LOOKALIKES = set("KSZ")


def _name_spans(fmt: str) -> list[tuple[int, int, int]]:
    return {
        "td3": [(0, 5, 44)],
        "td2": [(0, 5, 36)],
        "td1": [(2, 0, 30)],
        "fr_cni_2x36": [(0, 5, 30), (1, 13, 27)],
    }[fmt]


def _repair_names(fmt: str, chosen: list[list[str]], grid) -> None:
    """Fillers read as K, S or Z: restore them from the structure NAME<<GIVEN<NAMES<<<<."""
    for li, s, e in _name_spans(fmt):
        field_chars = chosen[li][s:e]
        # the laminated CNI's surname field has no '<<' separator, and its given names use '<<'
        # (K and '<' weigh the same modulo 10: no check digit can tell them apart)
        fixed = repair_name_field("".join(field_chars), separator=not (fmt == "fr_cni_2x36" and li == 0))
        for i, (old, new) in enumerate(zip(field_chars, fixed)):
            if old != new:
                chosen[li][s + i] = new
                opts = grid[li][s + i]
                # keep the OCR's own reading as the first alternative, so a check can restore it
                rest = [(c, cost) for c, cost in opts if c != new]
                grid[li][s + i] = [(new, 0.0)] + [(c, max(cost, 0.3)) for c, cost in rest]


def repair_name_field(text: str, separator: bool = True) -> str:
    """Undo fillers read as letters: trailing runs of K/S/Z and a missing '<<' separator."""
    chars = list(text)
    n = len(chars)
    # 1. The trailing filler run: from the end, the run of '<' and look-alikes.
    j = n
    while j > 0 and (chars[j - 1] == FILLER or chars[j - 1] in _FILLER_LOOKALIKES):
        j -= 1
    run = chars[j:]
    if run:
        if FILLER in run:
            first = run.index(FILLER)
            head = run[:first]
            # letters before the first filler stay letters (JONES<<<) unless they repeat one
            # look-alike that also fills the rest of the run (KKKK<<KK)
            tail_letters = {c for c in run[first:] if c != FILLER}
            if head and len(head) >= 3 and set(head) <= tail_letters:
                first = 0
            for i in range(j + first, n):
                chars[i] = FILLER
        else:
            # no filler at all: a run of one repeated look-alike is fillers, except up to two
            # real letters at its start that differ from it (STRAUSSKKKK -> STRAUSS<<<<)
            letter = run[-1]
            k = len(run)
            while k > 0 and run[k - 1] == letter:
                k -= 1
            repeat = len(run) - k
            if letter in "KZ" and repeat >= 2:
                start = j + k
            elif repeat >= 3:  # S: names end in S or SS; keep one
                start = j + k + 1
            else:
                start = n
            for i in range(start, n):
                chars[i] = FILLER
    # 2. The primary/secondary separator: if no '<<' inside the names, a doubled look-alike is it.
    body = "".join(chars).rstrip(FILLER)
    if separator and body:
        # only when no '<<' was read at all (MIKKO<<JUKKA keeps its KK)
        pairs = ("KK", "ZZ", "SS") if FILLER * 2 not in body else ()
        for pair in pairs:  # a doubled K inside a name is a '<<' separator read wrong
            pos = body.find(pair)
            if 0 < pos < len(body) - 2:
                chars[pos] = chars[pos + 1] = FILLER
                break
    return "".join(chars)


#: A name letter whose runner-up glyph scored within this of it could be either: OCR-B's O and D
#: on a blurred phone photo differ by 0.07, while a clear letter's runner-up is 0.3 and more away.
NAME_DOUBT_COST = 0.15
_MAX_NAME_READINGS = 8


def name_readings(fmt: str, text: list[str], grid) -> list[tuple[str, list[str]]]:
    """The other ways the name field may read, each with one doubtful letter replaced by its
    runner-up. No check digit covers the names of TD1, TD2 and TD3 documents, so the reader cannot
    settle such a letter itself; comparing with the declared name can (intake.validators.holders)."""
    if fmt == "fr_cni_2x36":
        return []  # its names are covered by the final check digit
    out: list[tuple[str, list[str]]] = []
    for li, s, e in _name_spans(fmt):
        line = text[li]
        for i in range(s, e):
            if line[i] == FILLER:
                continue
            for alt, cost in grid[li][i][1:3]:
                if cost <= NAME_DOUBT_COST and alt != FILLER:
                    swapped = line[:i] + alt + line[i + 1:]
                    out.append(split_names(swapped[s:e]))
    return out[:_MAX_NAME_READINGS]


def split_names(field_text: str) -> tuple[str, list[str]]:
    """'LE<GALL<DUPRE<<JEAN<PIERRE<<<' -> ('LE GALL DUPRE', ['JEAN', 'PIERRE'])."""
    primary, _, secondary = field_text.partition(FILLER * 2)
    surname = " ".join(t for t in primary.split(FILLER) if t)
    given = [t for t in secondary.split(FILLER) if t]
    return surname, given


# --- dates -----------------------------------------------------------------------------------------
def _today() -> date:
    return date.today()


def _iso(year: int, month: int, day: int) -> str | None:
    if month == 0 or day == 0:  # unknown day or month: keep it visible for the rules (RULES.md)
        if 0 <= month <= 12 and 0 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _yymmdd(text: str) -> tuple[int, int, int] | None:
    if len(text) != 6 or not text.isdigit():
        return None
    return int(text[:2]), int(text[2:4]), int(text[4:6])


def birth_date_iso(text: str, not_after: date | None = None) -> str | None:
    """Birth date: pivot to the past, and never after `not_after` (issue date)."""
    parts = _yymmdd(text)
    if parts is None:
        return None
    yy, mm, dd = parts
    today = _today()
    year = 2000 + yy if yy <= today.year % 100 else 1900 + yy
    limit = min(today, not_after) if not_after else today
    if year > limit.year or (year == limit.year and (mm, dd) > (limit.month, limit.day)):
        year -= 100
    return _iso(year, mm, dd)


def expiry_date_iso(text: str) -> str | None:
    parts = _yymmdd(text)
    if parts is None:
        return None
    yy, mm, dd = parts
    return _iso(2000 + yy, mm, dd)


def laminated_cni_dates(card_number: str, birth_iso: str | None) -> tuple[str | None, str | None]:
    """Issue date and expiry of a laminated CNI, by the rule stated once in `validators.validity`
    (issue month from the card number, 15 or 10 years)."""
    issue = laminated_cni_issue(card_number)
    if issue is None:
        return None, None
    birth = None
    if birth_iso and birth_iso[5:7] != "00":
        try:
            birth = date.fromisoformat(birth_iso) if birth_iso[8:] != "00" else date(
                int(birth_iso[:4]), int(birth_iso[5:7]), 1)
        except ValueError:
            birth = None
    expiry = add_years(issue, laminated_cni_years(issue, birth))
    return issue.isoformat(), expiry.isoformat()


# --- result ----------------------------------------------------------------------------------------
def document_kind(code: str) -> str:
    code = code.replace(FILLER, "")
    if code.startswith("P"):
        return "passport"
    if code[:2] in RESIDENCE_PERMIT_CODES:
        return "residence_permit"
    return "identity_card"


def _slice(text: list[str], line: int, start: int, end: int) -> str:
    return text[line][start:end]


def _build_result(fmt: str, text: list[str], checks: dict[str, bool], grid) -> MrzResult:
    layout = _LAYOUTS[fmt]
    raw = {name: _slice(text, line, s, e) for name, line, s, e, _ in layout["fields"]}
    fields: dict = {"mrz_format": fmt}
    issuing = raw["issuing_state"].replace(FILLER, "")
    if fmt == "fr_cni_2x36":
        surname = " ".join(t for t in raw["surname"].split(FILLER) if t)
        given = [t for t in raw["given"].split(FILLER) if t]
        number = raw["number"]
        birth = birth_date_iso(raw["birth"])
        issue, expiry = laminated_cni_dates(number, birth)
        if issue and birth and birth > issue:  # a birth date after issue is a century earlier
            birth = birth_date_iso(raw["birth"], not_after=date.fromisoformat(issue))
            issue, expiry = laminated_cni_dates(number, birth)
        nationality = "FRA"
        fields["issue_date"] = issue
    else:
        surname, given = split_names(raw["names"])
        number = raw["number"]
        expiry = expiry_date_iso(raw["expiry"])
        birth = birth_date_iso(raw["birth"])
        nationality = raw["nationality"].replace(FILLER, "")
        # Long document numbers continue in the optional data (ICAO 9303-5 and -6, note j)
        extension = long_number_extension(fmt, [list(line) for line in text])
        if extension is not None:
            line = _LONG_NUMBER[fmt][0]
            number = raw["number"] + text[line][extension[0]:extension[1] - 1]
    fields["document_number"] = number.replace(FILLER, "") or None
    fields["surname"] = surname or None
    fields["given_names"] = given or None
    fields["birth_date"] = birth
    sex = raw["sex"]
    fields["sex"] = sex if sex in ("M", "F") else ("X" if sex in ("<", "X") else None)
    fields["nationality"] = nationality or None
    fields["expiry_date"] = expiry
    valid = all(checks.values())
    fields["mrz_valid"] = valid
    fields = {k: v for k, v in fields.items() if v is not None}
    names_protected = fmt == "fr_cni_2x36" and checks.get("final", False)
    # Confidence: the check digits, the OCR's hesitation, and whether a digit covers the names.
    passed = sum(checks.values()) / max(1, len(checks))
    margins = [opts[1][1] if len(opts) > 1 else 1.0 for line in grid for opts in line]
    hesitant = sum(1 for m in margins if m < 0.1) / max(1, len(margins))
    confidence = (0.55 + 0.4 * passed) if valid else 0.5 * passed
    confidence *= 1.0 - 0.5 * hesitant
    if not names_protected:
        confidence *= 0.92  # ICAO check digits do not cover the names
    return MrzResult(
        format=fmt,
        kind=document_kind(raw["code"]),
        fields=fields,
        valid=valid,
        names_protected=names_protected,
        confidence=round(max(0.0, min(1.0, confidence)), 3),
        lines=text,
        issuing_state=issuing,
        checks=checks,
        name_readings=[] if names_protected else name_readings(fmt, text, grid),
    )
