"""The case report for the inspection file: a PDF and a CSV annex, in Dutch.

Employer, workers (BSN masked), findings by rule with their legal basis, the back-pay
calculation with its arithmetic and the parameters with their references, and the case
history. Generated on demand from the case as it is; the route audits each generation.
"""

from __future__ import annotations

import csv
import io

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from meldplicht.inspection.case_schemas import CaseDetail
from meldplicht.rules.backpay import DISCLAIMER_NL, LEGAL_BASIS
from meldplicht.rules.wages import eur_nl
from meldplicht.web.pdf import unicode_font

OUTCOME_NL = {
    "no_violation": "geen overtreding",
    "warning": "waarschuwing",
    "fine_report": "boeterapport",
    "order_to_pay": "last tot betaling van achterstallig loon",
    "referred": "doorverwezen naar een andere instantie",
    "merged": "samengevoegd met de zaak van de werkgever",
}
STATUS_NL = {
    "open": "open",
    "claimed": "in behandeling genomen",
    "investigating": "in onderzoek",
    "closed": "afgesloten",
}
SIGNAL_SOURCE_NL = {"worker_page": "werknemerspagina", "partner": "partnerorganisatie"}
SIGNAL_STATUS_NL = {
    "unverified": "niet geverifieerd",
    "verified": "geverifieerd",
    "unfounded": "ongegrond",
}
SEVERITY_NL = {"high": "hoog", "medium": "middel", "low": "laag"}
SOURCE_NL = {"payroll": "loonadministratie", "declaration": "melding"}
ACTION_NL = {
    "case.opened": "zaak geopend",
    "case.flags_joined": "signalen aan de zaak toegevoegd",
    "case.claimed": "in behandeling genomen",
    "case.released": "teruggezet in de wachtrij",
    "case.assigned": "toegewezen",
    "case.investigating": "onderzoek gestart",
    "case.closed": "afgesloten",
    "case.note_added": "notitie toegevoegd",
    "case.report_generated": "rapport gemaakt",
}


