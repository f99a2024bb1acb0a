"""`intake eval` scoring on hand-made results: the figures a release decision rests on."""

from __future__ import annotations

import io
import json
from pathlib import Path

from intake.evaluation import field_matches, run_eval, score_dossier, summarise

EXPECTED_INCOMPLETE = {
    "case": "jdc_missing", "status": "incomplete", "missing_requirements": ["assr", "jdc"],
    "blocking_codes": ["missing_piece"], "codes": ["missing_piece"], "degradation": "clean",
    "tolerated_missing": [],
    "pieces": [
        {"file": "a.pdf", "page": 1, "kind": "identity_card", "holder": "applicant",
         "fields": {"document_number": "X4RTBPFW4", "surname": "LE GALL-DUPRÉ", "given_names": ["JEAN", "PIERRE"],
                    "birth_date": "2005-04-12", "expiry_date": "2031-05-01", "issue_date": "2021-05-02",
                    "mrz_format": "td1", "sex": "M"}},
        {"file": "b.jpg", "page": 1, "kind": "proof_of_address", "holder": "applicant",
         "fields": {"issue_date": "2026-03-12", "holder_name": "M. JEAN LE GALL-DUPRÉ", "postcode": "75011",
                    "issuer": "Lumen Énergie"}},
    ],
}
EXPECTED_COMPLETE = dict(EXPECTED_INCOMPLETE, case="complete", status="complete", missing_requirements=[],
                         blocking_codes=[], codes=[], degradation="phone")


def _result(status: str, missing: list[str], pieces: list[dict] | None = None, codes: list[str] = ()) -> dict:
    findings = [{"code": "missing_piece", "severity": "blocking", "requirement": r, "file": None, "message": "x"}
                for r in missing]
    findings += [{"code": c, "severity": "review", "requirement": None, "file": None, "message": "x"} for c in codes]
    return {"reference": "T", "status": status, "pieces": pieces or [], "findings": findings}


def _perfect_pieces() -> list[dict]:
    return [
        {"file": "a.pdf", "page": 1, "kind": "identity_card", "holder": "applicant", "confidence": 0.9,
         "fields": {"document_number": "X4RTBPFW4", "surname": "LE GALL DUPRE", "given_names": ["JEAN", "PIERRE"],
                    "birth_date": "2005-04-12", "expiry_date": "2031-05-01", "mrz_format": "td1"}},
        {"file": "b.jpg", "page": 1, "kind": "proof_of_address", "holder": "applicant", "confidence": 0.9,
         "fields": {"issue_date": "2026-03-12", "holder_name": "LE GALL-DUPRE JEAN", "postcode": "75011"}},
    ]


def test_right_verdict_and_fields_score_full_marks():
    # Given a result that says what expected.json says
    score = score_dossier("d1", EXPECTED_INCOMPLETE, _result("incomplete", ["jdc", "assr"], _perfect_pieces()), 2.0)
    # Then verdict, recall, kinds and every key field count as right
    assert score.verdict_right and not score.false_complete
    assert score.missing_found == ["assr", "jdc"] and not score.missing_spurious
    assert (score.pieces, score.kinds_right) == (2, 2)
    # key fields: 6 of the ID (issue date not scored when the expiry is there) + 3 of the bill
    assert (score.fields, score.fields_right) == (9, 9)


def test_complete_when_incomplete_is_a_false_complete():
    score = score_dossier("d1", EXPECTED_INCOMPLETE, _result("complete", [], _perfect_pieces()), 1.0)
    assert score.false_complete and not score.verdict_right
    report = summarise("c", [score])
    assert report.overall.false_complete == 1 and [s.dossier for s in report.false_complete] == ["d1"]


def test_needs_review_when_incomplete_is_wrong_but_not_false_complete():
    score = score_dossier("d1", EXPECTED_INCOMPLETE, _result("needs_review", ["jdc"]), 1.0)
    assert not score.verdict_right and not score.false_complete


def test_missing_requirement_recall_counts_each_requirement():
    # Given two expected missing requirements, one reported, plus one reported that is not missing
    score = score_dossier("d1", EXPECTED_INCOMPLETE, _result("incomplete", ["jdc", "photo_code"]), 1.0)
    report = summarise("c", [score])
    # Then recall is 1 of 2 and the wrong one is counted as spurious
    assert report.overall.missing_recall == 0.5
    assert score.missing_spurious == ["photo_code"] and report.overall.missing_spurious == 1


