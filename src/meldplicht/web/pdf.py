"""The receipt and the worker's copy as PDFs (fpdf2), with a Unicode font so Cyrillic
(names, and the Ukrainian worker's copy) prints as written.

The font is DejaVu Sans from the system (Debian: fonts-dejavu-core), else Liberation Sans.
Without either, the PDF falls back to the built-in Helvetica, which only has Latin-1: other
characters print as '?', and the PDF says so in a note (the web receipt is always complete).
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from meldplicht.notifications.schemas import NotificationOut
from meldplicht.web.i18n import Translator
from meldplicht.web.receipt import ReceiptParty
from meldplicht.web.worker_copy import MinimumForWorker

log = logging.getLogger("meldplicht.web")
# fpdf2 subsets fonts with fontTools, which logs every step at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT_CANDIDATES: tuple[tuple[Path, Path], ...] = (
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ),
    (
        Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
        Path("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    ),
)
FAMILY = "receipt"
LABEL_WIDTH = 60  # mm; a longer label wraps inside it
GUTTER = 4  # mm between a label and its value
QR_SIZE = 34  # mm, with its quiet zone: scans from paper at arm's length


@cache
def unicode_font() -> tuple[Path, Path] | None:
    for regular, bold in FONT_CANDIDATES:
        if regular.is_file() and bold.is_file():
            return regular, bold
    log.warning("no Unicode TTF font found: PDF receipts fall back to Latin-1 Helvetica")
    return None


class _Receipt(FPDF):
    def __init__(self, t: Translator, footer_key: str = "pdf.footer") -> None:
        super().__init__(format="A4")
        self.t = t
        self.footer_key = footer_key
        self.fonts_ok = unicode_font() is not None
        font = unicode_font()
        if font is not None:
            self.add_font(FAMILY, "", str(font[0]))
            self.add_font(FAMILY, "B", str(font[1]))
            self.family_name = FAMILY
        else:
            self.family_name = "helvetica"
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)

    def safe(self, text: str) -> str:
        if self.fonts_ok:
            return text
        return text.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family_name, "", 8)
        self.cell(0, 6, self.safe(self.t(self.footer_key, page=self.page_no())), align="C")

    def heading(self, text: str, size: int = 12) -> None:
        self.ln(3)
        self.set_font(self.family_name, "B", size)
        self.multi_cell(0, 7, self.safe(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.family_name, "", 10)

    def row(self, label: str, value: str) -> None:
        """A label and its value side by side; each wraps in its own column, so a long
        label never prints over its value, and the row moves to a new page whole."""
        label, value = self.safe(label), self.safe(value) or " "
        self.set_font(self.family_name, "B", 10)
        label_lines = self._line_count(LABEL_WIDTH, label)
        self.set_font(self.family_name, "", 10)
        value_width = self.epw - LABEL_WIDTH - GUTTER
        height = 6 * max(label_lines, self._line_count(value_width, value))
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()
        top = self.get_y()
        self.set_font(self.family_name, "B", 10)
        self.multi_cell(LABEL_WIDTH, 6, label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_xy(self.l_margin + LABEL_WIDTH + GUTTER, top)
        self.set_font(self.family_name, "", 10)
        self.multi_cell(value_width, 6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_xy(self.l_margin, top + height)

    def _line_count(self, width: float, text: str) -> int:
        lines = self.multi_cell(width, 6, text, dry_run=True, output="LINES")
        assert isinstance(lines, list)
        return len(lines)

    def qr_block(self, party: ReceiptParty) -> None:
        """The QR code with, beside it, the code and the address it leads to."""
        size = QR_SIZE
        if self.get_y() + size > self.page_break_trigger:
            self.add_page()
        top, left = self.get_y(), self.l_margin
        modules = party.qr_modules()
        unit = size / len(modules)
        self.set_fill_color(0, 0, 0)
        for y, line in enumerate(modules):
            x = 0
            while x < len(line):  # one rectangle per run of dark modules
                if not line[x]:
                    x += 1
                    continue
                start = x
                while x < len(line) and line[x]:
                    x += 1
                self.rect(left + start * unit, top + y * unit, (x - start) * unit, unit, "F")
        self.link(left, top, size, size, party.verify_url)
        text_left = left + size + GUTTER
        width = self.epw - size - GUTTER
        self.set_xy(text_left, top + 2)
        self.set_font(self.family_name, "", 10)
        self.multi_cell(width, 5.5, self.safe(self.t("verify.receipt_intro")))
        self.set_x(text_left)
        self.set_font(self.family_name, "B", 10)
        self.multi_cell(width, 6, self.t("verify.code") + ": " + party.code_display)
        self.set_x(text_left)
        self.set_font(self.family_name, "", 9)
        self.multi_cell(width, 5, party.verify_url, link=party.verify_url)
        self.set_xy(self.l_margin, max(self.get_y(), top + size) + 2)

    def titled(self, title: str, text: str) -> None:
        """A bold title on its own line, then its text (the page's <strong> and text)."""
        if self.get_y() + 12 > self.page_break_trigger:
            self.add_page()
        self.set_font(self.family_name, "B", 10)
        self.multi_cell(0, 5.5, self.safe(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.paragraph(text)

    def paragraph(self, text: str) -> None:
        self.set_font(self.family_name, "", 10)
        self.multi_cell(0, 5.5, self.safe(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)


def receipt_pdf(
    n: NotificationOut, timeliness: dict[str, Any], t: Translator, party: ReceiptParty
) -> bytes:
    pdf = _Receipt(t)
    pdf.set_title(f"{t('receipt.title')} {n.receipt_number}")
    pdf.set_subject(n.receipt_number)
    pdf.set_creator("meldplicht")
    pdf.set_lang(t.lang)
    pdf.add_page()
    pdf.heading(t("receipt.title"), size=16)
    pdf.paragraph(t("receipt.intro"))
    pdf.row(t("receipt.employer"), party.employer_name)
    pdf.row(t("receipt.employer_kvk"), party.employer_kvk_number)
    pdf.row(t("receipt.number"), n.receipt_number)
    pdf.row(t("receipt.received_at"), t.instant(n.received_at))
    pdf.row(t("receipt.notice_date"), t.date(n.notice_date))
    pdf.row(t("receipt.deadline"), t.date(timeliness["deadline"]))
    pdf.row(t("receipt.timeliness"), t(f"timeliness.{timeliness['verdict']}"))
    pdf.row(t("receipt.status"), t.enum("status", n.status))
    pdf.row(t("receipt.version"), str(n.version))
    pdf.ln(2)
    pdf.qr_block(party)

    w = n.worker
    pdf.heading(t("section.worker"))
    original = " ".join(p for p in (w.given_names_original, w.surname_original) if p)
    pdf.row(t("field.worker_name"), f"{w.given_names} {w.surname}")
    if original:
        pdf.row(t("field.worker_name_original"), original)
    pdf.row(t("field.worker_birth_date"), t.date(w.birth_date))
    pdf.row(t("field.worker_nationality"), w.nationality)
    pdf.row(t("field.worker_bsn"), w.bsn_masked)

    pdf.heading(t("section.work"))
    pdf.row(t("field.contract_type"), t.enum("contract", n.contract_type))
    pdf.row(t("field.start_date"), t.date(n.start_date))
    pdf.row(t("field.end_date"), t.date(n.end_date))
    pdf.row(t("field.job_title"), n.job_title)
    if n.hirer:
        pdf.row(t("field.hirer_name"), f"{n.hirer['name']} (KvK {n.hirer['kvk_number']})")

    pdf.heading(t("section.wage_hours"))
    wage = f"{t.money(n.wage.amount)} {t.enum('period', n.wage.period)}"
    pdf.row(t("field.wage_amount"), wage)
    pdf.row(t("field.wage_includes_holiday_allowance"), t.yes_no(n.wage.includes_holiday_allowance))
    pdf.row(t("field.hours_per_week"), t.number(n.hours_per_week))

    pdf.heading(t("section.locations"))
    for loc in n.work_locations:
        pdf.paragraph(f"{loc['street']} {loc['house_number']}, {loc['postcode']} {loc['city']}")

    pdf.heading(t("section.housing"))
    if n.housing:
        pdf.row(t("field.housing_address"), str(n.housing.get("address") or ""))
        pdf.row(t("field.housing_monthly_deduction"), t.money(n.housing.get("monthly_deduction")))
        pdf.row(t("field.housing_written_consent"), t.yes_no(n.housing.get("written_consent")))
        if n.housing.get("certified") is not None:
            pdf.row(t("field.housing_certified"), t.yes_no(n.housing.get("certified")))
    else:
        pdf.paragraph(t("receipt.no_housing"))

    pdf.heading(t("section.declaration"))
    pdf.row(t("field.signatory_name"), n.signatory_name)

    pdf.heading(t("findings.title"))
    if not n.findings:
        pdf.paragraph(t("findings.none"))
    for finding in n.findings:
        pdf.paragraph(
            f"[{t.enum('severity', finding.severity)}] "
            f"{t.error(finding.message_en, finding.message_nl)}"
        )
    if not pdf.fonts_ok:
        pdf.paragraph(t("pdf.font_missing"))
    return bytes(pdf.output())


def worker_copy_pdf(
    n: NotificationOut,
    t: Translator,
    party: ReceiptParty,
    minimum: MinimumForWorker | None,
    facts: dict[str, Any],
) -> bytes:
    """The worker's own copy (the same texts as the worker's copy page) as a PDF in the
    worker's language:
    the same texts in the same order. Like the page, it never prints the BSN."""
    pdf = _Receipt(t, footer_key="pdf.worker_copy_footer")
    pdf.set_title(f"{t('worker_copy.title')} {n.receipt_number}")
    pdf.set_subject(n.receipt_number)
    pdf.set_creator("meldplicht")
    pdf.set_lang(t.lang)
    pdf.add_page()
    pdf.heading(t("worker_copy.title"), size=16)
    pdf.paragraph(t("worker_copy.intro"))
    period = t(f"worker_copy.period.{n.wage.period}")
    wage = f"{t.money(n.wage.amount)} {period}"
    if n.wage.includes_holiday_allowance:
        wage += f" ({t('worker_copy.incl_holiday')})"
    pdf.row(t("worker_copy.worker"), f"{n.worker.given_names} {n.worker.surname}")
    pdf.row(t("receipt.employer"), party.employer_name)
    pdf.row(t("receipt.employer_kvk"), party.employer_kvk_number)
    pdf.row(t("receipt.number"), n.receipt_number)
    pdf.row(t("worker_copy.job"), n.job_title)
    pdf.row(t("worker_copy.start"), t.date(n.start_date))
    if n.end_date:
        pdf.row(t("worker_copy.end"), t.date(n.end_date))
    pdf.row(t("worker_copy.hours"), t.number(n.hours_per_week))
    pdf.row(t("worker_copy.wage"), wage)
    if minimum is None:
        owed = t("worker_copy.minimum_none")
    else:
        parts = [
            t(
                "worker_copy.minimum_hourly",
                amount=t.money(minimum.hourly),
                age=minimum.age,
                on=t.date(minimum.on),
            )
        ]
        if minimum.period_amount:
            parts.append(
                t(
                    "worker_copy.minimum_period",
                    amount=t.money(minimum.period_amount),
                    period=period,
                    hours=t.number(n.hours_per_week),
                )
            )
        if minimum.lower_bound:
            parts.append(t("worker_copy.minimum_lower_bound"))
        owed = " ".join(parts)
    pdf.row(t("worker_copy.minimum"), owed)
    pdf.ln(1)
    pdf.paragraph(t("worker_copy.minimum_basis"))
    pdf.paragraph(t("worker_copy.below"))

    pdf.heading(t("worker.rights.title"))
    rights: tuple[tuple[str, dict[str, Any]], ...] = (
        ("payslip", {}),
        ("hours", {"max": facts["max_week"], "average": facts["average_week"]}),
        ("housing", {"percent": facts["housing_cap_percent"]}),
        ("contract", {}),
        ("documents", {}),
    )
    for name, values in rights:
        pdf.titled(t(f"worker.rights.{name}.title"), t(f"worker.rights.{name}", **values))

    pdf.heading(t("worker.help.title"))
    pdf.paragraph(t("worker.help.intro"))
    pdf.titled(
        t("worker.help.nla.title"),
        f"{t('worker.help.nla')} 0800 5151 {t('worker.help.free')}, nlarbeidsinspectie.nl",
    )
    pdf.titled(t("worker.help.fairwork.title"), f"{t('worker.help.fairwork')} fairwork.nu")
    pdf.paragraph(t("worker.help.emergency"))

    pdf.heading(t("verify.receipt_title"))
    pdf.qr_block(party)
    if not pdf.fonts_ok:
        pdf.paragraph(t("pdf.font_missing"))
    return bytes(pdf.output())
