"""A school's and a reviewer's day in Chromium (issue 18), on a phone 390 px wide where a school works.

1. The school creates a dossier (the form refuses a 4-digit postcode and a birth date in the future
   before sending), drops its scans (a file too large and a text file are refused before sending),
   sees a broken file in red with its reason, deletes it, replaces a scan, corrects the declared
   name, and watches the dossier being checked again, without reloading.
2. A reviewer asks for a piece; the school sees it on its list ("Pièce demandée", "Action requise")
   and on the dossier, answers with a new upload; the request goes away and the reviewer's open
   page follows the upload by itself.
3. On the reviewer's page, the box of a field is drawn on the page image where the value is printed
   (also on a scan lying sideways), and a click on the field zooms to it.

Every page visited is checked for sideways scrolling at 390 px, English codes and ISO dates.
Screenshots go to INTAKE_SCREENSHOTS (default: the test's tmp folder).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from test_browser import PASSWORD, browser, serve, shots  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
PHONE = {"width": 390, "height": 844}
#: Small on purpose: the test makes a file just above it.
MAX_BYTES = 2_000_000
READ_TIMEOUT_MS = 90_000
CODE_WORDS = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(bill|tax_notice|td1|td2|td3|upload_id|pending|needs_review|"
                        r"incomplete|applicant|unknown|system|undefined|null|None)\b")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Where the name is printed on the test scan (x, y, w, h in the upright 1000 x 700 page).
NAME_BOX = (120, 300, 420, 90)


#: The data folder of each server, by base URL (the third journey writes a piece's evidence there).
_DATA_DIRS: dict[str, str] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("journeys-data")
    with serve(data, INTAKE_MAX_FILE_BYTES=str(MAX_BYTES)) as base:
        _DATA_DIRS[base] = str(data)
        yield base


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The scans of the journeys: a name card (upright and sideways), a broken file, a file too large, a text."""
    from PIL import Image, ImageDraw, ImageFont

    folder = tmp_path_factory.mktemp("scans")
    image = Image.new("RGB", (1000, 700), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 44)
    draw.text((60, 60), "Carte de membre du club", fill="black", font=font)
    x, y, w, h = NAME_BOX
    draw.rectangle((x, y, x + w, y + h), fill="black")
    draw.text((x + 30, y + 18), "DUPONT", fill="white", font=font)
    draw.text((60, 520), "Valable pour la saison", fill="black", font=font)
    image.save(folder / "carte-club.png")
    # The same card scanned lying on its side: the reader turns it upright by a quarter turn clockwise.
    image.rotate(90, expand=True).save(folder / "carte-couchee.png")
    (folder / "scan-abime.png").write_bytes(b"ceci n'est pas une image")
    (folder / "enorme.png").write_bytes(os.urandom(MAX_BYTES + 100_000))
    (folder / "notes.txt").write_text("une note", encoding="utf-8")
    return folder


