"""Charts for the inspector's dashboard, drawn on the server as inline SVG (no script, no CDN).

The pages' CSP has `style-src 'self'` without 'unsafe-inline', which also blocks `style=`
attributes, so every colour and size is an SVG presentation attribute (fill=, x=, width=).
Charts do not rely on colour: every bar carries its number as text, the second series of the
weekly chart is hatched and named in a legend, and each chart has a <title> and <desc>
(referenced by aria-labelledby). The page puts a data table beside each chart as well.
All text arrives translated; everything written into the SVG is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif"
INK = "#1b1b1b"
BAR = "#154273"  # --brand: 10.6:1 against white
SECOND = "#1d6b2f"  # --ok: the hatched series' lines and outline
TRACK = "#f3f2f1"


@dataclass(frozen=True, slots=True)
class Bar:
    """One ranked bar: its label, its value (for the length) and the number written on it."""

    label: str
    value: float
    text: str
    href: str | None = None  # the bar (label, bar and number) links here when given


@dataclass(frozen=True, slots=True)
class WeekCount:
    label: str
    opened: int
    resolved: int


def _svg_open(chart_id: str, height: int, title: str, description: str) -> list[str]:
    cid = escape(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{cid}" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-labelledby="{cid}-title {cid}-desc" font-family="{FONT}" fill="{INK}">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(description)}</desc>',
    ]


def ranked_bars(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    description: str,
    empty_text: str,
    max_value: float | None = None,
) -> Markup:
    """Horizontal bars, largest first as given: the label above each bar, its number after it.

    Labels sit on their own line so long rule names are never cut off. A bar with an `href`
    is a link as a whole (SVG <a>), e.g. to the case queue filtered on it.
    """
    row = 46
    height = max(row * len(bars), 40) + 6
    out = _svg_open(chart_id, height, title, description)
    if not bars:
        out.append(f'<text x="0" y="24" font-size="15">{escape(empty_text)}</text>')
        return Markup("\n".join([*out, "</svg>"]))  # noqa: S704 - every part escaped above
    top = max_value if max_value is not None else max(b.value for b in bars)
    room = WIDTH - 160  # space after the longest bar for its number ("100% (12 of 12)")
    for index, bar in enumerate(bars):
        y = index * row
        length = 0.0 if top <= 0 else room * max(bar.value, 0) / top
        if bar.href:
            out.append(f'<a href="{escape(bar.href)}" class="chart-link">')
        out.append(f'<text x="0" y="{y + 16}" font-size="15">{escape(bar.label)}</text>')
        out.append(
            f'<rect x="0" y="{y + 22}" width="{room}" height="18" fill="{TRACK}" '
            'aria-hidden="true"/>'
        )
        out.append(
            f'<rect x="0" y="{y + 22}" width="{length:.1f}" height="18" fill="{BAR}" '
            'aria-hidden="true"/>'
        )
        out.append(
            f'<text x="{length + 6:.1f}" y="{y + 36}" font-size="14" font-weight="700">'
            f"{escape(bar.text)}</text>"
        )
        if bar.href:
            out.append("</a>")
    out.append("</svg>")
    return Markup("\n".join(out))  # noqa: S704 - every part escaped above


def weekly_columns(
    weeks: Sequence[WeekCount],
    *,
    chart_id: str,
    title: str,
    description: str,
    opened_label: str,
    resolved_label: str,
) -> Markup:
    """Two columns per week (opened: solid; resolved: hatched), each with its number on top."""
    legend_h, plot_h, axis_h = 34, 190, 26
    height = legend_h + plot_h + axis_h
    out = _svg_open(chart_id, height, title, description)
    hatch = f"{escape(chart_id)}-hatch"
    out.append(
        f'<defs><pattern id="{hatch}" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{SECOND}" stroke-width="3"/>'
        "</pattern></defs>"
    )
    # The legend names both series with the same fills the columns use.
    out.append(f'<rect x="0" y="6" width="18" height="18" fill="{BAR}"/>')
    out.append(f'<text x="24" y="20" font-size="15">{escape(opened_label)}</text>')
    second_x = 40 + 8 * len(opened_label)
    out.append(
        f'<rect x="{second_x}" y="6" width="18" height="18" fill="url(#{hatch})" '
        f'stroke="{SECOND}" stroke-width="1.5"/>'
    )
    out.append(f'<text x="{second_x + 24}" y="20" font-size="15">{escape(resolved_label)}</text>')
    top = max([1, *(w.opened for w in weeks), *(w.resolved for w in weeks)])
    base = legend_h + plot_h
    slot = WIDTH / max(len(weeks), 1)
    column = min(22.0, (slot - 10) / 2)
    usable = plot_h - 20  # room above the tallest column for its number
    out.append(
        f'<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="{INK}" stroke-width="1"/>'
    )
    for index, week in enumerate(weeks):
        left = index * slot + (slot - 2 * column - 2) / 2
        for offset, value, fill, stroke in (
            (0.0, week.opened, BAR, "none"),
            (column + 2, week.resolved, f"url(#{hatch})", SECOND),
        ):
            h = usable * value / top
            x = left + offset
            out.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{column:.1f}" height="{h:.1f}" '
                f'fill="{fill}" stroke="{stroke}" stroke-width="1.5" aria-hidden="true"/>'
            )
            out.append(
                f'<text x="{x + column / 2:.1f}" y="{base - h - 4:.1f}" font-size="13" '
                f'text-anchor="middle" font-weight="700">{value}</text>'
            )
        out.append(
            f'<text x="{index * slot + slot / 2:.1f}" y="{base + 18}" font-size="13" '
            f'text-anchor="middle">{escape(week.label)}</text>'
        )
    out.append("</svg>")
    return Markup("\n".join(out))  # noqa: S704 - every part escaped above
