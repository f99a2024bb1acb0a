"""Browser journeys, driven through Debian's Chromium by Playwright, against a real `intake serve`.

1. A school logs in, creates a dossier with the form, drops its pieces (file picker and drag and
   drop), watches the status change without reloading, and reads the findings' French advice.
2. A reviewer logs in, finds the dossier in the queue, claims it, looks at the pieces beside the
   declared data, accepts a finding with a note, and sees the decision in the audit trail.

Screenshots of each step go to INTAKE_SCREENSHOTS (default: the test's tmp folder).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import FIXTURES, VENV_BIN

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SAMPLE = FIXTURES / "sample"
PASSWORD = "mot-de-passe-navigateur"
#: OCR of five pieces on a busy 2-core machine.
CHECK_TIMEOUT_MS = 240_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(data: Path, **settings: str):
    """`intake serve` on a free port with its own data folder (and settings), a school user and a
    reviewer; yields the base URL."""
    env = {k: v for k, v in os.environ.items() if k not in ("INTAKE_DATABASE_URL", "INTAKE_BROKER_URL")}
    env.update(INTAKE_DATA_DIR=str(data), INTAKE_2DDOC_CERTS=str(FIXTURES / "certs"), OMP_THREAD_LIMIT="1",
               **settings)
    intake = str(VENV_BIN / "intake")
    for args in (["ecole", "--role", "school", "--school", "Auto-école des Lilas"], ["verif", "--role", "reviewer"]):
        done = subprocess.run([intake, "user", "add", *args, "--password-stdin"], input=PASSWORD + "\n", text=True,
                              capture_output=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
    port = _free_port()
    log = open(data / "serve.log", "w")
    process = subprocess.Popen([intake, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/sante", timeout=2) as answer:
                if json.load(answer)["ok"]:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.close()
            raise AssertionError("intake serve did not start: " + (data / "serve.log").read_text()[-2000:])
        time.sleep(0.3)
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("browser-data")) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("INTAKE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _login(page, base: str, username: str) -> None:
    page.goto(base + "/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def _letter(path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1000, 700), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 32)
    for i, line in enumerate(["Lettre de bienvenue", "Merci de votre visite au salon", "du jardin et des plantes."]):
        draw.text((60, 80 + 60 * i), line, fill="black", font=font)
    image.save(path)


def _drop_file(page, path: Path) -> None:
    """Drop a file on the upload zone as a person dragging it from their desktop would."""
    page.evaluate(
        """([name, b64]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name));
            const zone = document.getElementById("upload-form");
            zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
        }""",
        [path.name, base64.b64encode(path.read_bytes()).decode()],
    )


def test_school_uploads_a_dossier_then_a_reviewer_decides(server, browser, shots):
    from playwright.sync_api import expect

    declared = json.loads((SAMPLE / "dossier.json").read_text(encoding="utf-8"))
    applicant = declared["applicant"]

    # --- Journey 1: the school ------------------------------------------------------------------
    school = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = school.new_page()
    _login(page, server, "ecole")
    expect(page.get_by_role("heading", name="Dossiers")).to_be_visible()
    page.get_by_role("link", name="Nouveau dossier").first.click()
    page.get_by_label("Référence du dossier").fill("AE-NAV-1")
    page.get_by_label("Date de référence des contrôles").fill(declared["reference_date"])
    page.get_by_label("Nom de naissance").fill(applicant["surname"])
    page.get_by_label("Prénoms", exact=False).first.fill(" ".join(applicant["given_names"]))
    page.locator("input[name=birth_date]").fill(applicant["birth_date"])
    page.get_by_label("Lieu de naissance").fill(applicant["birth_place"])
    page.locator("select[name=nationality]").select_option(applicant["nationality"])
    page.locator("input[name=address_line]").fill(applicant["address"]["line"])
    page.locator("input[name=postcode]").fill(applicant["address"]["postcode"])
    page.locator("input[name=city]").fill(applicant["address"]["city"])
    page.screenshot(path=str(shots / "1-ecole-formulaire.png"), full_page=True)
    page.get_by_role("button", name="Créer le dossier").click()

    expect(page.get_by_role("heading", name="Dossier AE-NAV-1")).to_be_visible()
    # Right after creation the dossier waits for its pieces, and the page already lists the missing ones.
    expect(page.locator("#status-label")).to_have_text("En attente des pièces", timeout=60_000)
    expect(page.locator("li.finding").first).to_contain_text("Pièce manquante")
    # Two pieces with the file picker, three dropped on the zone.
    page.locator("#file-input").set_input_files([str(SAMPLE / "piece1.png"), str(SAMPLE / "piece3.pdf")])
    expect(page.locator("#upload-list")).to_contain_text("2 fichier(s) reçu(s)", timeout=30_000)
    # With them, by mistake, a letter that is none of the pieces: a point for the reviewer.
    letter = shots / "lettre.png"
    _letter(letter)
    for path in (SAMPLE / "piece2.pdf", SAMPLE / "piece4.jpg", SAMPLE / "piece5.jpg", letter):
        _drop_file(page, path)
    expect(page.locator("#upload-list li")).to_have_count(5, timeout=30_000)
    expect(page.locator("#upload-list")).not_to_contain_text("Envoi de", timeout=30_000)
    # The status turns to "being checked", then settles, without reloading the page.
    expect(page.locator("#status-label")).to_have_text("Vérification en cours", timeout=10_000)
    page.screenshot(path=str(shots / "2-ecole-verification-en-cours.png"), full_page=True)
    expect(page.locator("#status-label")).not_to_have_text("Vérification en cours", timeout=CHECK_TIMEOUT_MS)
    expect(page.locator("table.uploads tbody tr")).to_have_count(6)
    status = page.locator("#status-label").inner_text()
    assert status in ("Incomplet", "À vérifier"), status
    unknown = page.locator("#live li.finding", has_text="lettre.png")
    expect(unknown).to_have_count(1)
    assert len(unknown.locator(".advice").inner_text()) > 20  # French advice, not just a code
    page.screenshot(path=str(shots / "3-ecole-resultat.png"), full_page=True)
    school.close()

    # --- Journey 2: the reviewer ----------------------------------------------------------------
    reviewer = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000})
    page = reviewer.new_page()
    _login(page, server, "verif")
    expect(page.get_by_role("heading", name="File de vérification")).to_be_visible()
    row = page.locator("table.queue tr", has_text="AE-NAV-1")
    expect(row).to_be_visible()
    page.screenshot(path=str(shots / "4-verificateur-file.png"), full_page=True)
    row.get_by_role("link", name="AE-NAV-1").click()
    expect(page.get_by_role("heading", name="Données déclarées")).to_be_visible()
    page.get_by_role("button", name="Prendre en charge").click()
    expect(page.locator(".claim-bar")).to_contain_text("Vous avez pris ce dossier en charge")
    # The pieces are shown as images, page by page, and can be zoomed.
    first_image = page.locator("figure.viewer img").first
    # (the first view of a page renders it: slow on a busy machine)
    expect(first_image).to_be_visible(timeout=30_000)
    page.wait_for_function("document.querySelector('figure.viewer img').naturalWidth > 0", timeout=30_000)
    width_before = first_image.bounding_box()["width"]
    page.locator("figure.viewer .zoom-in").first.click()
    assert first_image.bounding_box()["width"] > width_before * 1.3
    page.locator("figure.viewer .zoom-out").first.click()

    finding = page.locator("li.finding:has(details.actions)", has_text="lettre.png").first
    code = finding.get_attribute("data-code")
    finding.locator("summary", has_text="Décider").click()
    finding.get_by_label("Note (obligatoire)").fill("Courrier sans rapport, déposé par erreur : à ignorer.")
    page.screenshot(path=str(shots / "5-verificateur-decision.png"), full_page=True)
    finding.get_by_role("button", name="Accepter (dérogation)").click()
    expect(page.locator(".flash")).to_contain_text("Constat accepté")
    decided = page.locator(f"li.finding.st-accepted[data-code='{code}']").first
    expect(decided).to_contain_text("déposé par erreur")
    expect(decided).to_contain_text("verif")
    expect(page.locator("table.audit")).to_contain_text("Constat accepté (dérogation)")
    page.screenshot(path=str(shots / "6-verificateur-journal.png"), full_page=True)
    reviewer.close()



def test_api_documentation_renders_with_no_internet_access(server, browser, shots):
    from playwright.sync_api import expect

    # Given a browser that can reach the intake server and nothing else (a school's offline machine)
    context = browser.new_context()
    outside = []

    def only_local(route):
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    try:
        # When the API documentation is opened
        page.goto(server + "/api/docs")
        # Then Swagger UI draws the API's operations from the application's own files
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("intake", timeout=20_000)
        expect(page.get_by_text("/api/v1/token").first).to_be_visible()
        page.screenshot(path=str(shots / "api-docs.png"), full_page=False)
        # And nothing was asked of another host
        assert outside == []
    finally:
        context.close()
