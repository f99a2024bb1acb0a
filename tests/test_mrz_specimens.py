"""Synthetic identity documents with an OCR-B MRZ, for the MRZ tests and bench/mrz_bench.py.

Geometry after ICAO 9303 parts 3-5 at 300 dpi: OCR-B at 10 characters per inch (pitch 2.54 mm =
30 px), lines about 4.2 mm apart; ID-1 card 85.6 x 54 mm (TD1), ID-2 105 x 74 mm (TD2 and the
French laminated CNI), passport page 125 x 88 mm (TD3). Degradations: quarter turns, skew, blur,
JPEG, and a phone photo (perspective on a textured background, uneven light, noise).
"""

from __future__ import annotations

import random
from datetime import date

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from fixtures.degrade import skew
from intake.icao import MrzData, compose_fr_cni, compose_td1, compose_td2, compose_td3

OCRB = "/usr/share/fonts/opentype/ocr-b/OCRB.otf"
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DPI = 300
MM = DPI / 25.4
PITCH = 2.54 * MM
LINE_STEP = 4.3 * MM
SIZES = {"td1": (85.6, 54.0), "td2": (105.0, 74.0), "fr_cni_2x36": (105.0, 74.0), "td3": (125.0, 88.0)}

SURNAMES = ["MARTIN", "LE GALL-DUPRE", "N'DIAYE", "OZTURK", "BERNARD", "DA SILVA SANTOS",
            "KOWALSKA", "NGUYEN", "SCHMIDT", "ZZKAKIS", "ROUSSEAU", "EL AMRANI"]
GIVENS = [["JEAN", "PIERRE"], ["MARIE"], ["AMINATA", "FATOU"], ["KEVIN"], ["ZOE"], ["LUKAS"],
          ["ANNE SOPHIE"], ["SKYLER", "ZACK"], ["OLIVIER"], ["KATARZYNA"]]
STATES = ["FRA", "DEU", "ITA", "ESP", "DZA", "MAR", "PRT", "POL", "TUN", "SEN"]


def random_identity(rng: random.Random, fmt: str) -> tuple[list[str], dict]:
    """MRZ lines of a random person in `fmt`, and the fields a reader must find."""
    surname = rng.choice(SURNAMES)
    given = rng.choice(GIVENS)
    birth = date(rng.randint(1950, 2008 if fmt != "fr_cni_2x36" else 2015), rng.randint(1, 12), rng.randint(1, 28))
    sex = rng.choice("MF")
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    if fmt == "fr_cni_2x36":
        issue = date(rng.randint(max(1996, birth.year + 1), 2020), rng.randint(1, 12), 1)
        number = issue.strftime("%y%m") + f"{rng.randint(10, 95):02d}{rng.randint(0, 9)}" + f"{rng.randint(0, 99999):05d}"
        lines = compose_fr_cni(surname, given, number, birth, sex, "921", "023")
        from intake.extractors.mrz.parse import laminated_cni_dates

        issue_iso, expiry_iso = laminated_cni_dates(number, birth.isoformat())
        fields = {"document_number": number, "birth_date": birth.isoformat(), "sex": sex,
                  "nationality": "FRA", "issue_date": issue_iso, "expiry_date": expiry_iso}
        given_tokens = [t for g in given for t in g.replace("-", " ").split()]
        # the 14-character given-names field cuts long lists
        kept, width = [], 0
        for t in given_tokens:
            need = len(t) + (2 if kept else 0)
            if width + need > 14:
                if width < 14 and not kept:
                    kept.append(t[:14])
                elif 14 - width > 2:
                    kept.append(t[: 14 - width - 2])
                break
            kept.append(t)
            width += need
        fields["given_names"] = kept
        fields["surname"] = " ".join(surname.replace("-", " ").replace("'", " ").split())[:25].strip()
        return lines, fields
    state = rng.choice(STATES)
    code = {"td3": "P", "td2": "I", "td1": rng.choice(["ID", "IR", "I"])}[fmt]
    number = "".join(rng.choice(letters) for _ in range(9))
    expiry = date(rng.randint(2026, 2036), rng.randint(1, 12), rng.randint(1, 28))
    data = MrzData(code, state, number, surname, tuple(given), state, birth, sex, expiry)
    lines = {"td1": compose_td1, "td2": compose_td2, "td3": compose_td3}[fmt](data)
    from intake.extractors.mrz.parse import split_names

    name_field = lines[2] if fmt == "td1" else lines[0][5:]
    sur, giv = split_names(name_field)
    fields = {"document_number": number, "surname": sur, "given_names": giv,
              "birth_date": birth.isoformat(), "sex": sex, "nationality": state,
              "expiry_date": expiry.isoformat()}
    return lines, fields