def test_an_unmet_requirement_reported_by_its_piece_blocking_finding_counts_as_found():
    # Given a dossier whose JDC is expected missing, and a result that blocks on the JDC piece it has
    # (a certificate for the wrong person or training names the requirement it fails)
    expected = dict(EXPECTED_INCOMPLETE, missing_requirements=["jdc"])
    result = _result("incomplete", [])
    result["findings"].append({"code": "holder_mismatch", "severity": "blocking", "requirement": "jdc",
                               "file": "c.pdf", "message": "x"})
    score = score_dossier("d1", expected, result, 1.0)
    # Then the requirement counts as reported, and nothing as spurious
    assert score.missing_found == ["jdc"] and score.missing_spurious == []
    # But a finding that only asks for a review does not report it
    result["findings"][-1]["severity"] = "review"
    assert score_dossier("d1", expected, result, 1.0).missing_found == []


def test_tolerated_missing_requirement_is_not_spurious():
    expected = dict(EXPECTED_INCOMPLETE, missing_requirements=[], tolerated_missing=["proof_of_address"],
                    codes=["proof_of_address_name_mismatch"])
    score = score_dossier("d1", expected, _result("incomplete", ["proof_of_address"]), 1.0)
    assert score.missing_spurious == [] and score.verdict_right


def test_piece_found_on_another_page_still_matches_by_kind():
    pieces = _perfect_pieces()
    pieces[0]["page"] = 2  # the pipeline reported the card from its back page
    score = score_dossier("d1", EXPECTED_INCOMPLETE, _result("incomplete", ["jdc", "assr"], pieces), 1.0)
    assert score.kinds_right == 2


def test_wrong_kind_loses_the_kind_and_its_fields():
    pieces = _perfect_pieces()
    pieces[1]["kind"] = "unknown"
    score = score_dossier("d1", EXPECTED_INCOMPLETE, _result("incomplete", ["jdc", "assr"], pieces), 1.0)
    assert score.kinds_right == 1 and score.kind_misses == ["proof_of_address->unknown"]
    assert score.fields_right == 6
    assert "proof_of_address.issue_date" in score.field_misses


def test_absent_piece_and_crash_are_counted_not_fatal():
    score = score_dossier("d1", EXPECTED_INCOMPLETE, None, 0.5, error="RuntimeError: boom")
    assert score.status == "error" and not score.false_complete and score.kinds_right == 0
    assert summarise("c", [score]).overall.errors == 1


def test_field_comparison_rules():
    # Names fold accents and separators; an MRZ-truncated surname still counts when long enough
    assert field_matches("surname", "LE GALL-DUPRÉ", "LE GALL DUPRE")
    assert field_matches("surname", "MONTMORENCY-LAVAL DE SAINT-EXUPÉRY", "MONTMORENCY LAVAL DE SA")
    assert not field_matches("surname", "MONTMORENCY-LAVAL DE SAINT-EXUPÉRY", "MONT")
    assert not field_matches("surname", "DUPONT", "DUPOND")
    # Holder names ignore titles and order
    assert field_matches("holder_name", "M. JEAN LE GALL-DUPRÉ", "LE GALL DUPRE JEAN")
    assert field_matches("holder_name", "MME CHLOÉ N'DIAYE", "NDIAYE CHLOE")
    assert not field_matches("holder_name", "MME CHLOÉ N'DIAYE", "CHLOE MARTIN")
    # Dates exactly; codes without spaces; categories as sets
    assert not field_matches("issue_date", "2026-03-12", "2026-03-27")
    assert field_matches("code", "AB12CD34EF56GH78IJ90KL", "AB12 CD34 EF56 GH78 IJ90 KL")
    assert field_matches("categories", ["B", "AM"], ["AM", "B"])
    assert not field_matches("issue_date", "2026-03-12", None)
    assert field_matches("two_d_doc", {"type": "01", "signature_valid": False},
                         {"type": "01", "signature_valid": False, "fields": {}})
    assert not field_matches("two_d_doc", {"type": "01", "signature_valid": False},
                             {"type": "01", "signature_valid": None})


def test_run_eval_prints_the_breakdown_by_degradation(tmp_path):
    # Given a corpus of two dossiers (one clean and incomplete, one photographed and complete)
    for name, expected in (("d1", EXPECTED_INCOMPLETE), ("d2", EXPECTED_COMPLETE)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "dossier.json").write_text("{}")
        (tmp_path / name / "expected.json").write_text(json.dumps(expected))
    results = {"d1": _result("complete", [], _perfect_pieces()), "d2": _result("complete", [], _perfect_pieces())}

    def fake_pipeline(folder: str):
        return folder, results[Path(folder).name], 3.0, None

    # When evaluated (the pipeline replaced by canned results)
    out = io.StringIO()
    report = run_eval(tmp_path, out=out, check=fake_pipeline)
    text = out.getvalue()
    # Then the totals and each degradation's line are right, and the false complete is named
    assert report.overall.dossiers == 2 and report.overall.false_complete == 1
    assert report.overall.verdict_accuracy == 0.5
    assert report.by_degradation["clean"].false_complete == 1
    assert report.by_degradation["phone"].verdict_accuracy == 1.0
    assert report.overall.seconds_per_dossier == 3.0
    assert "FALSE COMPLETE" in text and "d1" in text
    assert any(line.startswith("phone") for line in text.splitlines())
    assert json.loads(json.dumps(report.to_json()))["overall"]["false_complete"] == 1


