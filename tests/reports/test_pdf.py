"""The PDF itself: built from the known cases, its text holds the Chinese headings and the figures,
the CJK font is embedded, and its first two pages are saved as PNGs under var/report-pages/."""
from __future__ import annotations

import io
import subprocess
from pathlib import Path

from pypdf import PdfReader

from reports.builds import build_report, report_file, request_report
from reports.periods import parse_period
from reports.scopes import resolve_scope
from tests.reports.known_cases import at, build_known_cases

PAGES_DIR = Path(__file__).resolve().parents[2] / "var" / "report-pages"
HEADINGS = ["网格治理监督报告", "一、主要指标", "按案件类别", "按案件来源", "二、趋势", "案件数量趋势",
            "办理质量趋势", "三、超期与返工案件", "附录一", "指标定义", "立案数", "结案数", "结案率",
            "按期结案率", "按时处置率", "返工率", "超期数", "满意率", "网格管理员", "社区民警"]


def built(kind: str, code: str, month: str) -> Path:
    report = request_report(resolve_scope(kind, code), parse_period("month", month), "cli")
    with at("2026-11-05 10:00"):
        report = build_report(report.id)
    assert report.status == "done" and report.pages >= 3 and report.render_ms is not None
    return report_file(report)


def text_of(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    # Lines break inside table cells; compare without whitespace.
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def save_pages(path: Path, name: str) -> list[Path]:
    PAGES_DIR.mkdir(parents=True, exist_ok=True)
    prefix = PAGES_DIR / name
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "2", str(path), str(prefix)], check=True)
    pngs = sorted(PAGES_DIR.glob(f"{name}-*.png"))
    assert len(pngs) == 2 and all(p.stat().st_size > 20_000 for p in pngs)  # not blank pages
    return pngs


def test_grid_report_pdf_holds_headings_figures_and_an_embedded_cjk_font(data_dir, demo, backend):
    known = build_known_cases()
    path = built("grid", "JX-01", "2026-10")
    assert path.read_bytes().startswith(b"%PDF") and path.is_relative_to(data_dir)
    text = text_of(path)
    for heading in HEADINGS:
        assert heading in text, heading
    for figure in ("71.4%", "5/7", "66.7%", "4/6", "80.0%", "4/5", "33.3%", "2/6", "0.9/1.5", "50.3/99.0"):
        assert figure in text, figure
    for name in ("C3", "C4", "C6", "C9"):  # the overdue and reworked cases are listed
        assert known[name].ref in text
    assert known["C1"].ref not in text  # on time, no rework
    assert "锦绣社区第1网格" in text and "王建国" in text and "网格员01" in text  # cover: grid and its people
    assert "2026年10月" in text and "生成于2026-11-0510:00" in text and "第2页，共" in text

    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    embedded = [line for line in fonts.splitlines() if "WenQuanYi" in line]
    assert embedded and all(" yes yes yes " in line for line in embedded), fonts
    save_pages(path, f"grid-JX-01-2026-10-{backend}")


def test_street_report_ranks_its_grids_and_lists_their_people(data_dir, demo, backend):
    build_known_cases()
    path = built("street", "cuihu", "2026-10")
    text = text_of(path)
    assert "四、网格排名" in text and "各网格责任人" in text and "郭芳" in text  # CY-01's grid administrator
    assert "翠湖街道" in text and "共6个网格" in text
    save_pages(path, f"street-cuihu-2026-10-{backend}")
