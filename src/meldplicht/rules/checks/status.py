"""Eligibility and status checks: contract, document, nationality, protection end, declared end."""

from __future__ import annotations

from datetime import date

from meldplicht.rules.checks.base import (
    SWEEP,
    Context,
    Explanation,
    RuleInfo,
    Verdict,
    date_en,
    date_nl,
    explains,
    rule,
    verdict,
)
from meldplicht.rules.facts import EMPLOYMENT_CONTRACTS, Evaluation, Severity
from meldplicht.rules.protection import protection_end_known_on

BUWAV_BASIS = (
    "Besluit uitvoering Wet arbeid vreemdelingen 2022 art. 6.5 (Stb. 2022, 130): the exemption "
    "covers work on an employment contract by a person under temporary protection; "
    "https://zoek.officielebekendmakingen.nl/stb-2022-130.html"
)

NOT_EMPLOYMENT = RuleInfo(
    code="NOT_EMPLOYMENT_CONTRACT",
    severity=Severity.HIGH,
    version="1.0.0",
    legal_basis=BUWAV_BASIS,
    title_nl="Geen arbeidsovereenkomst",
    title_en="Not an employment contract",
    description_en=(
        "The exemption covers work on an employment contract only; self-employment and "
        "assignments need a work permit (refused at intake; flagged for migrated records)."
    ),
)
DOCUMENT_EXPIRED = RuleInfo(
    code="DOCUMENT_EXPIRED",
    severity=Severity.MEDIUM,
    version="1.0.0",
    legal_basis=(
        BUWAV_BASIS + "; IND extension letters: "
        "https://ind.nl/nl/oekraine/verlenging-sticker-of-pasje-tijdelijke-bescherming-oekraine"
    ),
    title_nl="Verblijfsdocument verlopen",
    title_en="Protection document expired",
    description_en=(
        "The declared validity of the worker's document ends before the start date (intake) "
        "or before the judged date of an active employment (sweep). An IND extension letter "
        "may exist, so this asks for a check rather than proving a violation."
    ),
)
STATUS_CHECK = RuleInfo(
    code="PROTECTION_STATUS_CHECK",
    severity=Severity.MEDIUM,
    version="1.0.0",
    legal_basis=(
        "Vreemdelingenbesluit 2000 art. 3.1a; Raad van State 17 January 2024 (protection of "
        "third-country nationals with a temporary Ukrainian residence permit ended 4 March "
        "2024; rights restored pending the EU Court of Justice until at most 4 March 2025; Court "
        "of Justice C-244/24 and C-290/24, December 2024); "
        "https://ind.nl/nl/nieuws/ind-informeert-derdelanders-oekraine-over-beeindiging-tijdelijke-bescherming"
    ),
    title_nl="Controle beschermingsstatus",
    title_en="Protection status check",
    description_en=(
        "The worker is not a Ukrainian national and the work starts, or continues, after "
        "4 March 2024, when protection ended for third-country nationals who held a temporary "
        "Ukrainian residence permit. Their status needs a check: family members of Ukrainians "
        "and people who held protection or a permanent permit in Ukraine remain covered, and "
        "from May 2024 until at most 4 March 2025 many of the others held restored rights."
    ),
)
PROTECTION_ENDS = RuleInfo(
    code="PROTECTION_ENDS_BEFORE_END_DATE",
    severity=Severity.INFO,
    version="1.0.0",
    legal_basis=(
        "Directive 2001/55/EC art. 4 and the Council implementing decisions extending it (now "
        "Council Implementing Decision (EU) 2025/1460: to 4 March 2027); BuWav 2022 art. 6.5 "
        "and 13.3(4); https://eur-lex.europa.eu/legal-content/NL/TXT/HTML/?uri=OJ%3AC_202505129"
    ),
    title_nl="Einddatum na einde tijdelijke bescherming",
    title_en="End date after the end of temporary protection",
    description_en=(
        "The declared end date lies after the end of temporary protection as known on the "
        "evaluation date. Informational: protection has been extended every year so far."
    ),
)
WORK_AFTER_PROTECTION = RuleInfo(
    code="WORK_AFTER_PROTECTION_END",
    severity=Severity.HIGH,
    version="1.0.0",
    legal_basis=PROTECTION_ENDS.legal_basis,
    title_nl="Werk na einde tijdelijke bescherming",
    title_en="Work after the end of temporary protection",
    description_en=(
        "The employment is active on the judged date, which lies after the end of temporary "
        "protection as known on the evaluation date (no extension is held)."
    ),
)
PAST_END = RuleInfo(
    code="PAST_DECLARED_END",
    severity=Severity.LOW,
    version="1.0.0",
    legal_basis=(
        "Regeling melding Wav art. 3 (the content of the notification); a change or end of the "
        "employment is reported on the UWV form by practice, no rule was found that requires "
        "it, hence low severity; https://wetten.overheid.nl/BWBR0031498/2022-04-01"
    ),
    title_nl="Einddatum verstreken zonder beëindiging",
    title_en="Declared end date passed without termination",
    description_en=(
        "Sweep only: the declared end date has passed and no termination notice was filed."
    ),
    applies_at=(SWEEP,),
)


