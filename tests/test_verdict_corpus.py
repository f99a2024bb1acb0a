"""The verdict on the fixture corpus's dossier cases, read perfectly: the rules alone, against the
expected verdicts the fixtures derive from RULES.md on their own (fixtures/rules_oracle.py).

Each case's pieces are given to judge() with their true fields (no image, no OCR), plus the file-level
findings the page reader is expected to raise (mrz_invalid, photo_code_invalid, ...). Goal of issue 7:
no false `complete`, and at least 98% of the verdicts right.
"""

from __future__ import annotations

import random
from datetime import date

import pytest
from test_verdict_builders import read_well

from intake.documents import IDENTITY_KINDS, Document, Finding
from intake.dossier import parse_declared
from intake.validators.verdict import judge

dossiers = pytest.importorskip("fixtures.dossiers")

R = date(2026, 11, 26)
SEEDS = (0, 1)
#: Findings raised before judging, by the kind of piece they are about (None: not about a piece).
UPSTREAM = {"mrz_invalid": IDENTITY_KINDS, "photo_code_invalid": ("photo_code",),
            "proof_of_address_signature_invalid": ("proof_of_address",), "unknown_piece": None,
            "duplicate_piece": None, "unsupported_file": None, "unreadable_piece": None}


def _documents(plan) -> tuple[list[Document], list[Finding]]:
    docs = []
    for k, piece in enumerate(plan.pieces):
        s = piece.specimen
        evidence = {}
        if s.kind in IDENTITY_KINDS and getattr(s, "mrz", None):
            evidence = {"issuing_state": s.mrz[0][2:5].replace("<", ""),
                        "names_protected": s.fields.get("mrz_format") == "fr_cni_2x36"}
        # read perfectly: every value with the evidence a reader gives a clean page, but the values
        # hidden on the page (a thumb over the MRZ, correction fluid over a date), which no one reads
        hidden = set(s.fields) if "mrz" in s.hidden else set(s.hidden)
        fields = {k: v for k, v in s.fields.items() if k not in hidden}
        docs.append(read_well(Document(f"piece{k}.png", 1, s.kind, 0.9, fields, evidence=evidence)))
    findings = []
    for code, severity in plan.codes.items():
        if code not in UPSTREAM:
            continue
        kinds = UPSTREAM[code]
        target = next((d for d in docs if kinds and d.kind in kinds), None)
        findings.append(Finding(code, "(lecture)", severity=severity, file=target.file if target else "other.png",
                                page=1))
    return docs, findings


def _verdicts():
    out = []
    for seed in SEEDS:
        for case in dossiers.CASES:
            plan = dossiers.make_plan(case, random.Random(f"{seed}-{case}"), R, f"AE-{seed}")
            docs, findings = _documents(plan)
            v = judge(parse_declared(plan.declared), docs, findings, R)
            out.append((f"{seed}-{case}", v.status, plan.expected()["status"]))
    return out


@pytest.fixture(scope="module")
def verdicts():
    return _verdicts()


def test_no_false_complete_on_the_corpus_cases(verdicts):
    false_complete = [name for name, got, want in verdicts if got == "complete" and want != "complete"]
    assert not false_complete


def test_verdict_accuracy_on_the_corpus_cases_is_at_least_98_percent(verdicts):
    wrong = [(name, got, want) for name, got, want in verdicts if got != want]
    assert len(verdicts) >= 2 * 50
    assert 1 - len(wrong) / len(verdicts) >= 0.98, wrong
