"""Cells from people's text are data, never formulas (OWASP "CSV injection"), in every xlsx and CSV we write.

A spreadsheet evaluates a cell whose text starts with = + - @ (and, in CSV, after a leading tab or carriage
return); a resident's 户主姓名 `=HYPERLINK(...)` or a chat line starting with `=` would come out live. Such text
gets a leading apostrophe, OWASP's advice: the reader sees the text as written, Excel and WPS show and keep it
as text, and a CSV saved from it stays inert. The roster import removes exactly that apostrophe again, so
export → import stays a fixed point.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openpyxl import Workbook

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")  # full-width forms: WPS reads them too
QUOTE = "'"


def neutralise(value: Any) -> Any:
    """`value` safe for a cell: strings a spreadsheet would evaluate get a leading apostrophe; others unchanged."""
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return QUOTE + value
    return value


def unquote(value: str) -> str:
    """The inverse, for text read back from a file we wrote (the roster import)."""
    if value.startswith(QUOTE) and value[1:].startswith(TRIGGERS):
        return value[1:]
    return value


def neutralise_workbook(wb: Workbook, text: Callable[[str], str] | None = None) -> None:
    """Every cell of `wb` as data: formulas and formula-like strings neutralised, each string passed through
    `text` first (e.g. the masking rule). The project writes no formulas of its own, so none may remain."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                if not isinstance(v, str):
                    continue
                if text is not None:
                    v = text(v)
                safe = neutralise(v)
                if safe != cell.value or cell.data_type == "f":
                    cell.value = safe
                    cell.data_type = "s"  # openpyxl takes any str starting with '=' for a formula