class _Report(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        font = unicode_font()
        self.fonts_ok = font is not None
        if font is not None:
            self.add_font("report", "", str(font[0]))
            self.add_font("report", "B", str(font[1]))
            self.family_name = "report"
        else:
            self.family_name = "helvetica"
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)

    def safe(self, text: str) -> str:
        return text if self.fonts_ok else text.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family_name, "", 8)
        self.cell(0, 6, f"Pagina {self.page_no()}", align="C")

    def heading(self, text: str, size: int = 12) -> None:
        self.ln(3)
        self.set_font(self.family_name, "B", size)
        self.multi_cell(0, 7, self.safe(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.family_name, "", 10)

    def row(self, label: str, value: str) -> None:
        self.set_font(self.family_name, "B", 10)
        self.cell(62, 6, self.safe(label))
        self.set_font(self.family_name, "", 10)
        self.multi_cell(0, 6, self.safe(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def paragraph(self, text: str, size: int = 10) -> None:
        self.set_font(self.family_name, "", size)
        self.multi_cell(0, 5.5, self.safe(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)


def report_pdf(case: CaseDetail) -> bytes:
    pdf = _Report()
    pdf.set_title(f"Zaakrapport {case.reference}")
    pdf.set_creator("meldplicht")
    pdf.set_lang("nl")
    pdf.add_page()
    pdf.heading(f"Zaakrapport {case.reference}", size=16)
    pdf.row("Status", STATUS_NL.get(case.status, case.status))
    if case.outcome:
        pdf.row("Uitkomst", OUTCOME_NL.get(case.outcome, case.outcome))
        pdf.row("Toelichting", case.closing_note or "")
    pdf.row("Geopend op", case.opened_at.date().isoformat())
    pdf.row("Risicoscore", f"{case.risk_score} ({case.risk_breakdown.get('formula', '')})")

    pdf.heading("Werkgever")
    pdf.row("Naam", case.employer_name)
    pdf.row("KvK-nummer", case.kvk_number or "-")
    if not case.employer_registered:
        pdf.row("Geregistreerd", "nee: naam en KvK-nummer zoals gemeld in signalen")
    pdf.row("Sector", case.sector or "-")
    pdf.row("Provincie", case.province or "-")
    pdf.row("Vestiging", " ".join(p for p in (case.employer_postcode, case.employer_city) if p))

    pdf.heading("Bevindingen")
    for group in case.flags_by_rule:
        severity = SEVERITY_NL.get(group.severity, group.severity)
        pdf.paragraph(f"{group.message_nl} ({group.count}x, ernst {severity})")
        pdf.paragraph(f"Wettelijke grondslag: {group.legal_basis}", size=9)
    if not case.flags_by_rule:
        pdf.paragraph("Geen actieve bevindingen.")

    if case.signals:
        pdf.heading("Signalen van buiten (niet geverifieerd tot nagegaan)")
        for sig in case.signals:
            source = SIGNAL_SOURCE_NL.get(sig.source, sig.source)
            status = SIGNAL_STATUS_NL.get(sig.status, sig.status)
            pdf.paragraph(
                f"{sig.received_at.date().isoformat()}, {source}, {status}; plaats: {sig.place}"
            )
            pdf.paragraph(sig.what_happened, size=9)

    pdf.heading("Achterstallig loon (schatting)")
    pdf.paragraph(DISCLAIMER_NL, size=9)
    pdf.paragraph(f"Grondslag: {LEGAL_BASIS}.", size=9)
    pdf.row("Totaal", eur_nl(case.back_pay))
    for worker in case.workers:
        pdf.heading(f"{worker.name} (BSN {worker.bsn_masked}, {worker.age_band} jaar)", size=11)
        pdf.row("Gemeld loon", worker.declared_wage)
        pdf.row("Tekort", eur_nl(worker.shortfall))
        pdf.row("Vakantiebijslag", eur_nl(worker.holiday_allowance))
        pdf.row("Achterstallig loon", eur_nl(worker.back_pay))
        for part in worker.calculation.get("parts", []):
            pdf.paragraph(
                f"{part['start']} t/m {part['end']} (leeftijd {part['age']}, "
                f"{SOURCE_NL.get(part['source'], part['source'])}): {part['arithmetic_nl']}. "
                f"{part['minimum_basis_nl']}.",
                size=9,
            )
        for reason in worker.calculation.get("not_computed", []):
            pdf.paragraph(f"Niet berekend: {reason}", size=9)
        for use in worker.calculation.get("parameters", []):
            pdf.paragraph(
                f"Parameter {use['name']} vanaf {use['effective_from']}: {use['value']}. "
                f"Bron: {use['reference']}",
                size=8,
            )

    pdf.heading("Verloop van de zaak")
    for entry in case.timeline:
        text = ACTION_NL.get(entry.text, entry.text)
        pdf.paragraph(f"{entry.at.strftime('%Y-%m-%d %H:%M')} - {text}", size=9)
    for note in case.notes:
        pdf.paragraph(f"Notitie {note.author_name} ({note.created_at.date()}): {note.body}", size=9)
    return bytes(pdf.output())


CSV_HEADER = (
    "zaak",
    "werkgever",
    "kvk",
    "werknemer",
    "bsn",
    "leeftijdsgroep",
    "van",
    "tot_en_met",
    "bron",
    "leeftijd",
    "minimumuurloon",
    "uurloon",
    "uren",
    "tekort",
    "vakantiebijslag",
    "achterstallig_loon",
)


def _cell(value: str) -> str:
    # A cell a spreadsheet would read as a formula is quoted (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def report_csv(case: CaseDetail) -> str:
    """The annex: one line per worker and period of the back-pay calculation."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(CSV_HEADER)
    for worker in case.workers:
        for part in worker.calculation.get("parts", []):
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        case.reference,
                        case.employer_name,
                        case.kvk_number or "",
                        worker.name,
                        worker.bsn_masked,
                        worker.age_band,
                        part["start"],
                        part["end"],
                        SOURCE_NL.get(part["source"], part["source"]),
                        str(part["age"]),
                        part["hourly_due"],
                        part["hourly_paid"],
                        part["hours"],
                        part["shortfall"],
                        part["holiday_allowance"],
                        part["back_pay"],
                    )
                ]
            )
    return out.getvalue()
