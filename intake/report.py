"""The check report: one or two A4 pages, in French, that a school keeps and a reviewer can print.

Drawn from the data `intake.export.report_data` gives (the check's JSON with the reviewers'
decisions): the declared identity, the requirements of the procedure and the piece meeting each,
the values read with a small crop of where each was read, every finding with its decision, the
pipeline version and the date. Pure: data and crop images in, PDF bytes out; nothing is written.
"""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from intake import labels
from intake.validators.dates import french_date

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT, FONT_BOLD = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"

REQUIREMENT_STATE = {"met": "Fournie", "missing": "Manquante", "invalid": "Non valable", "unchecked": "Non vérifiée"}
READER = {"mrz": "bande MRZ", "twoddoc": "2D-Doc", "ocr": "lecture du texte", "photo_code": "lecture du code",
          "barcode": "code-barres"}
PROTECTED = {"check_digit": "chiffre de contrôle juste", "signature": "signature vérifiée"}
SHOWN_FIELDS = ("surname", "given_names", "birth_date", "document_number", "expiry_date", "issue_date",
                "holder_name", "address_line", "postcode", "city", "code", "photo_date", "licence_number",
                "categories", "level", "training", "fit")


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _day(value: Any) -> str:
    return french_date(value) if value else "—"


def _stamp(value: str | None) -> str:
    """An ISO timestamp as a French date and hour (UTC), or a dash."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(labels.PARIS)
    return f"{french_date(moment.date())} à {moment:%H:%M}"


def _value(name: str, value: Any) -> str:
    if isinstance(value, str) and name.endswith("_date"):
        return french_date(value)
    mapped = labels.VALUES.get(name, {})
    if isinstance(value, str) and value in mapped:
        return mapped[value]
    return _text(value)


class _Report:
    """fpdf2 with the project's fonts and a few drawing helpers."""

    def __init__(self, title: str):
        from fpdf import FPDF

        pdf = FPDF(unit="mm", format="A4")
        pdf.set_margins(14, 12, 14)
        pdf.set_auto_page_break(True, margin=14)
        pdf.set_creator("intake")
        pdf.set_title(title)
        if FONT.exists() and FONT_BOLD.exists():
            pdf.add_font("Report", "", str(FONT))
            pdf.add_font("Report", "B", str(FONT_BOLD))
            self.family = "Report"
        else:  # pragma: no cover - fonts-dejavu-core is a system package of the setup
            self.family = "Helvetica"
        self.pdf = pdf

    def text(self, value: str) -> str:
        if self.family == "Helvetica":  # pragma: no cover
            return value.encode("latin-1", "replace").decode("latin-1")
        return value

    def font(self, size: float, bold: bool = False) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)

    def heading(self, value: str) -> None:
        pdf = self.pdf
        if pdf.will_page_break(14):
            pdf.add_page()
        pdf.ln(2.5)
        self.font(10.5, True)
        pdf.set_text_color(25, 55, 110)
        pdf.cell(0, 6, self.text(value), new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(25, 55, 110)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1.2)

    def table(self, widths: tuple[float, ...], rows: list[list[Any]], header: list[str] | None = None,
              size: float = 7.5) -> None:
        """Rows of text cells (a cell may be {"img": bytes} or {"text": str, "bold": True})."""
        from fpdf.fonts import FontFace

        self.font(size)
        head = FontFace(emphasis="BOLD", fill_color=(228, 233, 243))
        with self.pdf.table(col_widths=widths, width=sum(widths), align="LEFT", line_height=3.6, text_align="LEFT",
                            first_row_as_headings=header is not None, headings_style=head,
                            borders_layout="HORIZONTAL_LINES", padding=0.8) as table:
            if header is not None:
                row = table.row()
                for h in header:
                    row.cell(self.text(h))
            for values in rows:
                row = table.row()
                for value in values:
                    if isinstance(value, dict) and "img" in value:
                        row.cell(img=io.BytesIO(value["img"]), img_fill_width=False)
                    elif isinstance(value, dict):
                        row.cell(self.text(value.get("text", "")),
                                 style=FontFace(emphasis="BOLD") if value.get("bold") else None,
                                 colspan=value.get("colspan", 1))
                    else:
                        row.cell(self.text(_text(value)))


def _identity_rows(declared: dict[str, Any]) -> list[list[Any]]:
    a = declared.get("applicant") or {}
    address = a.get("address") or {}
    sex = labels.SEX.get(a.get("sex"), a.get("sex"))
    rows = [
        ["Nom", a.get("surname"), "Né(e) le", _day(a.get("birth_date"))],
        ["Nom d'usage", a.get("usage_name"), "Lieu de naissance", a.get("birth_place")],
        ["Prénoms", a.get("given_names"), "Sexe", sex],
        ["Nationalité", a.get("nationality"), "Adresse",
         " ".join(str(v) for v in (address.get("line"), address.get("postcode"), address.get("city")) if v)],
        ["Démarche", labels.PROCEDURE.get(declared.get("procedure"), declared.get("procedure")),
         "Motif", labels.MOTIF.get(declared.get("motif"), declared.get("motif"))],
        ["Catégories", declared.get("categories"), "Formation",
         labels.TRAINING.get(declared.get("training"), declared.get("training"))],
    ]
    for role, title in (("host", "Hébergeant"), ("legal_representative", "Représentant légal")):
        person = declared.get(role)
        if person:
            name = " ".join([str(person.get("surname") or "")] + [str(g) for g in person.get("given_names") or []])
            rows.append([title, name.strip(), "Né(e) le", _day(person.get("birth_date"))])
    return rows


