"""The holder's name on a certificate: given names under a misread label, and names that are not
sure enough to count (issue 16, fail-safe).

On a phone photo the labels of a form are misread as often as the values ("Prénom(s)" read
"Prenons)" or "Pr6nom(s)"): the given names under such a label are lost and the holder is read as
the surname alone, with the confidence of a clean surname. Worse, when a value is too pale to be
read (a glare over it), the words around it are taken for it ("IN NÉ E LE": the end of the
surname and the next label). Here:

- `complete_given`: given names after a label that is "prénom(s)" give or take two letters, when
  the holder read has none;
- `doubtful`: the names that read like something else than a name (a label's word in them, a
  letter alone, a particle or a word of two letters they end on (a name cut short: "ZO" for
  "ZOÉ"), a title misread before them, a surname with no given name where the form prints
  both), whose confidence the reader then keeps under the key-field threshold."""

from __future__ import annotations

import re

from intake.extractors.dates import fold_text
from intake.extractors.fields import lines_of
from intake.validators.names import edit_distance_at_most_one

#: Words of a form's labels and phrasing that are never a person's name.
LABEL_WORDS = frozenset({"NE", "NEE", "NOM", "NOMS", "PRENOM", "PRENOMS", "NAISSANCE", "DATE", "USAGE",
                         "SIGNATURE", "FAIT", "CERTIFIE", "ATTESTE", "SOUSSIGNE", "SOUSSIGNEE", "DOMICILIE",
                         "DEMEURANT", "TITULAIRE", "CANDIDAT", "OBTENU", "CATEGORIE", "CATEGORIES"})
#: Particles a surname may hold but never ends on ("DE LA FONTAINE" cut after "DE LA").
PARTICLES = frozenset({"DE", "DU", "LA", "LE", "DES", "D", "L", "VAN", "VON", "DI", "DA", "DOS", "EL", "AL", "BEN"})
#: Titles before a name: a first word one letter away from one of these is a title misread
#: ("Mie" for "Mme"), not a name.
TITLES = ("MME", "MLLE", "MELLE", "MR", "MM")
#: The given names' label, as printed.
_GIVEN_LABEL = "prenoms"
#: A value that may be given names: words of letters (a hyphen or an apostrophe inside), each
#: starting with a capital.
_GIVEN_VALUE = re.compile(r"^[A-ZÀ-Þ][A-Za-zÀ-ÿ'’\-]+(?:\s+[A-ZÀ-Þ][A-Za-zÀ-ÿ'’\-]+){0,3}$")
#: The surname's label ("Nom", "Nom de naissance", "Nom d'usage"), its value after it.
_SURNAME_LINE = re.compile(r"^\s*(?:1\.\s*)?nom(?: de naiss?\w*| d'usage| de famille| patronymique)?\s*:?\s*(.+)$")


def _distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _tokens(name: str) -> list[str]:
    """The name's words, folded, an apostrophe's parts kept together (D'ALMEIDA is one word)."""
    return [t for t in re.split(r"[^A-Z]+", re.sub(r"['’]", "", fold_text(name).upper())) if t]


def given_after_label(text: str) -> str | None:
    """The value of the first line whose label is "prénom(s)" within two letters (its brackets,
    colon and case aside), when that value reads as given names."""
    for line in lines_of(text):
        m = re.match(r"^\s*(?:2\.\s*)?(\S+?)(?:\s*[(\[{]?\s*s?\s*[)\]}]?)?\s*[:;.]?\s+(.+)$", line)
        if not m:
            continue
        label = re.sub(r"[^a-z]", "", fold_text(m.group(1)).lower())
        if not label.startswith("p") or not 5 <= len(label) <= 9 or _distance(label, _GIVEN_LABEL) > 2:
            continue
        value = m.group(2).strip(" :;.|")
        if _GIVEN_VALUE.fullmatch(value) and not set(_tokens(value)) & LABEL_WORDS:
            return value
        return None
    return None


def surname_alone(holder: str, text: str) -> bool:
    """The holder is the value of the surname's label alone (the form prints given names too)."""
    wanted = _tokens(holder)
    for line in lines_of(text):
        m = _SURNAME_LINE.match(fold_text(line).lower())
        if m and _tokens(m.group(1)) == wanted:
            return True
    return False


def complete_given(fields: dict, text: str) -> None:
    """The holder's given names read under a misread label, when the holder read is its surname
    alone."""
    holder = fields.get("holder_name")
    if not holder or not surname_alone(holder, text):
        return
    given = given_after_label(text)
    if given and not set(_tokens(given)) & set(_tokens(holder)):
        fields["holder_name"] = f"{holder} {given.upper()}"


def _title_like(word: str) -> bool:
    return len(word) <= 4 and any(edit_distance_at_most_one(word, title) for title in TITLES)


def doubtful(fields: dict, text: str) -> list[str]:
    """The name fields read that do not read like a whole name."""
    out = []
    for name in ("holder_name", "host_name", "hosted_name"):
        value = fields.get(name)
        if not value:
            continue
        tokens = _tokens(value)
        letters = sum(len(t) for t in tokens)
        if not tokens or letters < 4 or set(tokens) & LABEL_WORDS or any(len(t) == 1 for t in tokens) \
                or tokens[-1] in PARTICLES or len(tokens[-1]) <= 2 or _title_like(tokens[0]):
            out.append(name)
        elif name == "holder_name" and surname_alone(value, text):
            out.append(name)
    return out


def first_words_differ(one: str | None, other: str | None) -> bool:
    """Two readings of the holder (the page's blocks, its geometric lines) begin with another word:
    one of them lost or cut a part of the surname ("M" and "ÉNARD" for "MÉNARD", where the line's
    first letter fell on the overlap of two bands)."""
    a, b = _tokens(one or ""), _tokens(other or "")
    if not (a and b) or a[0] == b[0]:
        return False
    # a surname cut in two by one reading ("GU ÉRIN" for "GUÉRIN") lost nothing
    return not ("".join(a[:2]) == b[0] or "".join(b[:2]) == a[0])


def surname_of_line(line: str) -> str | None:
    """The surname a line read alone gives: its words after the surname's label (or the whole line
    when it has none), the label's words and a lone letter aside. None when no such word."""
    m = _SURNAME_LINE.match(fold_text(line).lower())
    value = line[len(line) - len(m.group(1)):] if m else line
    words = [w for w in _tokens(value) if w not in LABEL_WORDS and w not in TITLES and len(w) >= 2]
    return words[0] if words else None


def reread_settles(holder: str, reread: str) -> tuple[bool, str | None]:
    """What the surname's line read again alone says of the holder read: (it gives the same first
    word, the holder with its first word as the second reading gives it when that is the first
    read with a letter lost before or after it). Else (False, None): a person reads the name."""
    first = surname_of_line(reread)
    words = holder.split()
    if first is None or not words:
        return False, None
    read = _tokens(words[0])
    if read and read[0] == first:
        return True, None
    if read and len(first) > len(read[0]) and (first.endswith(read[0]) or first.startswith(read[0])) \
            and len(first) - len(read[0]) <= 2:
        fixed = _restore_marks(first, words[0])
        return False, " ".join([fixed] + words[1:])
    return False, None


def _restore_marks(folded: str, printed: str) -> str:
    """The second reading's word (folded) with the accented letters the first reading printed
    kept where the two share them ("MENARD" with "ÉNARD" -> "MÉNARD")."""
    plain = fold_text(printed).upper()
    at = folded.find(plain)
    if at < 0 or len(plain) != len(printed):
        return folded
    return folded[:at] + printed.upper() + folded[at + len(plain):]
