"""The import direction of DESIGN.md: nothing below web/ imports web or flask.request."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOWER = ["models", "workflows", "handlers", "integrations", "residents", "reports", "forms"]


def modules():
    for package in LOWER:
        yield from sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", list(modules()), ids=lambda p: str(p.relative_to(ROOT)))
def test_lower_layers_do_not_import_the_web_layer(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
            imported = [a.name for a in node.names]
            assert not (node.module or "").startswith("web"), f"imports {node.module}"
            assert not (node.module == "flask" and "request" in imported), "imports flask.request"
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
            assert not any(n == "web" or n.startswith("web.") for n in names), f"imports {names}"