@rule(NOT_EMPLOYMENT)
def check_not_employment_contract(ctx: Context) -> list[Verdict]:
    contract = ctx.facts.contract_type
    if contract in EMPLOYMENT_CONTRACTS:
        return []
    return verdict(NOT_EMPLOYMENT, contract_type=contract.value)


@explains(NOT_EMPLOYMENT)
def explain_not_employment_contract(_ctx: Context, v: Verdict) -> Explanation:
    contract = v.number("contract_type")
    return Explanation(
        message_en=(
            f"The contract type '{contract}' is not an employment contract; the "
            f"exemption from the work-permit duty does not cover it."
        ),
        message_nl=(
            f"Het contracttype '{contract}' is geen arbeidsovereenkomst; de "
            f"vrijstelling van de tewerkstellingsvergunningsplicht geldt er niet voor."
        ),
        evidence={
            "contract_type": contract,
            "arithmetic": f"contract type {contract} is not an employment contract",
            "arithmetic_nl": f"contracttype {contract} is geen arbeidsovereenkomst",
        },
    )


@rule(DOCUMENT_EXPIRED)
def check_document_expired(ctx: Context) -> list[Verdict]:
    valid_until = ctx.facts.worker.document_valid_until
    if ctx.employment_period_over or valid_until is None or valid_until >= ctx.judged_on:
        return []
    return verdict(
        DOCUMENT_EXPIRED,
        period_key=valid_until.isoformat(),
        valid_until=valid_until,
        judged_on=ctx.judged_on,
    )


@explains(DOCUMENT_EXPIRED)
def explain_document_expired(ctx: Context, v: Verdict) -> Explanation:
    valid_until: date = v.number("valid_until")
    if ctx.evaluation is Evaluation.INTAKE:
        when_en = f"before the start date {date_en(ctx.judged_on)}"
        when_nl = f"vóór de startdatum {date_nl(ctx.judged_on)}"
    else:
        when_en = f"while the employment runs ({date_en(ctx.judged_on)})"
        when_nl = f"terwijl het dienstverband loopt ({date_nl(ctx.judged_on)})"
    return Explanation(
        message_en=(
            f"The worker's document is valid until {date_en(valid_until)}, {when_en}. "
            f"Check whether the IND issued an extension letter or a new document."
        ),
        message_nl=(
            f"Het document van de werknemer is geldig tot {date_nl(valid_until)}, "
            f"{when_nl}. Controleer of de IND een verlengingsbrief of nieuw document heeft "
            f"verstrekt."
        ),
        evidence={
            "document_type": ctx.facts.worker.document_type,
            "document_valid_until": valid_until,
            "arithmetic": f"{valid_until.isoformat()} < {ctx.judged_on.isoformat()}",
            "arithmetic_nl": f"{valid_until.isoformat()} < {ctx.judged_on.isoformat()}",
        },
    )


def _active_after(ctx: Context, cutoff: date) -> bool:
    """Does the declared employment include a day after `cutoff`?"""
    f = ctx.facts
    return f.start_date > cutoff or f.end_date is None or f.end_date > cutoff


@rule(STATUS_CHECK)
def check_protection_status(ctx: Context) -> list[Verdict]:
    f = ctx.facts
    if ctx.employment_period_over or f.worker.nationality.upper() == "UKR":
        return []
    cutoff: date = ctx.params.at("third_country_nationals_protection_end", ctx.judged_on).value
    if not _active_after(ctx, cutoff):
        return []
    return verdict(STATUS_CHECK, nationality=f.worker.nationality, cutoff=cutoff)


@explains(STATUS_CHECK)
def explain_protection_status(ctx: Context, v: Verdict) -> Explanation:
    f = ctx.facts
    value = ctx.params.at("third_country_nationals_protection_end", ctx.judged_on)
    cutoff: date = v.number("cutoff")
    return Explanation(
        message_en=(
            f"The worker's nationality is {f.worker.nationality}, not Ukrainian, and the "
            f"work runs after {date_en(cutoff)}, when protection ended for third-country "
            f"nationals who held a temporary Ukrainian residence permit. Family members of "
            f"Ukrainians and people who held protection or a permanent permit in Ukraine "
            f"remain covered, and many others held restored rights from May 2024 until at "
            f"most 4 March 2025 (an IND sticker). Check the worker's protection status."
        ),
        message_nl=(
            f"De nationaliteit van de werknemer is {f.worker.nationality}, niet Oekraïens, "
            f"en het werk loopt na {date_nl(cutoff)}, toen de bescherming eindigde voor "
            f"derdelanders met een tijdelijke Oekraïense verblijfsvergunning. Gezinsleden "
            f"van Oekraïners en wie in Oekraïne bescherming of een vaste vergunning had, "
            f"blijven beschermd, en velen hadden van mei 2024 tot uiterlijk 4 maart 2025 "
            f"herstelde rechten (een IND-sticker). Controleer de beschermingsstatus."
        ),
        evidence={
            "nationality": f.worker.nationality,
            "cutoff": cutoff,
            "arithmetic": (
                f"start {f.start_date.isoformat()}, end "
                f"{f.end_date.isoformat() if f.end_date else 'open'}; a day after "
                f"{cutoff.isoformat()} is covered"
            ),
            "arithmetic_nl": (
                f"start {f.start_date.isoformat()}, einde "
                f"{f.end_date.isoformat() if f.end_date else 'open'}; een dag na "
                f"{cutoff.isoformat()} valt erin"
            ),
        },
        parameters=(value.as_use(),),
    )


