"""A streaming, bounded reader for the roster xlsx: rows of cell values per sheet, nothing else.

openpyxl builds an element tree per cell and, for sheets without a stored dimension, parses each sheet twice; a
county roster (~245 000 rows) took minutes. This reads the sheet XML once with expat, keeps only values, and
refuses what a roster cannot be before spending time or memory on it, naming the limit:
  - the unpacked size of the file (checked from the zip directory before anything is inflated) and the
    compression ratio of any large part (a zip bomb packs hundreds of MB of XML into one),
  - rows per sheet (counted while reading: reading stops at the first row past the limit),
  - characters per cell (collecting stops at the limit; the cell is named by sheet, row and column).
Values as openpyxl gives them with data_only=True: str, int/float, bool, or the cached result of a formula.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any
from xml.parsers import expat

MAX_UNPACKED_BYTES = 256 * 1024 * 1024  # a county roster unpacks to ~100 MB
MAX_RATIO = 100  # unpacked / packed for a part over 1 MB; real sheets are 10–20, zip bombs hundreds
MAX_ROWS = 500_000  # per sheet; a county has ~225 000 households
MAX_CELL_CHARS = 2_000  # no roster column holds more than 200 characters
_CHUNK = 1 << 20


class XlsxLimit(Exception):
    """The file breaks a limit; `sheet`, `row`, `column` say where when known."""

    def __init__(self, message: str, sheet: str | None = None, row: int | None = None, column: str | None = None):
        super().__init__(message)
        self.sheet, self.row, self.column = sheet, row, column


class _TooLong(Exception):
    pass


def _local(name: str) -> str:
    return name.rpartition(":")[2]


_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _letter(index: int) -> str:
    s = ""
    index += 1
    while index:
        index, r = divmod(index - 1, 26)
        s = chr(65 + r) + s
    return s


def _check_sizes(zf: zipfile.ZipFile) -> None:
    total = 0
    for info in zf.infolist():
        total += info.file_size
        if info.file_size > _CHUNK and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise XlsxLimit(
                f"文件内的 {info.filename} 压缩比 {ratio}:1，超过上限 {MAX_RATIO}:1，疑似压缩炸弹，拒绝读取"
            )
    if total > MAX_UNPACKED_BYTES:
        raise XlsxLimit(
            f"解压后共 {total // (1024 * 1024)} MB，超过上限 {MAX_UNPACKED_BYTES // (1024 * 1024)} MB，拒绝读取"
        )


def _parse(zf: zipfile.ZipFile, name: str, start: Callable, end: Callable, text: Callable) -> None:
    p = expat.ParserCreate()
    p.buffer_text = True
    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = text
    with zf.open(name) as f:
        while chunk := f.read(_CHUNK):
            p.Parse(chunk, False)
    p.Parse(b"", True)


def _shared_strings(zf: zipfile.ZipFile, name: str) -> list[str | int]:
    """The shared-string table; a string over the cell limit is kept as its length (reported where it is used)."""
    out: list[str | int] = []
    parts: list[str] = []
    size = 0
    depth = {"t": False, "rPh": 0}

    def start(tag: str, _attrs: dict[str, str]) -> None:
        nonlocal size
        tag = _local(tag)
        if tag == "si":
            parts.clear()
            size = 0
        elif tag == "t":
            depth["t"] = True
        elif tag == "rPh":  # phonetic guide runs are not part of the text
            depth["rPh"] += 1

    def end(tag: str) -> None:
        tag = _local(tag)
        if tag == "si":
            out.append("".join(parts) if size <= MAX_CELL_CHARS else size)
        elif tag == "t":
            depth["t"] = False
        elif tag == "rPh":
            depth["rPh"] -= 1

    def text(data: str) -> None:
        nonlocal size
        if depth["t"] and not depth["rPh"]:
            size += len(data)
            if size <= MAX_CELL_CHARS:
                parts.append(data)

    _parse(zf, name, start, end, text)
    return out


def _sheet_rows(zf: zipfile.ZipFile, name: str, sheet: str, strings: list[str | int]) -> list[list[Any]]:
    # Handlers run once per element of a quarter-million-row sheet: plain closure variables, no helper calls
    # on the common path.
    rows: list[list[Any]] = []
    row: list[Any] = []
    buf: list[str] = []
    seen: dict[str, str] = {}  # short texts repeat down a column (性别, 网格, codes): one object each
    columns: dict[str, int] = {}  # "AB" → 27
    r_num = col = size = phonetic = 0
    ctype = "n"
    collect = False  # inside <v> or <t> (not <f>: the formula's text is not its value)
    digits = "0123456789"

    def too_long(n: int) -> XlsxLimit:
        return XlsxLimit(f"单元格有 {n} 个字符，超过上限 {MAX_CELL_CHARS} 个字符，拒绝读取", sheet, r_num, _letter(col))

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal row, size, col, ctype, collect, phonetic, r_num
        if ":" in tag:
            tag = tag.rpartition(":")[2]
        if tag == "c":
            ref = attrs.get("r")
            if ref:
                letters = ref.rstrip(digits)
                j = columns.get(letters)
                if j is None:
                    j = columns[letters] = _col_index(letters) if _CELL_REF.fullmatch(ref) else len(row)
                col = j
            else:
                col = len(row)
            ctype = attrs.get("t", "n")
            buf.clear()
            size = 0
        elif tag == "v" or tag == "t":
            collect = True
        elif tag == "rPh":
            phonetic += 1
        elif tag == "row":
            r = attrs.get("r")
            r_num = int(r) if r and r.isdigit() else r_num + 1
            if len(rows) >= MAX_ROWS:
                raise XlsxLimit(f"超过 {MAX_ROWS} 行的上限，拒绝读取", sheet, r_num)
            # rows may skip numbers: fill the gap with empty rows so indexes stay row numbers
            while len(rows) < r_num - 1:
                rows.append([])
            row = []

    def end(tag: str) -> None:
        nonlocal collect, phonetic
        if ":" in tag:
            tag = tag.rpartition(":")[2]
        if tag == "c":
            if size > MAX_CELL_CHARS:
                raise too_long(size)
            raw = buf[0] if len(buf) == 1 else "".join(buf)
            value: Any
            if not raw:  # an empty cell, as openpyxl reads it: None
                return
            if ctype == "s":
                value = strings[int(raw)]
                if isinstance(value, int):
                    raise too_long(value)
                if not value:
                    return
            elif ctype == "inlineStr" or ctype == "str" or ctype == "e" or ctype == "d":
                value = seen.setdefault(raw, raw) if len(raw) <= 12 else raw
            elif ctype == "b":
                value = raw == "1"
            else:
                try:
                    f = float(raw)
                    value = int(f) if f.is_integer() and "." not in raw and "E" not in raw.upper() else f
                except ValueError:
                    value = raw
            if col >= len(row):
                row.extend([None] * (col - len(row) + 1))
            row[col] = value
        elif tag == "v" or tag == "t":
            collect = False
        elif tag == "row":
            rows.append(row)
        elif tag == "rPh":
            phonetic -= 1

    def text(data: str) -> None:
        nonlocal size
        if collect and not phonetic:
            size += len(data)
            if size <= MAX_CELL_CHARS:
                buf.append(data)

    _parse(zf, name, start, end, text)
    return rows


def read_xlsx(path: Path) -> dict[str, list[list[Any]]]:
    """Sheet title → rows (row 1 first) of cell values. Raises XlsxLimit, or zipfile/expat/KeyError errors for a
    file that is not an xlsx."""
    with zipfile.ZipFile(path) as zf:
        _check_sizes(zf)
        names = set(zf.namelist())
        rels: dict[str, str] = {}
        sheets: list[tuple[str, str]] = []
        shared = ""

        def rel_start(tag: str, attrs: dict[str, str]) -> None:
            nonlocal shared
            if _local(tag) == "Relationship":
                target = attrs.get("Target", "")
                full = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
                rels[attrs.get("Id", "")] = full
                if attrs.get("Type", "").endswith("/sharedStrings"):
                    shared = full

        def wb_start(tag: str, attrs: dict[str, str]) -> None:
            if _local(tag) == "sheet":
                rid = next((v for k, v in attrs.items() if _local(k) == "id"), "")
                sheets.append((attrs.get("name", ""), rid))

        def ignore(*_a: Any) -> None:
            return None

        _parse(zf, "xl/_rels/workbook.xml.rels", rel_start, ignore, ignore)
        _parse(zf, "xl/workbook.xml", wb_start, ignore, ignore)
        if not shared and "xl/sharedStrings.xml" in names:
            shared = "xl/sharedStrings.xml"
        strings = _shared_strings(zf, shared) if shared in names else []
        out: dict[str, list[list[Any]]] = {}
        for title, rid in sheets:
            target = rels.get(rid)
            if target in names:
                out[title] = _sheet_rows(zf, target, title, strings)
        return out