def _login(page, base: str, username: str) -> None:
    page.goto(base + "/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def _readable(page, where: str) -> None:
    """The page fits 390 px (no sideways scroll) when it is that narrow, and says nothing in code."""
    page.wait_for_load_state()
    width = page.viewport_size["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{where}: the page scrolls sideways ({scroll} px > {width} px)"
    text = page.evaluate("document.body.innerText")
    text = re.sub(r"\b(ecole|verif)\b", " ", text)
    code = CODE_WORDS.search(text)
    assert code is None, f"{where}: code on the page: {code.group(0)!r}"
    iso = ISO_DATE.search(text)
    assert iso is None, f"{where}: ISO date on the page: {iso.group(0)!r}"


def _settled(page, *names: str) -> None:
    """Wait until the page shows the files `names` and the end of the check (no file being read)."""
    from playwright.sync_api import expect

    for name in names:
        expect(page.locator("table.uploads tr", has_text=name)).to_have_count(1, timeout=30_000)
    page.wait_for_function("""() => {
        const status = document.querySelector('#status');
        return status && !['pending', 'checking'].includes(status.dataset.status)
            && !document.querySelector('tr.up-pending');
    }""", timeout=READ_TIMEOUT_MS)


@pytest.fixture(scope="module")
def state():
    return {}


def test_school_uploads_deletes_a_bad_piece_and_corrects_the_name_on_a_phone(server, browser, shots, files, state):
    from playwright.sync_api import expect

    context = browser.new_context(locale="fr-FR", viewport=PHONE)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(server + "/connexion")
    _readable(page, "connexion")
    _login(page, server, "ecole")
    _readable(page, "liste vide")

    # Given the form, when the postcode has 4 digits and the birth date is in the future
    page.goto(server + "/dossiers/nouveau")
    page.get_by_label("Référence du dossier").fill("AE-NAV-2")
    page.get_by_label("Nom de naissance").fill("Dupond")
    page.locator("input[name=given_names]").fill("Jean")
    page.locator("input[name=birth_date]").fill("2099-01-01")
    page.locator("input[name=postcode]").fill("7501")
    page.get_by_role("button", name="Créer le dossier").click()
    # Then nothing is sent: the page names both fields in French
    errors = page.locator("#form-errors")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text("Code postal")
    expect(errors).to_contain_text("futur")
    assert page.url.endswith("/dossiers/nouveau")
    _readable(page, "formulaire avec erreurs")
    page.screenshot(path=str(shots / "j1-formulaire-390.png"), full_page=True)

    page.locator("input[name=birth_date]").fill("2005-04-12")
    page.locator("input[name=postcode]").fill("75011")
    page.locator("select[name=nationality]").select_option(label="France")
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_role("heading", name=re.compile("Dossier AE-NAV-2"))).to_be_visible()
    state["dossier_url"] = page.url
    # An empty dossier is waiting for its pieces
    expect(page.locator("#status-label")).to_have_text("En attente des pièces", timeout=30_000)
    _readable(page, "dossier vide")

    # When the school picks four files, two are refused before anything is sent
    posts = []
    page.on("request", lambda r: posts.append(r)
            if r.method == "POST" and r.url.endswith(("/uploads", "/pieces")) else None)
    page.locator("#file-input").set_input_files([str(files / n) for n in
                                                 ("carte-club.png", "scan-abime.png", "enorme.png", "notes.txt")])
    listing = page.locator("#upload-list")
    expect(listing).to_contain_text("2 fichier(s) reçu(s)", timeout=30_000)
    expect(listing).to_contain_text("« enorme.png » n'est pas envoyé : fichier trop volumineux")
    expect(listing).to_contain_text("« notes.txt » n'est pas envoyé : type de fichier non accepté")
    assert len(posts) == 1 and b"enorme.png" not in (posts[0].post_data_buffer or b"")

    # Then the pieces are read, and the broken file is in red with its reason
    _settled(page, "carte-club.png", "scan-abime.png")
    broken = page.locator("table.uploads tr", has_text="scan-abime.png")
    expect(broken).to_have_class(re.compile("up-unreadable"))
    expect(broken.locator(".bad-file")).to_have_text("Illisible")
    assert len(broken.locator(".reason").inner_text()) > 15
    assert page.evaluate("getComputedStyle(document.querySelector('tr.up-unreadable .bad-file')).color") \
        == "rgb(179, 38, 30)"
    _readable(page, "dossier lu")
    page.screenshot(path=str(shots / "j1-dossier-lu-390.png"), full_page=True)

    # When the school deletes it, then it is gone and the dossier is checked again without reloading
    broken.get_by_role("button", name="Supprimer").click()
    expect(page.locator(".flash")).to_contain_text("Pièce supprimée")
    expect(page.locator("table.uploads tr", has_text="scan-abime.png")).to_have_count(0)
    _settled(page)
    expect(page.locator("#live")).not_to_contain_text("scan-abime.png")

    # When the school replaces the card with a new scan, it is sent as soon as it is chosen
    card = page.locator("table.uploads tr", has_text="carte-club.png")
    card.locator("input[name=file]").set_input_files(str(files / "carte-club.png"))
    expect(page.locator(".flash")).to_contain_text("Pièce remplacée")
    _settled(page, "carte-club.png")

    # When the school corrects the declared surname, then the page says what changed and checks again
    page.get_by_role("link", name="Corriger les données").click()
    expect(page.locator("input[name=surname]")).to_have_value("Dupond")
    _readable(page, "formulaire de correction")
    page.locator("input[name=surname]").fill("Dupont")
    page.get_by_role("button", name="Enregistrer et revérifier").click()
    expect(page.locator(".flash")).to_contain_text("Données corrigées (Nom)")
    expect(page.locator("#declared")).to_contain_text("Dupont")
    _settled(page)
    _readable(page, "dossier corrigé")
    context.close()


def test_a_reviewer_asks_for_a_piece_and_the_school_answers_it(server, browser, shots, files, state):
    from playwright.sync_api import expect

    assert "dossier_url" in state, "the first journey creates the dossier"
    dossier_id = state["dossier_url"].rstrip("/").rsplit("/", 1)[-1]
    # Given a reviewer on the queue, on a phone too
    reviewer = browser.new_context(locale="fr-FR", viewport=PHONE)
    page = reviewer.new_page()
    _login(page, server, "verif")
    row = page.locator("table.queue tr", has_text="AE-NAV-2")
    expect(row).to_contain_text("DUPONT Jean")
    _readable(page, "file de vérification")
    page.screenshot(path=str(shots / "j2-file-390.png"), full_page=True)
    page.get_by_label("Rechercher").fill("dupont")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("table.queue tbody tr")).to_have_count(1)
    row.get_by_role("link", name="AE-NAV-2").click()
    page.get_by_role("button", name="Prendre en charge").click()
    # When the reviewer asks for a new piece
    page.locator("details.actions > summary", has_text="Demander une autre pièce").click()
    page.locator("details.actions[open] textarea[name=message]").fill("Merci de fournir une carte lisible.")
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.locator(".flash")).to_contain_text("Demande envoyée")
    _readable(page, "page de revue")

    # Then the school's list shows it needs action, and the dossier shows the request
    school = browser.new_context(locale="fr-FR", viewport=PHONE)
    spage = school.new_page()
    _login(spage, server, "ecole")
    line = spage.locator("table.dossiers tr", has_text="AE-NAV-2")
    expect(line).to_contain_text("Pièce demandée")
    expect(line).to_contain_text("Action requise")
    _readable(spage, "liste avec demande")
    spage.screenshot(path=str(shots / "j2-liste-ecole-390.png"), full_page=True)
    line.get_by_role("link", name="AE-NAV-2").click()
    expect(spage.locator(".request")).to_contain_text("Merci de fournir une carte lisible.")
    expect(spage.locator("#status-label")).to_have_text("Pièce demandée")

    # When the school uploads the piece, the request goes away without reloading, and the reviewer's
    # page (left open) shows the new file by itself
    spage.locator("#file-input").set_input_files([str(files / "carte-couchee.png")])
    expect(spage.locator(".request")).to_have_count(0, timeout=30_000)
    _settled(spage, "carte-couchee.png")
    expect(page.locator("section.upload", has_text="carte-couchee.png")).to_be_visible(timeout=READ_TIMEOUT_MS)
    expect(page.locator("#status-label")).not_to_have_text("Vérification en cours", timeout=READ_TIMEOUT_MS)
    _readable(page, "page de revue après le dépôt")
    school.close()
    reviewer.close()