@rule(PROTECTION_ENDS)
def check_protection_ends_before_end_date(ctx: Context) -> list[Verdict]:
    f = ctx.facts
    tp_end: date = protection_end_known_on(ctx.as_of, ctx.params).value
    if ctx.employment_period_over or f.end_date is None or f.end_date <= tp_end:
        return []
    return verdict(
        PROTECTION_ENDS, period_key=tp_end.isoformat(), end_date=f.end_date, protection_end=tp_end
    )


@explains(PROTECTION_ENDS)
def explain_protection_ends_before_end_date(ctx: Context, v: Verdict) -> Explanation:
    value = protection_end_known_on(ctx.as_of, ctx.params)
    end_date: date = v.number("end_date")
    tp_end: date = v.number("protection_end")
    return Explanation(
        message_en=(
            f"The declared end date {date_en(end_date)} lies after the end of temporary "
            f"protection as known on {date_en(ctx.as_of)} ({date_en(tp_end)}). The "
            f"exemption only covers work while protection lasts; it has been extended "
            f"every year so far."
        ),
        message_nl=(
            f"De opgegeven einddatum {date_nl(end_date)} ligt na het einde van de "
            f"tijdelijke bescherming zoals bekend op {date_nl(ctx.as_of)} "
            f"({date_nl(tp_end)}). De vrijstelling geldt alleen zolang de bescherming "
            f"duurt; die is tot nu toe elk jaar verlengd."
        ),
        evidence={
            "protection_end": tp_end,
            "arithmetic": f"{end_date.isoformat()} > {tp_end.isoformat()}",
            "arithmetic_nl": f"{end_date.isoformat()} > {tp_end.isoformat()}",
        },
        parameters=(value.as_use(),),
    )


@rule(WORK_AFTER_PROTECTION)
def check_work_after_protection_end(ctx: Context) -> list[Verdict]:
    tp_end: date = protection_end_known_on(ctx.as_of, ctx.params).value
    if ctx.employment_period_over or ctx.judged_on <= tp_end:
        return []
    return verdict(
        WORK_AFTER_PROTECTION,
        period_key=tp_end.isoformat(),
        judged_on=ctx.judged_on,
        protection_end=tp_end,
    )


@explains(WORK_AFTER_PROTECTION)
def explain_work_after_protection_end(ctx: Context, v: Verdict) -> Explanation:
    value = protection_end_known_on(ctx.as_of, ctx.params)
    tp_end: date = v.number("protection_end")
    return Explanation(
        message_en=(
            f"The employment runs on {date_en(ctx.judged_on)}, after the end of temporary "
            f"protection as known on {date_en(ctx.as_of)} ({date_en(tp_end)}), and no "
            f"extension is held."
        ),
        message_nl=(
            f"Het dienstverband loopt op {date_nl(ctx.judged_on)}, na het einde van de "
            f"tijdelijke bescherming zoals bekend op {date_nl(ctx.as_of)} "
            f"({date_nl(tp_end)}), en er is geen verlenging bekend."
        ),
        evidence={
            "protection_end": tp_end,
            "arithmetic": f"{ctx.judged_on.isoformat()} > {tp_end.isoformat()}",
            "arithmetic_nl": f"{ctx.judged_on.isoformat()} > {tp_end.isoformat()}",
        },
        parameters=(value.as_use(),),
    )


@rule(PAST_END)
def check_past_declared_end(ctx: Context) -> list[Verdict]:
    f = ctx.facts
    if (
        ctx.evaluation is not Evaluation.SWEEP
        or f.terminated
        or f.end_date is None
        or ctx.as_of <= f.end_date
    ):
        return []
    return verdict(PAST_END, end_date=f.end_date, as_of=ctx.as_of)


@explains(PAST_END)
def explain_past_declared_end(ctx: Context, v: Verdict) -> Explanation:
    end_date: date = v.number("end_date")
    return Explanation(
        message_en=(
            f"The declared end date {date_en(end_date)} has passed ({date_en(ctx.as_of)}) "
            f"and no termination or extension was notified."
        ),
        message_nl=(
            f"De opgegeven einddatum {date_nl(end_date)} is verstreken "
            f"({date_nl(ctx.as_of)}) en er is geen beëindiging of verlenging gemeld."
        ),
        evidence={
            "arithmetic": f"{ctx.as_of.isoformat()} > {end_date.isoformat()}",
            "arithmetic_nl": f"{ctx.as_of.isoformat()} > {end_date.isoformat()}",
        },
    )