def test_eval_opens_with_the_false_complete_count_then_the_confusion_matrix(tmp_path):
    # Given three dossiers: one incomplete said complete, one complete said needs_review, one right
    expected = {"d1": EXPECTED_INCOMPLETE, "d2": EXPECTED_COMPLETE, "d3": EXPECTED_COMPLETE}
    for name, exp in expected.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "dossier.json").write_text("{}")
        (tmp_path / name / "expected.json").write_text(json.dumps(exp))
    given = {"d1": "complete", "d2": "needs_review", "d3": "complete"}

    def fake_pipeline(folder: str):
        return folder, _result(given[Path(folder).name], [], _perfect_pieces()), 1.0, None

    # When evaluated
    out = io.StringIO()
    report = run_eval(tmp_path, out=out, check=fake_pipeline)
    lines = out.getvalue().splitlines()
    # Then the very first line is the count of false "complete"
    assert lines[0] == "false complete (said complete, is not): 1"
    # And the matrix gives expected (rows) x given (columns), in the JSON too
    row = next(line for line in lines if line.startswith("incomplete "))
    assert row.split()[1:4] == ["1", "0", "0"]
    row = next(line for line in lines if line.startswith("complete "))
    assert row.split()[1:4] == ["1", "1", "0"]
    matrix = json.loads(json.dumps(report.to_json()))["confusion"]
    assert matrix["complete"]["needs_review"] == 1 and matrix["incomplete"]["complete"] == 1


def test_an_interrupted_eval_resumes_from_the_results_it_kept(tmp_path):
    # Given a corpus of two dossiers and a results folder
    corpus, kept = tmp_path / "corpus", tmp_path / "results"
    for name in ("d1", "d2"):
        (corpus / name).mkdir(parents=True)
        (corpus / name / "dossier.json").write_text("{}")
        (corpus / name / "expected.json").write_text(json.dumps(EXPECTED_COMPLETE))
    calls = []

    def counting_pipeline(folder: str):
        calls.append(Path(folder).name)
        return folder, _result("complete", [], _perfect_pieces()), 2.0, None

    # When the eval runs twice with the same results folder
    first = run_eval(corpus, out=None, check=counting_pipeline, results_dir=kept)
    second = run_eval(corpus, out=None, check=counting_pipeline, results_dir=kept)
    # Then each dossier went through the pipeline once, its result is kept as JSON, and both
    # runs report the same figures
    assert sorted(calls) == ["d1", "d2"]
    assert json.loads((kept / "d1.json").read_text())["result"]["status"] == "complete"
    assert first.overall.verdict_accuracy == second.overall.verdict_accuracy == 1.0


def test_key_fields_are_broken_down_by_kind_rotation_and_capture():
    """Given a family-2 expected piece turned 90 degrees on a phone photo whose postcode was misread,
    when the dossier is scored and summarised, then the kind x rotation and kind x capture tables
    count that piece's key fields in its own cell (the issue's goal is per kind and orientation)."""
    pieces = [dict(p) for p in EXPECTED_INCOMPLETE["pieces"]]
    pieces[1] = dict(pieces[1], degradation={"condition": "phone", "rotation": 90})
    expected = dict(EXPECTED_INCOMPLETE, pieces=pieces)
    got = _perfect_pieces()
    got[1] = dict(got[1], fields=dict(got[1]["fields"], postcode="75O11"))
    report = summarise("c", [score_dossier("d1", expected, _result("incomplete", ["jdc", "assr"], got), 1.0)])
    assert report.by_kind_rotation["proof_of_address"] == {"90": [2, 3]}
    assert report.by_kind_condition["proof_of_address"] == {"phone": [2, 3]}
    # family 1 records no rotation per piece: its pieces fall under "-" and the dossier's degradation
    assert report.by_kind_rotation["identity_card"] == {"-": [6, 6]}
    assert report.by_kind_condition["identity_card"] == {"clean": [6, 6]}
    out = io.StringIO()
    from intake.evaluation import print_kind_table

    print_kind_table("key fields by kind and rotation", report.by_kind_rotation, out)
    assert "2/3" in out.getvalue() and "proof_of_address" in out.getvalue()
