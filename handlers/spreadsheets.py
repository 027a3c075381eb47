"""Excel templates and imports (7.3.7): a header row, one record a row, errors by row."""
from __future__ import annotations

import io
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from handlers.errors import Invalid

MAX_ROWS = 5000


def template_workbook(sheet: str, columns: list[tuple[str, str]], example: list[str]) -> bytes:
    """An .xlsx: the column codes, a row of their Chinese names (starting with '#', skipped
    on import, like any row whose first cell starts with '#'), and one example row."""
    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append([code for code, _ in columns])
    ws.append(["# " + columns[0][1]] + [label for _, label in columns[1:]])
    ws.append(example)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for cell in ws[2]:
        cell.font = Font(italic=True, color="808080")
    for index, (code, _) in enumerate(columns, start=1):
        ws.column_dimensions[ws.cell(row=1, column=index).column_letter].width = max(12, len(code) + 4)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_rows(data: bytes, columns: list[str]) -> list[tuple[int, dict]]:
    """(row number, {column: text}) for each filled row after the header and label rows.

    Raises Invalid when the file is not an .xlsx, lacks a column, or has too many rows."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError):
        raise Invalid("the file is not an Excel workbook (.xlsx); download the template",
                      details={"file": "not .xlsx"}) from None
    ws = book.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(c).strip() if c is not None else "" for c in next(rows, ())]
    missing = [c for c in columns if c not in header]
    if missing:
        raise Invalid(f"the first row lacks the columns: {', '.join(missing)}", details={"file": "columns"})
    records = []
    for number, values in enumerate(rows, start=2):
        record = {name: ("" if value is None else str(value).strip())
                  for name, value in zip(header, values, strict=False)}
        if record.get(header[0], "").startswith("#") or not any(record.get(c) for c in columns):
            continue
        records.append((number, record))
        if len(records) > MAX_ROWS:
            raise Invalid(f"at most {MAX_ROWS} rows at once", details={"file": "too many rows"})
    return records