def _piece_title(piece: dict[str, Any]) -> str:
    kind = labels.KIND.get(piece["kind"], piece["kind"])
    holder = piece.get("holder")
    whose = f" ({labels.HOLDER.get(holder, holder)})" if holder and holder != "unknown" else ""
    pages = piece.get("pages") or [piece["page"]]
    where = f"p. {pages[0]}" if len(pages) == 1 else "p. " + ", ".join(str(p) for p in pages)
    return f"{kind[:1].upper()}{kind[1:]}{whose} — {piece['file']}, {where}"


def _reading(ev: dict[str, Any] | None) -> str:
    if not ev:
        return "—"
    parts = [READER.get(ev.get("reader"), ev.get("reader") or "")]
    if ev.get("confidence") is not None:
        parts.append(f"confiance {float(ev['confidence']):.2f}")
    if ev.get("protected"):
        parts.append(PROTECTED.get(ev["protected"], ev["protected"]))
    return ", ".join(p for p in parts if p)


def _decision(f: dict[str, Any]) -> str:
    if f.get("state") in (None, "open"):
        return labels.FINDING_STATE["open"]
    text = labels.FINDING_STATE.get(f["state"], f["state"])
    if f.get("decided_by"):
        text += f" par {f['decided_by']}"
    if f.get("decided_at"):
        text += f" le {_day(f['decided_at'])}"
    if f.get("note"):
        text += f" : « {f['note']} »"
    return text


def render_report(data: dict[str, Any], crops: dict[str, bytes] | None = None) -> bytes:
    """The report as PDF bytes. `crops` maps "<piece index>/<field>" to a JPEG of where it was read."""
    crops = crops or {}
    report = _Report(f"Rapport de contrôle {data['reference']}")
    pdf = report.pdf
    pdf.add_page()

    report.font(14, True)
    pdf.cell(0, 7, report.text(f"Rapport de contrôle du dossier {data['reference']}"), new_x="LMARGIN", new_y="NEXT")
    report.font(9)
    status = labels.STATUS.get(data["status"], data["status"])
    pdf.multi_cell(0, 4.6, report.text(
        f"Statut : {status}. Contrôlé le {_stamp(data.get('checked_at'))}, pour la date de référence du "
        f"{_day(data.get('reference_date'))}."), new_x="LMARGIN", new_y="NEXT")

    report.heading("Identité déclarée")
    report.table((28, 63, 30, 61), [[{"text": r[0], "bold": True}, r[1], {"text": r[2], "bold": True}, r[3]]
                                    for r in _identity_rows(data.get("declared") or {})])

    report.heading("Pièces exigées pour cette démarche")
    rows = []
    for r in data.get("requirements") or []:
        meets = "; ".join(f"{d['file']}, p. {d['page']}" for d in r.get("documents") or []) or "—"
        state = REQUIREMENT_STATE.get(r["state"], r["state"])
        if r["state"] == "invalid" and r.get("export_file"):
            state = "Acceptée (dérogation)"
        rows.append([r["label"][:1].upper() + r["label"][1:], state, meets, r.get("export_file") or "—"])
    report.table((64, 24, 50, 44), rows, header=["Pièce exigée", "État", "Pièce qui y répond", "Fichier pour l'ANTS"])

    report.heading("Valeurs lues, et où elles ont été lues")
    for piece in data.get("pieces") or []:
        fields = piece.get("fields") or {}
        shown = [n for n in SHOWN_FIELDS if n in fields]
        if not shown:
            continue
        rows = [[{"text": _piece_title(piece), "bold": True, "colspan": 4}]]
        for name in shown:
            crop = crops.get(f"{piece.get('index')}/{name}")
            ev = (piece.get("evidence") or {}).get(name)
            label = labels.FIELD.get(name, name)
            rows.append([label, _value(name, fields[name]), _reading(ev),
                         {"img": crop} if crop else "—"])
        report.table((30, 62, 45, 45), rows, size=7)
        pdf.ln(1)

    findings = data.get("findings") or []
    report.heading(f"Constats ({len(findings)})")
    if not findings:
        report.font(8.5)
        pdf.cell(0, 5, report.text("Aucun constat : toutes les pièces exigées sont présentes et valides."),
                 new_x="LMARGIN", new_y="NEXT")
    else:
        rows = []
        for f in findings:
            where = f" — {f['file']}" + (f", p. {f['page']}" if f.get("page") else "") if f.get("file") else ""
            rows.append([labels.SEVERITY.get(f["severity"], f["severity"]), f"{f['message']}\n{f['code']}{where}",
                         _decision(f)])
        report.table((20, 112, 50), rows, header=["Gravité", "Constat", "Décision"])

    pdf.ln(3)
    report.font(7.5)
    pdf.set_text_color(80, 80, 80)
    pdf.multi_cell(0, 3.8, report.text(
        f"Rapport établi par intake {data.get('intake_version', '')}, version du contrôle "
        f"{data.get('pipeline_version', '')}, le {_stamp(data.get('generated_at'))}, à partir des mêmes données "
        "que le résultat JSON du contrôle (rapport-controle.json). Les pièces exportées ne sont modifiées que "
        "par la géométrie (redressement, recadrage), le contraste et la compression."), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
