"""The close page's chart, drawn here as inline SVG (no JavaScript).

Bars: money in per day (KES, left axis). Line: the share of STK pushes
that succeeded (%, right axis), broken on days without pushes. Each bar
and point carries a ``<title>`` with its exact figures (a tooltip).
"""

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from closing.services.trends import TrendPoint

WIDTH, HEIGHT = 760, 310
LEFT, RIGHT, TOP, BOTTOM = 78, 700, 44, 250
BAR_COLOUR, LAST_BAR_COLOUR, LINE_COLOUR = "#79aec8", "#205067", "#d9480f"
GRID_COLOUR, TEXT_COLOUR = "#dddddd", "#333333"
FONT = 'font-family="sans-serif" font-size="12"'
LABEL_EVERY = 5


def trend_svg(points: Sequence[TrendPoint]) -> SafeString:
    """The chart of ``points`` (oldest first), the last one highlighted."""
    top = _nice_ceiling(max((point.money_in for point in points), default=0))
    band = (RIGHT - LEFT) / max(len(points), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="close-chart" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="close-chart-title">',
        '<title id="close-chart-title">Money in per day (bars, KES) and the '
        "share of STK pushes that succeeded (line, %), last "
        f"{len(points)} days</title>",
        *_axes(top),
        *_bars(points, top, band),
        *_line(points, band),
        *_day_labels(points, band),
        *_legend(),
        "</svg>",
    ]
    return mark_safe("".join(parts))  # noqa: S308 (numbers and escaped text)


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value``
    (1,000 at least, so an empty month still has a scale)."""
    scale = 1000
    while True:
        for step in (1, 2, 5):
            if step * scale >= value:
                return step * scale
        scale *= 10


def _y_money(amount: int, top: int) -> float:
    return BOTTOM - (BOTTOM - TOP) * amount / top


def _y_percent(percent: int) -> float:
    return BOTTOM - (BOTTOM - TOP) * percent / 100


def _axes(top: int) -> list[str]:
    parts = []
    for quarter in range(5):
        y = _y_money(top * quarter // 4, top)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{RIGHT}" y2="{y:.1f}" '
            f'stroke="{GRID_COLOUR}"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT} '
            f'fill="{TEXT_COLOUR}">{top * quarter // 4:,}</text>'
        )
        parts.append(
            f'<text x="{RIGHT + 6}" y="{y + 4:.1f}" {FONT} '
            f'fill="{LINE_COLOUR}">{quarter * 25}%</text>'
        )
    middle = (TOP + BOTTOM) / 2
    parts += [
        f'<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" '
        f'stroke="{TEXT_COLOUR}"/>',
        f'<text x="16" y="{middle:.0f}" {FONT} fill="{TEXT_COLOUR}" '
        f'text-anchor="middle" transform="rotate(-90 16 {middle:.0f})">'
        "Money in (KES)</text>",
        f'<text x="{WIDTH - 10}" y="{middle:.0f}" {FONT} fill="{LINE_COLOUR}" '
        f'text-anchor="middle" transform="rotate(90 {WIDTH - 10} {middle:.0f})">'
        "STK pushes succeeded (%)</text>",
        f'<text x="{(LEFT + RIGHT) / 2:.0f}" y="{HEIGHT - 8}" {FONT} '
        f'fill="{TEXT_COLOUR}" text-anchor="middle">Day (Nairobi time)</text>',
    ]
    return parts


def _bars(points: Sequence[TrendPoint], top: int, band: float) -> list[str]:
    parts = []
    for index, point in enumerate(points):
        y = _y_money(point.money_in, top)
        colour = LAST_BAR_COLOUR if index == len(points) - 1 else BAR_COLOUR
        parts.append(
            f'<rect class="bar" data-day="{point.day.isoformat()}" '
            f'x="{LEFT + index * band + band * 0.15:.1f}" y="{y:.1f}" '
            f'width="{band * 0.7:.1f}" height="{BOTTOM - y:.1f}" fill="{colour}">'
            f"<title>{escape(_tooltip(point))}</title></rect>"
        )
    return parts


def _tooltip(point: TrendPoint) -> str:
    share = point.success_percent
    pushes = (
        f"{point.pushes_completed} of {point.pushes} pushes succeeded ({share}%)"
        if share is not None
        else "no STK pushes"
    )
    return f"{point.day:%a %d %b %Y}: KES {point.money_in:,}; {pushes}"


def _line(points: Sequence[TrendPoint], band: float) -> list[str]:
    """One polyline per run of days with pushes, and a dot per day."""
    runs: list[list[str]] = [[]]
    dots = []
    for index, point in enumerate(points):
        share = point.success_percent
        if share is None:
            runs.append([])
            continue
        x, y = LEFT + (index + 0.5) * band, _y_percent(share)
        runs[-1].append(f"{x:.1f},{y:.1f}")
        dots.append(
            f'<circle class="point" data-day="{point.day.isoformat()}" '
            f'cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{LINE_COLOUR}">'
            f"<title>{escape(_tooltip(point))}</title></circle>"
        )
    lines = [
        f'<polyline points="{" ".join(run)}" fill="none" '
        f'stroke="{LINE_COLOUR}" stroke-width="2"/>'
        for run in runs
        if len(run) > 1
    ]
    return lines + dots


def _day_labels(points: Sequence[TrendPoint], band: float) -> list[str]:
    parts = []
    for index, point in enumerate(points):
        last = index == len(points) - 1
        if index % LABEL_EVERY and not last:
            continue
        x = LEFT + (index + 0.5) * band
        parts.append(
            f'<text x="{x:.1f}" y="{BOTTOM + 18}" {FONT} fill="{TEXT_COLOUR}" '
            f'text-anchor="middle">{point.day:%d %b}</text>'
        )
    return parts


def _legend() -> list[str]:
    return [
        f'<rect x="{LEFT}" y="12" width="14" height="14" fill="{BAR_COLOUR}"/>',
        f'<text x="{LEFT + 20}" y="24" {FONT} fill="{TEXT_COLOUR}">'
        "Money in per day (KES)</text>",
        f'<line x1="{LEFT + 210}" y1="19" x2="{LEFT + 234}" y2="19" '
        f'stroke="{LINE_COLOUR}" stroke-width="2"/>',
        f'<circle cx="{LEFT + 222}" cy="19" r="3.5" fill="{LINE_COLOUR}"/>',
        f'<text x="{LEFT + 242}" y="24" {FONT} fill="{TEXT_COLOUR}">'
        "Share of STK pushes that succeeded (%)</text>",
    ]
