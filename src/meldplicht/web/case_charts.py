"""The dashboard's case charts: each bar opens the case queue filtered on it, with its count."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from meldplicht.inspection import case_queue, case_stats, case_views
from meldplicht.web import charts, i18n


def dashboard_charts(session: Session, t: i18n.Translator, on: date) -> dict[str, Any]:
    """Context for the dashboard's "cases" section: four charts and their tables."""
    unknown = t("inspector.dash.unknown")

    def bars(rows: list[case_stats.CaseCount], label: Any) -> list[charts.Bar]:
        return [
            charts.Bar(
                label=label(r.key) if r.key else unknown,
                value=r.count,
                text=str(r.count),
                href=r.href,
            )
            for r in rows
        ]

    groups = {
        "severity": bars(
            case_stats.by_filter(session, "severity", case_views.SEVERITIES, on),
            lambda k: t.enum("severity", k),
        ),
        "due": bars(
            case_stats.by_filter(session, "due", tuple(d.value for d in case_queue.DueStatus), on),
            lambda k: t(f"cases.due.{k}"),
        ),
        "sector": bars(case_stats.by_column(session, "sector"), str),
        "province": bars(case_stats.by_column(session, "province"), str),
    }
    return {
        "case_groups": [
            {
                "key": key,
                "title": t(f"cases.dash.{key}"),
                "bars": bar_list,
                "chart": charts.ranked_bars(
                    bar_list,
                    chart_id=f"chart-case-{key}",
                    title=t(f"cases.dash.{key}"),
                    description=t(f"cases.dash.{key}_desc"),
                    empty_text=t("inspector.dash.empty"),
                ),
            }
            for key, bar_list in groups.items()
        ]
    }