def _give_evidence(data_dir: Path, dossier_id: int, file_name: str, rotation: int) -> None:
    """Write, on the piece read in `file_name`, the evidence the pipeline records for a field: the
    name's box in the upright page, and the page's frame (the lead's reader fills these in)."""
    from sqlalchemy import create_engine, delete, select
    from sqlalchemy.orm import Session

    from models import Piece, Upload

    engine = create_engine(f"sqlite:///{data_dir / 'intake.db'}")
    evidence = {"fields": {"surname": {"confidence": 0.93, "reader": "ocr", "protected": None, "readings": 1,
                                       "page": 1, "box": list(NAME_BOX)},
                           "issue_date": {"confidence": 0.5, "reader": "ocr", "protected": None, "readings": 1,
                                          "page": 1, "box": None}},
                "frames": {"1": {"width": 1000, "height": 700, "rotation": rotation}}}
    try:
        with Session(engine) as session, session.begin():
            upload_id = session.scalar(select(Upload.id).where(Upload.dossier_id == dossier_id,
                                                               Upload.original_name == file_name,
                                                               Upload.state != "replaced"))
            assert upload_id is not None
            session.execute(delete(Piece).where(Piece.upload_id == upload_id))
            session.add(Piece(upload_id=upload_id, position=0, page=1, pages=[1], kind="identity_card",
                              holder="applicant", confidence=0.9, fields={"surname": "DUPONT", "issue_date": None},
                              evidence=evidence))
    finally:
        engine.dispose()


