"""From report content to HTML (Jinja, templates under reports/templates) to PDF (WeasyPrint).

User text (grid, community and people names) is only ever HTML-escaped element text: never
inside ``<style>`` (``</style>`` ends it whatever the CSS escaping), the running headers take it
from the page with ``string-set``. WeasyPrint fetches nothing but the report's own files and
``data:`` URIs: its default fetcher follows ``file://`` and ``http://``, and a
``<link rel=attachment>`` would put a server file into the PDF.
"""
from __future__ import annotations

import mimetypes
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reports.charts import Series, bar_chart, rate_chart
from reports.content import ReportContent
from reports.indicators import DEFINED, DEFINITIONS, FIGURES_VERSION, RANKING_RULE
from reports.periods import PERIOD_NAMES
from reports.scopes import STAFF_ROLES

TEMPLATES = Path(__file__).resolve().parent / "templates"
TITLE = "网格治理监督报告"
# The cover lists the grids' responsible people when the report covers at most this many grids;
# beyond that they go to an appendix table.
COVER_GRIDS = 8
# Indicators printed in the breakdown, trend and ranking tables, with their column headings.
BREAKDOWN_COLUMNS = (
    ("opened", "案件数"), ("filed", "立案数"), ("closed", "结案数"), ("closure", "结案率"),
    ("on_time_closure", "按期结案率"), ("on_time_disposal", "按时处置率"), ("rework", "返工率"),
    ("overdue", "超期数"), ("to_dispatch", "派遣用时 h"), ("to_close", "结案用时 h"),
    ("satisfaction", "满意率"),
)


def _css_string(text: str) -> Markup:
    """Text to put inside a double-quoted CSS string (settings such as the font name, never user
    text): every ASCII character but letters, digits and spaces as a CSS hex escape, so no
    quote, backslash, ``<`` or newline can end the string or the ``<style>`` element."""
    return Markup("".join(ch if ch.isalnum() or ch == " " or ord(ch) > 0x7F and ch.isprintable()
                          else f"\\{ord(ch):x} " for ch in str(text)))


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    hours = seconds / 3600
    return f"{hours:.1f} 小时" if hours < 48 else f"{hours / 24:.1f} 天"


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["css_string"] = _css_string
    env.filters["hours"] = _hours
    return env


def _charts(content: ReportContent, font: str) -> list[Markup]:
    labels = [p.short_label for p, _ in content.trend]
    figures = [ind for _, ind in content.trend]
    counts = bar_chart("案件数量趋势", labels, [
        Series("案件数", "#0b6bcb", [f.opened for f in figures]),
        Series("立案数", "#5b9bd5", [f.filed for f in figures]),
        Series("结案数", "#1e8e3e", [f.closed for f in figures]),
        Series("超期数", "#c0392b", [f.overdue for f in figures]),
    ], font)
    rates = rate_chart("办理质量趋势", labels, [
        Series("结案率", "#0b6bcb", [f.closure.value for f in figures]),
        Series("按期结案率", "#1e8e3e", [f.on_time_closure.value for f in figures]),
        Series("按时处置率", "#e67e22", [f.on_time_disposal.value for f in figures]),
        Series("满意率", "#8e44ad", [f.satisfaction.value for f in figures]),
    ], font)
    return [counts, rates]


def render_html(content: ReportContent, font: str) -> str:
    """The report as one self-contained HTML document (styles and charts inline)."""
    tz = content.tz

    def local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return moment.astimezone(tz).strftime(fmt) if moment is not None else "—"

    previous = content.trend[-2][1] if len(content.trend) > 1 else None
    return _environment().get_template("report.html").render(
        c=content, title=TITLE, font=font, local=local, previous=previous,
        definitions=DEFINITIONS, ranking_rule=RANKING_RULE, period_name=PERIOD_NAMES[content.period.kind],
        columns=BREAKDOWN_COLUMNS, staff_roles=STAFF_ROLES, cover_grids=COVER_GRIDS,
        charts=_charts(content, font), definitions_by_key=DEFINED, figures_version=FIGURES_VERSION,
    )


def report_file_url(url: str) -> Path | None:
    """The file a ``file:`` URL names when it is one of the report's own (under
    reports/templates), else None."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(unquote(parts.path)).resolve()
    return path if path.is_relative_to(TEMPLATES) and path.is_file() else None


@cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ReportAssetFetcher(URLFetcher):
        """``data:`` URIs and the report's own files; anything else is refused (WeasyPrint logs
        a warning and leaves the resource out)."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols={"data"}, allow_redirects=False)

        def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
            if url[:5].lower() == "data:":
                return super().fetch(url, headers)
            path = report_file_url(url)
            if path is None:
                raise ValueError(f"reports fetch only their own files and data: URIs, not {url[:80]}")
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": kind})

    return ReportAssetFetcher


def report_url_fetcher():
    """A WeasyPrint URL fetcher limited to ``data:`` URIs and files under reports/templates."""
    return _fetcher_class()()


def render_pdf(html: str) -> tuple[bytes, int]:
    """Print the HTML with WeasyPrint; returns the PDF and its number of pages."""
    from weasyprint import HTML  # heavy import, only where PDFs are printed

    document = HTML(string=html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=report_url_fetcher()).render()
    return document.write_pdf(), len(document.pages)
