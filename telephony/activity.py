"""The activity chart: calls and texts per day in the user's time zone, drawn as inline SVG.

Counted fresh on every request (no cache: a cached chart disagreed with the
table under it) in one query per log, each a single range scan on the
(user, -time, -id) index with one conditional COUNT per day. Days are the
user's local days (the zone accounts.time_zones activated), the same bounds
the logs' since/until filters use, so the chart and the rows it links to agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from telephony.models import CallLog, SmsLog


@dataclass(frozen=True)
class Layout:
    """One drawing of the chart: its viewBox size, margins and label size, in the SVG's own units."""

    name: str
    width: int
    height: int
    left: int
    bottom: int
    top: int
    font: int


# Both drawings are in the page; telephony.css shows the one that fits. The wide one is 640 units
# across, so on a 390 px phone (about 300 px of chart) its 11-unit labels rendered at ~5 px; the
# phone one is 300 units across, so there its 13-unit labels render at about 13 px.
WIDE = Layout("wide", width=640, height=200, left=44, bottom=46, top=8, font=11)
PHONE = Layout("phone", width=300, height=210, left=32, bottom=50, top=10, font=13)
CALL_COLOR, TEXT_COLOR = "#1f6feb", "#1a7f37"


def plural(count: int, singular: str, plural_form: str = "") -> str:
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


@dataclass(frozen=True)
class ActivityChart:
    series: list[tuple[date, int, int]]
    zone: str

    @property
    def first_day(self) -> date:
        return self.series[0][0]

    @property
    def last_day(self) -> date:
        return self.series[-1][0]

    @property
    def calls(self) -> int:
        return sum(calls for _day, calls, _texts in self.series)

    @property
    def texts(self) -> int:
        return sum(texts for _day, _calls, texts in self.series)

    @property
    def summary(self) -> str:
        return f"{plural(self.calls, 'call')} and {plural(self.texts, 'text')} in the last {plural(len(self.series), 'day')}"

    def rows_query(self) -> str:
        return urlencode({"since": self.first_day.isoformat(), "until": self.last_day.isoformat()})

    @property
    def calls_url(self) -> str:
        return reverse("telephony:calls") + "?" + self.rows_query()

    @property
    def texts_url(self) -> str:
        return reverse("telephony:messages") + "?" + self.rows_query()

    @property
    def svg(self) -> SafeString:
        return activity_svg(self)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _per_day(model: type, user: Any, time_field: str, days: list[date]) -> list[int]:
    bounds = [(_start_of(day), _start_of(day + timedelta(days=1))) for day in days]
    counts = model.objects.filter(
        user=user, **{f"{time_field}__gte": bounds[0][0], f"{time_field}__lt": bounds[-1][1]}
    ).aggregate(
        **{
            f"d{index}": Count("id", filter=Q(**{f"{time_field}__gte": start, f"{time_field}__lt": end}))
            for index, (start, end) in enumerate(bounds)
        }
    )
    return [counts[f"d{index}"] for index in range(len(days))]


def activity_chart(user: Any, days: int = 30) -> ActivityChart:
    """(day, calls, texts) for each of the last `days` local days, oldest first."""
    today = timezone.localdate()
    day_list = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    calls = _per_day(CallLog, user, "started_at", day_list)
    texts = _per_day(SmsLog, user, "created_at", day_list)
    return ActivityChart(list(zip(day_list, calls, texts, strict=True)), timezone.get_current_timezone_name())


def activity_svg(chart: ActivityChart) -> SafeString:
    """The chart drawn for wide screens and for phones; CSS shows one of them."""
    return format_html_join("", "{}", ((_drawing(chart, layout),) for layout in (WIDE, PHONE)))


def _drawing(chart: ActivityChart, layout: Layout) -> SafeString:
    """Two bars per day, a y axis with its peak, dates under the x axis; no script, no style attribute."""
    series = chart.series
    peak = max([max(calls, texts) for _day, calls, texts in series] + [1])
    plot_height = layout.height - layout.bottom - layout.top
    base = layout.top + plot_height
    slot = (layout.width - layout.left) / max(len(series), 1)
    bars = []
    labels = []
    for index, (day, calls, texts) in enumerate(series):
        x = layout.left + index * slot
        for offset, count, color, noun in ((1, calls, CALL_COLOR, "call"), (slot / 2, texts, TEXT_COLOR, "text")):
            bar = round(plot_height * count / peak, 1)
            bars.append(
                (
                    round(x + offset, 1),
                    round(base - bar, 1),
                    round(slot / 2 - 1.5, 1),
                    bar,
                    color,
                    f"{day:%a %-d %b}: {plural(count, noun)}",
                )
            )
        if (len(series) - 1 - index) % 7 == 0:  # today and every week before it
            # Today's label ends at the chart's right edge instead of being cut off by it.
            today = index == len(series) - 1
            x_label, anchor = (layout.width, "end") if today else (round(x + slot / 2, 1), "middle")
            labels.append((x_label, base + layout.font + 3, anchor, f"{day:%-d %b}"))
    return format_html(
        '<svg class="activity-chart {name}" viewBox="0 0 {w} {h}" role="img" aria-label="{label}" '
        'xmlns="http://www.w3.org/2000/svg" font-size="{font}">'
        '<line x1="{left}" y1="{base}" x2="{w}" y2="{base}" stroke="#57606a"/>'
        '<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="#57606a"/>'
        '<text x="{tick}" y="{peak_y}" fill="#57606a" text-anchor="end">{peak}</text>'
        '<text x="{tick}" y="{base}" fill="#57606a" text-anchor="end">0</text>'
        '<text x="{per_day_x}" y="{mid}" fill="#57606a" text-anchor="middle" '
        'transform="rotate(-90 {per_day_x} {mid})">Per day</text>'
        "{bars}{labels}"
        '<text x="{center}" y="{axis_y}" fill="#57606a" text-anchor="middle">Day ({zone})</text>'
        "</svg>",
        name=layout.name,
        w=layout.width,
        h=layout.height,
        font=layout.font,
        label=f"Calls (blue) and texts (green) per day: {chart.summary}",
        left=layout.left,
        base=base,
        top=layout.top,
        tick=layout.left - 4,
        peak_y=layout.top + layout.font - 1,
        peak=peak,
        per_day_x=layout.font + 1,
        mid=layout.top + plot_height // 2,
        bars=format_html_join(
            "", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>', bars
        ),
        labels=format_html_join("", '<text x="{}" y="{}" fill="#57606a" text-anchor="{}">{}</text>', labels),
        center=layout.left + (layout.width - layout.left) // 2,
        axis_y=layout.height - 6,
        zone=chart.zone.replace("_", " "),
    )
