"""Reports render only what they should: a grid or person named with HTML/CSS prints as text,
and the PDF printer fetches nothing but the report's own files and data: URIs."""
from __future__ import annotations

import io
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from extensions import db
from models import Grid, User, transaction
from reports.builds import build_report, report_file, request_report
from reports.periods import parse_period
from reports.render import TEMPLATES, render_pdf, report_url_fetcher
from reports.scopes import resolve_scope
from tests.reports.known_cases import at

# The name of the finding: it closed the report's <style> and attached the worker's environment.
STYLE_BREAKER = '"}</style><link rel=attachment href=file:///proc/self/environ><style>a{b:"'


def secret_file_at(path: Path) -> tuple[Path, str]:
    marker = "SECRET-MARKER-7f3a9c"
    path.write_text(f"SECRET_KEY={marker}\n")
    return path, marker


def secret_file(tmp_path: Path) -> tuple[Path, str]:
    return secret_file_at(tmp_path / "secret.txt")


def built_pdf(code: str = "JX-01") -> Path:
    report = request_report(resolve_scope("grid", code), parse_period("month", "2026-10"), "cli")
    with at("2026-11-05 10:00"):
        report = build_report(report.id)
    assert report.status == "done", report.error if hasattr(report, "error") else report.status
    return report_file(report)


def embedded_files(pdf: bytes) -> list[str]:
    """Names of every file the PDF carries: document attachments and file-attachment annotations."""
    reader = PdfReader(io.BytesIO(pdf))
    found = list(reader.attachments)
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            if annotation.get_object().get("/Subtype") == "/FileAttachment":
                found.append(str(annotation.get_object().get("/FS")))
    return found


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True)
    return "".join(out.stdout.split())


@pytest.fixture
def short_secret():
    """A secret file with a path short enough for a person's name (64 characters)."""
    path = Path(tempfile.mkstemp(prefix="rs", suffix=".txt", dir="/tmp")[1])
    yield secret_file_at(path)
    path.unlink(missing_ok=True)


def test_a_grid_named_with_html_prints_as_text_and_attaches_nothing(data_dir, demo, short_secret):
    secret, marker = short_secret
    worker_name = f"<link rel=attachment href=file://{secret}>"
    with transaction():
        db.session.scalar(select(Grid).where(Grid.code == "JX-01")).name = STYLE_BREAKER
        db.session.scalar(select(User).where(User.account == "gw01")).name = worker_name
    path = built_pdf()
    pdf = path.read_bytes()
    assert embedded_files(pdf) == []
    assert b"/EmbeddedFile" not in pdf and b"/FileAttachment" not in pdf
    text = pdf_text(path)
    # Printed as text, on the cover and in the running header of the later pages.
    assert text.count("".join(STYLE_BREAKER.split())) >= 2
    assert "".join(worker_name.split()) in text
    assert marker not in text
    environment_line = next(f"{k}={v}" for k, v in os.environ.items() if len(v) > 8)
    assert "".join(environment_line.split()) not in text


def test_the_printer_fetches_only_the_reports_own_files_and_data_uris(tmp_path):
    secret, marker = secret_file(tmp_path)
    png = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
           "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    fetch = report_url_fetcher()
    assert fetch(png).read().startswith(b"\x89PNG")
    assert b"@page" in fetch((TEMPLATES / "report.css").as_uri()).read()
    refused = [secret.as_uri(), "file:///proc/self/environ", "file:///etc/passwd",
               (TEMPLATES / ".." / "render.py").as_uri(), f"{TEMPLATES.as_uri()}/%2e%2e/render.py",
               "file://example.org/etc/passwd", "http://127.0.0.1:1/", "https://example.org/a.css",
               "ftp://127.0.0.1/x"]
    for url in refused:
        with pytest.raises(ValueError):
            fetch(url)
    # Whole documents: an attachment, an image and a stylesheet from outside are all left out.
    html = (f'<html><head><link rel="attachment" href="{secret.as_uri()}">'
            f'<link rel="stylesheet" href="file:///etc/ssl/openssl.cnf"></head>'
            f'<body><p>x</p><img src="{secret.as_uri()}"><img src="{png}"></body></html>')
    pdf, pages = render_pdf(html)
    assert pages == 1 and embedded_files(pdf) == [] and marker.encode() not in pdf
