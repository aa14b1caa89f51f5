"""A server-side SVG bar chart of visits per day: no script, nothing from another host."""

from __future__ import annotations

from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 240, 40, 30, 10


def visits_svg(days: list[tuple[date, int]]) -> SafeString:
    peak = max((count for _day, count in days), default=0) or 1
    slot = (WIDTH - LEFT) / max(len(days), 1)
    plot_height = HEIGHT - BOTTOM - TOP
    bars = []
    labels = []
    for index, (day, count) in enumerate(days):
        height = round(plot_height * count / peak, 1)
        x = round(LEFT + index * slot + 1, 1)
        bars.append((x, round(TOP + plot_height - height, 1), round(slot - 2, 1), height, f"{day:%Y-%m-%d}: {count}"))
        if index % 7 == 0 or index == len(days) - 1:
            labels.append((x, HEIGHT - 10, f"{day:%b %-d}"))
    return format_html(
        '<svg class="visits-chart" role="img" aria-label="Page views per day" viewBox="0 0 {} {}" width="{}" height="{}">'
        '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>'
        '<text x="0" y="{}">{}</text><text x="0" y="{}">0</text>{}{}</svg>',
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        LEFT,
        HEIGHT - BOTTOM,
        WIDTH,
        HEIGHT - BOTTOM,
        TOP + 10,
        peak,
        HEIGHT - BOTTOM,
        format_html_join(
            "",
            '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
            bars,
        ),
        format_html_join("", '<text x="{}" y="{}">{}</text>', labels),
    )