def _darkness(png: bytes, area: tuple[float, float, float, float]) -> float:
    """0 (white) to 1 (black): how dark an area (left, top, right, bottom) of a screenshot is."""
    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(png)).convert("L")
    return 1 - ImageStat.Stat(image.crop(tuple(round(v) for v in area))).mean[0] / 255


def test_the_reviewer_sees_where_each_value_was_read_and_zooms_to_it(server, browser, shots, state):
    from playwright.sync_api import expect

    assert "dossier_url" in state
    dossier_id = int(state["dossier_url"].rstrip("/").rsplit("/", 1)[-1])
    data_dir = Path(server_data_dir(server))
    # Given the name's box on the upright card, and on the card scanned sideways
    _give_evidence(data_dir, dossier_id, "carte-club.png", 0)
    _give_evidence(data_dir, dossier_id, "carte-couchee.png", 90)
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _login(page, server, "verif")
    page.goto(f"{server}/revue/{dossier_id}")
    for name in ("carte-club.png", "carte-couchee.png"):
        section = page.locator("section.upload", has_text=name)
        image = section.locator("figure.viewer img")
        expect(image).to_be_visible(timeout=30_000)
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(),
                               timeout=30_000)
        rect = section.locator("svg.boxes rect[data-field=surname]")
        expect(rect).to_have_count(1)
        # Then the box sits where the name is printed on the page image (upright in both cases)
        img_box, box = image.bounding_box(), rect.bounding_box()
        scale = img_box["width"] / 1000
        x, y, w, h = NAME_BOX
        assert abs(box["x"] - (img_box["x"] + x * scale)) < 3 and abs(box["y"] - (img_box["y"] + y * scale)) < 3
        assert abs(box["width"] - w * scale) < 3 and abs(box["height"] - h * scale) < 3
        assert abs(img_box["height"] / img_box["width"] - 0.7) < 0.01, "the page is shown upright"
        # What the reviewer sees inside the box is the dark band of the name; below it, the white page
        shown = image.screenshot()
        left, top = box["x"] - img_box["x"], box["y"] - img_box["y"]
        inside = _darkness(shown, (left + 4, top + 4, left + box["width"] - 4, top + box["height"] - 4))
        below = _darkness(shown, (left, top + box["height"] + 8, left + box["width"], top + 2 * box["height"]))
        assert inside > 0.6 and below < 0.2, (name, inside, below)
        # A value with no place on the page has no box and no button
        expect(section.locator("tr[data-field=issue_date] button.locate")).to_have_count(0)

    # When the reviewer clicks the field, then the viewer zooms on the name
    section = page.locator("section.upload", has_text="carte-couchee.png")
    viewport = section.locator(".viewport")
    width_before = section.locator("figure.viewer img").bounding_box()["width"]
    section.locator("tr[data-field=surname] button.locate").click()
    rect = section.locator("svg.boxes rect[data-field=surname]")
    expect(rect).to_have_class(re.compile("active"))
    page.wait_for_timeout(300)
    zoomed = section.locator("figure.viewer img").bounding_box()["width"]
    assert zoomed > width_before * 1.3
    view, box = viewport.bounding_box(), rect.bounding_box()
    centre_x, centre_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    assert view["x"] <= centre_x <= view["x"] + view["width"] and view["y"] <= centre_y <= view["y"] + view["height"]
    page.screenshot(path=str(shots / "j3-revue-zoom.png"), full_page=False)
    _readable(page, "page de revue avec les cadres")
    # And on a phone the same page fits the screen
    phone = browser.new_context(locale="fr-FR", viewport=PHONE)
    ppage = phone.new_page()
    _login(ppage, server, "verif")
    ppage.goto(f"{server}/revue/{dossier_id}")
    _readable(ppage, "page de revue sur téléphone")
    ppage.screenshot(path=str(shots / "j3-revue-390.png"), full_page=True)
    phone.close()
    context.close()


def server_data_dir(base: str) -> str:
    return _DATA_DIRS[base]
