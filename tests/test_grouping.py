"""Pages of a file into pieces (card faces joined, one piece per document of a PDF) and duplicates."""

from intake.documents import Finding, PageRead
from intake.grouping import duplicate_findings, group_pages


def _front(n, **kw):
    return PageRead(page=n, kind="identity_card", confidence=0.8, side="front", fields={"surname": "DUPONT"}, **kw)


def _back(n, number="X4RTBPFW4"):
    return PageRead(page=n, kind="identity_card", confidence=0.97, side="back", link=number,
                    fields={"document_number": number, "surname": "DUPONT", "birth_date": "2005-04-12",
                            "mrz_valid": True, "mrz_format": "td1"},
                    evidence={"names_protected": True, "issuing_state": "FRA"})


def test_card_front_and_back_are_one_piece_with_the_mrz_fields():
    # Given a 2-page file: the front of a CNI (no MRZ) and its back (MRZ)
    docs, findings = group_pages("cni.pdf", [_front(1), _back(2)])
    # Then one identity piece on page 1 covering both pages, with the MRZ's fields and evidence
    assert len(docs) == 1 and findings == []
    (doc,) = docs
    assert (doc.kind, doc.page, doc.pages) == ("identity_card", 1, [1, 2])
    assert doc.fields["document_number"] == "X4RTBPFW4" and doc.fields["mrz_valid"] is True
    assert doc.evidence["names_protected"] is True and doc.evidence["issuing_state"] == "FRA"


def test_multi_document_pdf_gives_one_piece_per_document_each_with_its_page():
    pages = [
        _back(1),
        PageRead(page=2, kind="proof_of_address", confidence=0.99, fields={"issue_date": "2026-03-12", "holder_name": "JEAN DUPONT"}),
        PageRead(page=3, kind="proof_of_address", confidence=0.9, fields={}),  # the bill's second page
        PageRead(page=4, kind="assr", confidence=0.99, fields={"holder_name": "DUPONT JEAN"}),
        PageRead(page=5, kind="photo_code", confidence=0.99, fields={"code": "7K3P9QX2ZT4M8R5VN6WB1C"}),
    ]
    docs, findings = group_pages("dossier.pdf", pages)
    assert [(d.kind, d.page, d.pages) for d in docs] == [
        ("identity_card", 1, [1]), ("proof_of_address", 2, [2, 3]), ("assr", 4, [4]), ("photo_code", 5, [5])]
    assert findings == []


def test_two_bills_in_one_file_stay_two_pieces():
    pages = [PageRead(page=1, kind="proof_of_address", fields={"issue_date": "2026-03-12"}),
             PageRead(page=2, kind="proof_of_address", fields={"issue_date": "2026-01-10"})]
    docs, _ = group_pages("bills.pdf", pages)
    assert [d.page for d in docs] == [1, 2]


def test_two_card_fronts_are_two_cards():
    docs, _ = group_pages("cards.pdf", [_front(1), _front(2)])
    assert len(docs) == 2


def test_unreadable_and_unknown_pages_are_findings_not_pieces():
    pages = [PageRead(page=1, unreadable="image trop floue"), PageRead(page=2, kind="unknown", confidence=0.1),
             _back(3)]
    docs, findings = group_pages("scan.pdf", pages)
    assert [d.page for d in docs] == [3]
    codes = [(f.code, f.page, f.file) for f in findings]
    assert codes == [("unreadable_piece", 1, "scan.pdf"), ("unknown_piece", 2, "scan.pdf")]
    assert "trop floue" in findings[0].message and findings[0].severity == "review"


def test_page_findings_are_passed_on_with_their_file():
    page = _back(1)
    page.findings.append(Finding("mrz_invalid", "La bande MRZ ...", page=1))
    _, findings = group_pages("id.jpg", [page])
    assert [(f.code, f.file, f.page) for f in findings] == [("mrz_invalid", "id.jpg", 1)]


def test_same_bytes_uploaded_twice_is_a_duplicate():
    a, _ = group_pages("a.jpg", [_back(1)])
    b, _ = group_pages("b.jpg", [_back(1)])
    findings = duplicate_findings(a + b, {"a.jpg": "f00d", "b.jpg": "f00d"})
    assert [(f.code, f.file, f.severity) for f in findings] == [("duplicate_piece", "b.jpg", "info")]


def test_same_document_number_in_two_files_is_a_duplicate():
    a, _ = group_pages("scan.pdf", [_front(1), _back(2)])
    b, _ = group_pages("photo.jpg", [_back(1)])
    findings = duplicate_findings(a + b, {"scan.pdf": "aaaa", "photo.jpg": "bbbb"})
    # Then one finding, on the later file in name order, naming the other
    assert [(f.code, f.file, f.details["same_as"]["file"]) for f in findings] == [("duplicate_piece", "scan.pdf", "photo.jpg")]


def test_same_photo_code_twice_is_a_duplicate_and_different_pieces_are_not():
    p1 = PageRead(page=1, kind="photo_code", fields={"code": "7K3P9QX2ZT4M8R5VN6WB1C"})
    p2 = PageRead(page=1, kind="photo_code", fields={"code": "7K3P9QX2ZT4M8R5VN6WB1C"})
    p3 = PageRead(page=1, kind="photo_code", fields={"code": "AAAA9QX2ZT4M8R5VN6WB1C"})
    docs = group_pages("1.jpg", [p1])[0] + group_pages("2.jpg", [p2])[0] + group_pages("3.jpg", [p3])[0]
    findings = duplicate_findings(docs, {"1.jpg": "1", "2.jpg": "2", "3.jpg": "3"})
    assert [f.file for f in findings] == ["2.jpg"]
