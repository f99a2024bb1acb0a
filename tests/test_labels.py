"""The one French catalogue (`intake.labels`): every code a person may read has its words, in every
form a sentence needs, and no other module states them again.

Given the codes of the contract (kinds, holders, severities, finding codes) and of the lifecycles
(dossier, upload and finding states), when a page, a message, the report or the export names one,
then its words come from the catalogue: complete, and stated there only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from intake import documents, labels, state

ROOT = Path(__file__).resolve().parent.parent / "intake"
#: Modules that may state such words for now, and why.
ELSEWHERE = {
    "labels.py": "the catalogue itself",
    "extractors": "what the readers look for on a page (printed titles), not labels shown to a person",
    "twoddoc_types.py": "the one table of 2D-Doc document types, their French names with their other facts",
}


def test_every_code_of_the_contract_and_of_the_lifecycles_has_its_words():
    # Given the codes the check and the lifecycles use, Then each has a label in the catalogue
    assert set(labels.KINDS) == set(documents.KINDS)
    assert set(labels.HOLDERS) == set(documents.HOLDERS)
    assert set(labels.SEVERITIES) == set(documents.SEVERITIES)
    assert set(documents.FINDING_SEVERITY) <= set(labels.CODE)
    assert {s.value for s in state.DossierStatus} <= set(labels.STATUSES)
    assert {s.value for s in state.UploadState} <= set(labels.UPLOAD_STATE)
    assert {s.value for s in state.FindingState} == set(labels.FINDING_STATE)
    # And every form of every row is filled (an empty form would print a hole in a sentence)
    for table in (labels.KINDS, labels.HOLDERS, labels.SEVERITIES, labels.TRAININGS):
        for code, row in table.items():
            assert all(row), (code, row)
    assert all(row.title and row.noun and row.help for row in labels.STATUSES.values())


def test_the_forms_of_a_label_are_columns_of_one_row():
    # Given a kind, Then its title, its form in a sentence and its form with an article are one row
    card = labels.KINDS["identity_card"]
    assert (card.title, card.noun, card.the) == ("Carte d'identité", "carte d'identité", "la carte d'identité")
    assert labels.KIND["proof_of_address"] == "Justificatif de domicile"
    assert labels.HOLDERS["host"] == ("hébergeant", "de l'hébergeant")
    assert labels.SEVERITIES["blocking"] == ("Bloquant", "BLOQUANT")
    assert labels.STATUSES["needs_review"].noun == "à vérifier"


def test_the_pages_the_messages_and_the_report_read_the_same_catalogue():
    # Given the pages' module and the check's messages, When they name a kind, Then it is the catalogue's
    from intake.validators import messages
    from intake.web import labels as page_labels

    assert page_labels.KIND is labels.KIND and page_labels.STATUS is labels.STATUS
    assert page_labels.SEVERITY is labels.SEVERITY and page_labels.CODE is labels.CODE
    assert messages.the_kind("proof_of_address") == "le justificatif de domicile"
    assert messages.the_kind("a_kind_added_later") == "le document"
    assert "le justificatif de domicile" in messages.identity_expiry_unknown("proof_of_address")


def _strings(tree: ast.AST) -> set[str]:
    """The string constants of a module, docstrings left out (they may quote a label as an example)."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return {n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings}


def _catalogue_words() -> set[str]:
    words = set()
    for table in (labels.KINDS, labels.HOLDERS, labels.STATUSES, labels.SEVERITIES, labels.TRAININGS):
        for code, row in table.items():
            words.update(w for w in row if w and w != code)  # "AM" is its own label and its code
    words.update(labels.CODE.values())
    words.update(labels.UPLOAD_STATE.values())
    words.update(labels.FINDING_STATE.values())
    return words


@pytest.mark.parametrize("path", sorted(p for p in ROOT.rglob("*.py")
                                        if not any(part in ELSEWHERE for part in p.relative_to(ROOT).parts)),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_other_module_states_a_label_of_the_catalogue(path):
    # Given a module of intake, Then none of its strings is a label of the catalogue: it imports it
    stated = _strings(ast.parse(path.read_text(encoding="utf-8"))) & _catalogue_words()
    assert not stated, f"{path.relative_to(ROOT)} states {sorted(stated)}: use intake.labels"
