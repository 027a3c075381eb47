"""Trend charts as inline SVG: grouped bars for counts, lines for rates.

WeasyPrint draws inline SVG itself, but SVG text does not inherit the page's CSS: the font
family is written on the ``<svg>`` element, or Chinese labels would print as empty boxes.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 680, 230
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 30, 30


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    values: Sequence[float | None]


def nice_ceiling(value: float) -> tuple[float, float]:
    """An axis top at or above ``value`` and a step that divides it in at most five, from 1-2-5."""
    if value <= 0:
        return 1.0, 1.0
    magnitude = 10 ** math.floor(math.log10(value / 5))
    for factor in (1, 2, 5, 10):
        step = factor * magnitude
        if math.ceil(value / step) <= 5:
            return math.ceil(value / step) * step, step
    return value, value  # not reached: factor 10 always fits


def _fmt(value: float) -> str:
    return f"{value:g}"


def _frame(font: str, title: str, series: Sequence[Series]) -> list[str]:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" font-family="{escape(font)}" font-size="11" role="img" '
        f'aria-label="{escape(title)}">',
        f'<text x="{LEFT}" y="14" font-size="12" font-weight="bold" fill="#1d2530">{escape(title)}</text>',
    ]
    x = WIDTH - RIGHT
    for s in reversed(series):
        x -= 14 + 12 * len(s.name) + 10
        parts.append(f'<rect x="{x}" y="5" width="10" height="10" fill="{s.color}"/>'
                     f'<text x="{x + 14}" y="14" fill="#333">{escape(s.name)}</text>')
    return parts


def _axis(parts: list[str], top: float, step: float, percent: bool) -> None:
    plot_h = HEIGHT - TOP - BOTTOM
    ticks = round(top / step)
    for i in range(ticks + 1):
        value = step * i
        y = TOP + plot_h - plot_h * value / top
        label = f"{_fmt(value)}%" if percent else _fmt(value)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                     f'stroke="{"#888" if i == 0 else "#e1e5ea"}" stroke-width="1"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#5c6b7a">{label}</text>')


def _x_labels(parts: list[str], labels: Sequence[str]) -> float:
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    for i, label in enumerate(labels):
        parts.append(f'<text x="{LEFT + slot * (i + 0.5):.1f}" y="{HEIGHT - 10}" text-anchor="middle" '
                     f'fill="#1d2530">{escape(label)}</text>')
    return slot


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], font: str) -> Markup:
    """Counts per period as grouped bars, each bar labelled with its value."""
    top, step = nice_ceiling(max((v or 0 for s in series for v in s.values), default=0))
    parts = _frame(font, title, series)
    _axis(parts, top, step, percent=False)
    slot = _x_labels(parts, labels)
    plot_h = HEIGHT - TOP - BOTTOM
    bar_w = min(22.0, slot * 0.8 / max(len(series), 1))
    for i in range(len(labels)):
        first = LEFT + slot * (i + 0.5) - bar_w * len(series) / 2
        for j, s in enumerate(series):
            value = s.values[i] or 0
            h = plot_h * value / top
            x, y = first + j * bar_w, TOP + plot_h - h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                         f'fill="{s.color}"/>')
            if value:
                parts.append(f'<text x="{x + (bar_w - 2) / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                             f'font-size="9" fill="#333">{_fmt(value)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def rate_chart(title: str, labels: Sequence[str], series: Sequence[Series], font: str) -> Markup:
    """Rates (0..1, None for no data) per period as lines on a 0-100% axis; gaps where None."""
    parts = _frame(font, title, series)
    _axis(parts, 100, 25, percent=True)
    slot = _x_labels(parts, labels)
    plot_h = HEIGHT - TOP - BOTTOM
    for s in series:
        runs: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            point = (LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * value)
            runs[-1].append(point)
            parts.append(f'<circle cx="{point[0]:.1f}" cy="{point[1]:.1f}" r="3" fill="{s.color}"/>')
        for run in runs:
            if len(run) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