def render_document(lines: list[str], fmt: str, rng: random.Random) -> np.ndarray:
    """A card or passport page at 300 dpi (BGR) with its MRZ at the bottom and some distractors."""
    w_mm, h_mm = SIZES[fmt]
    w, h = int(w_mm * MM), int(h_mm * MM)
    tint = tuple(int(v) for v in rng.choice([(236, 240, 248), (244, 236, 230), (232, 244, 236), (250, 250, 250)]))
    img = Image.new("RGB", (w, h), tint)
    draw = ImageDraw.Draw(img)
    # guilloche-ish background lines and a photo
    for i in range(0, w, 9):
        draw.line([(i, 0), (i + h // 2, h)], fill=tuple(max(0, c - 14) for c in tint), width=1)
    mrz_top = h - 4.0 * MM - len(lines) * LINE_STEP
    draw.rectangle([int(4 * MM), int(8 * MM), int(26 * MM), int(mrz_top - 2 * MM)], fill=(150, 140, 135))
    sans = ImageFont.truetype(SANS, int(2.6 * MM))
    draw.text((int(34 * MM), int(4 * MM)), "REPUBLIQUE / CARTE D'IDENTITE", font=sans, fill=(40, 50, 120))
    for k, label in enumerate(["Nom: XXXXXXX", "Prenoms: XXXX XXXX", "Ne le: 01.01.1990", "Sexe: X"]):
        draw.text((int(34 * MM), int((12 + 6 * k) * MM)), label, font=sans, fill=(30, 30, 30))
    font = ImageFont.truetype(OCRB, 10)
    font = ImageFont.truetype(OCRB, int(round(10 * PITCH / font.getlength("A") * 1.0)))
    n = len(lines[0])
    x0 = (w - n * PITCH) / 2
    bottom = h - 4.0 * MM
    y0 = bottom - len(lines) * LINE_STEP
    for i, line in enumerate(lines):
        draw.text((x0, y0 + i * LINE_STEP), line, font=font, fill=(20, 20, 25))
    return cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)


def on_page(card: np.ndarray, back: np.ndarray | None = None) -> np.ndarray:
    """The card (and its back) scanned on a white A4 page at 300 dpi."""
    page = np.full((3508, 2480, 3), 250, np.uint8)
    h, w = card.shape[:2]
    page[300:300 + h, 300:300 + w] = card
    if back is not None:
        bh, bw = back.shape[:2]
        page[400 + h:400 + h + bh, 300:300 + bw] = back
    return page


def rotate(image: np.ndarray, degrees: float, fill=(250, 250, 250)) -> np.ndarray:
    """Turn by any angle (counter-clockwise), growing the canvas so nothing is cut."""
    if degrees % 90 == 0:
        k = int(degrees // 90) % 4
        return np.ascontiguousarray(np.rot90(image, k))
    return skew(image, degrees, fill=fill)


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigma)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def phone_photo(card: np.ndarray, rng: random.Random) -> np.ndarray:
    """The card photographed on a table: perspective, background, uneven light, noise, JPEG."""
    h, w = card.shape[:2]
    out_w, out_h = int(w * 1.5), int(h * 1.7)
    table = np.full((out_h, out_w, 3), rng.choice([(70, 90, 110), (120, 110, 100), (60, 60, 60)]), np.uint8)
    noise = np.random.default_rng(rng.randint(0, 10**6)).normal(0, 12, table.shape)
    table = np.clip(table + noise, 0, 255).astype(np.uint8)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    cx, cy = out_w / 2, out_h / 2
    j = lambda: rng.uniform(-0.05, 0.05) * w  # noqa: E731
    dst = np.float32([[cx - w / 2 + j(), cy - h / 2 + j()], [cx + w / 2 + j(), cy - h / 2 + j()],
                      [cx + w / 2 + j(), cy + h / 2 + j()], [cx - w / 2 + j(), cy + h / 2 + j()]])
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(card, m, (out_w, out_h), borderMode=cv2.BORDER_TRANSPARENT, dst=table.copy())
    # light falling off across the picture
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    gx, gy = rng.uniform(-0.35, 0.35), rng.uniform(-0.35, 0.35)
    light = 1.0 + gx * (xx / out_w - 0.5) + gy * (yy / out_h - 0.5)
    lit = np.clip(warped.astype(np.float32) * light[..., None], 0, 255)
    lit = lit + np.random.default_rng(rng.randint(0, 10**6)).normal(0, 4, lit.shape)
    out = np.clip(lit, 0, 255).astype(np.uint8)
    out = blur(out, rng.uniform(0.6, 1.4))
    return jpeg(out, rng.randint(55, 80))


def _cluttered_table(out_w: int, out_h: int, rng: random.Random) -> np.ndarray:
    """A table seen from above: wood-like grain, papers with print, a dark object, noise."""
    nprng = np.random.default_rng(rng.randint(0, 10**6))
    base = np.array(rng.choice([(60, 90, 130), (40, 60, 90), (90, 90, 90), (150, 160, 170), (30, 30, 35)]), np.float32)
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    grain = np.sin(xx / rng.uniform(6, 20) + 3 * np.sin(yy / rng.uniform(40, 120))) * rng.uniform(5, 20)
    table = base[None, None, :] + grain[..., None]
    table = Image.fromarray(np.clip(table, 0, 255).astype(np.uint8)[..., ::-1].copy())
    draw = ImageDraw.Draw(table)
    sans = ImageFont.truetype(SANS, rng.randint(14, 26))
    for _ in range(rng.randint(1, 3)):  # sheets of paper with lines of print, partly under the card
        x0, y0 = rng.randint(-out_w // 4, out_w // 2), rng.randint(-out_h // 4, out_h // 2)
        x1, y1 = x0 + rng.randint(out_w // 4, out_w // 2), y0 + rng.randint(out_h // 4, out_h // 2)
        draw.rectangle([x0, y0, x1, y1], fill=(235, 235, 228))
        for k in range(y0 + 20, y1 - 20, rng.randint(28, 40)):
            words = " ".join(rng.choice(["Facture", "montant", "EUR", "le", "total", "12,40", "client",
                                         "<<<", "ABONNEMENT", "2024"]) for _ in range(12))
            draw.text((x0 + 15, k), words, font=sans, fill=(50, 50, 50))
    for _ in range(rng.randint(0, 2)):  # a phone, keys: dark blobs
        cx, cy, r = rng.randint(0, out_w), rng.randint(0, out_h), rng.randint(40, out_w // 6)
        draw.ellipse([cx - r, cy - r // 2, cx + r, cy + r // 2], fill=(20, 20, 25))
    out = cv2.cvtColor(np.asarray(table), cv2.COLOR_RGB2BGR).astype(np.float32)
    out += nprng.normal(0, 6, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def table_photo(card: np.ndarray, rng: random.Random) -> np.ndarray:
    """The card photographed on a cluttered table, as a school's client does: in perspective
    (tilted up to about 35 degrees), turned any way, small in the picture (its long side a third
    to a half of the photo), a shadow across part of it, a glare spot, blur and JPEG."""
    h, w = card.shape[:2]
    photo_w = rng.randint(1600, 2600)
    photo_h = int(photo_w * rng.choice([0.75, 1.33]))
    card_w = rng.uniform(0.33, 0.5) * min(photo_w, photo_h) * 1.3
    card_h = card_w * h / w
    # the card's corners: a rectangle, foreshortened on one side (tilt), turned, moved
    tilt = rng.uniform(0.0, 0.3)
    half_w, half_h = card_w / 2, card_h / 2
    if rng.random() < 0.5:  # far edge at the top or bottom
        top = 1 - tilt if rng.random() < 0.5 else 1.0
        bottom = 1 - tilt if top == 1.0 else 1.0
        pts = np.float32([[-half_w * top, -half_h], [half_w * top, -half_h], [half_w * bottom, half_h],
                          [-half_w * bottom, half_h]])
    else:  # far edge at the left or right
        left = 1 - tilt if rng.random() < 0.5 else 1.0
        right = 1 - tilt if left == 1.0 else 1.0
        pts = np.float32([[-half_w, -half_h * left], [half_w, -half_h * right], [half_w, half_h * right],
                          [-half_w, half_h * left]])
    angle = np.radians(rng.choice([0, 90, 180, 270]) + rng.uniform(-25, 25))
    rot = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pts = pts @ rot.T
    pts += np.float32([photo_w / 2 + rng.uniform(-0.1, 0.1) * photo_w, photo_h / 2 + rng.uniform(-0.1, 0.1) * photo_h])
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    m = cv2.getPerspectiveTransform(src, pts)
    table = _cluttered_table(photo_w, photo_h, rng)
    out = cv2.warpPerspective(card, m, (photo_w, photo_h), flags=cv2.INTER_AREA,
                              borderMode=cv2.BORDER_TRANSPARENT, dst=table.copy()).astype(np.float32)
    yy, xx = np.mgrid[0:photo_h, 0:photo_w].astype(np.float32)
    # a soft shadow over a part of the picture (a hand, the phone), and uneven light
    sx, sy = rng.uniform(0, photo_w), rng.uniform(0, photo_h)
    nx, ny = np.cos(rng.uniform(0, 6.28)), np.sin(rng.uniform(0, 6.28))
    side = ((xx - sx) * nx + (yy - sy) * ny) / (0.05 * photo_w)
    shadow = 1.0 - rng.uniform(0.2, 0.45) / (1.0 + np.exp(-side))
    light = 1.0 + rng.uniform(-0.25, 0.25) * (xx / photo_w - 0.5)
    out *= (shadow * light)[..., None]
    # a glare spot
    gx, gy, gr = rng.uniform(0, photo_w), rng.uniform(0, photo_h), rng.uniform(0.03, 0.08) * photo_w
    out += (rng.uniform(40, 90) * np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * gr * gr)))[..., None]
    out += np.random.default_rng(rng.randint(0, 10**6)).normal(0, 5, out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    out = blur(out, rng.uniform(0.5, 1.2))
    return jpeg(out, rng.randint(50, 80))


def mrz_band_alone(card: np.ndarray, lines: list[str], rng: random.Random) -> np.ndarray:
    """Only the MRZ band, cropped tight from a photo and small: 6 to 9 px per character."""
    h, w = card.shape[:2]
    band_h = int((len(lines) * 4.3 + 2.5) * MM)
    band = card[h - band_h - int(2.5 * MM):h - int(1.5 * MM), :]
    pitch = rng.uniform(6.0, 9.0)
    f = pitch / PITCH
    small = cv2.resize(band, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    return jpeg(blur(small, rng.uniform(0.3, 0.6)), rng.randint(60, 90))


DEGRADATIONS = ["clean", "rot90", "rot180", "rot270", "skew", "blur", "jpeg40", "a4_front_back", "phone",
                "table", "band_alone"]


def degrade(card: np.ndarray, how: str, rng: random.Random) -> np.ndarray:
    if how == "clean":
        return card
    if how.startswith("rot"):
        return rotate(card, int(how[3:]))
    if how == "skew":
        return rotate(card, rng.choice([-1, 1]) * rng.uniform(2.0, 5.0))
    if how == "blur":
        return blur(card, rng.uniform(1.0, 1.8))
    if how == "jpeg40":
        return jpeg(card, 40)
    if how == "a4_front_back":
        front = card.copy()
        front[int(front.shape[0] * 0.6):] = front[5:6]  # the front has no MRZ
        return on_page(front, card)
    if how == "phone":
        return phone_photo(card, rng)
    if how == "table":
        return table_photo(card, rng)
    raise ValueError(how)


def specimen(seed: int, fmt: str, how: str) -> tuple[np.ndarray, list[str], dict]:
    rng = random.Random(seed)
    lines, fields = random_identity(rng, fmt)
    card = render_document(lines, fmt, rng)
    if how == "band_alone":
        return mrz_band_alone(card, lines, rng), lines, fields
    return degrade(card, how, rng), lines, fields


# --- the specimens themselves must be sound, or every figure built on them is wrong -------------
def test_specimen_mrz_has_the_icao_width_at_300_dpi():
    # Given a TD1 card rendered at 300 dpi
    image, lines, _ = specimen(1, "td1", "clean")
    # Then the card is ID-1 sized and its 30 characters span 30 pitches of 2.54 mm
    assert image.shape[:2] == (637, 1011)
    assert len(lines) == 3 and all(len(line) == 30 for line in lines)
