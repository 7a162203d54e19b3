"""The design card's dependency rules, checked on the source: bot → jobs → handlers → nlp/storage → domain, one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package → top-level modules it must never import
DEV_ONLY = {"emulator", "devtools"}
FORBIDDEN = {
    "bot": DEV_ONLY,
    "handlers": {"aiohttp", "bot", "jobs"} | DEV_ONLY,
    "storage": {"bot", "handlers", "jobs", "aiohttp"} | DEV_ONLY,
    "domain": {"bot", "handlers", "jobs", "storage", "nlp", "aiohttp", "sqlalchemy", "socket"} | DEV_ONLY,
    "nlp": {"bot", "handlers", "jobs", "storage", "aiohttp", "sqlalchemy", "socket", "urllib", "requests"} | DEV_ONLY,
    # capabilities that run on a schedule (or beside the runtime): may use handlers, never the runtime itself
    "jobs": {"bot", "aiohttp"} | DEV_ONLY,
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_point_one_way(package):
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        hits = imports_of(path) & FORBIDDEN[package]
        if hits:
            bad.append(f"{path.relative_to(ROOT)} imports {sorted(hits)}")
    assert bad == []


def test_handlers_build_no_sql():
    """Handlers read and write through storage (storage/uow.py, storage/repo.py …): no statement is built in them."""
    bad = []
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                names = {a.name for a in node.names}
                if node.module != "sqlalchemy.ext.asyncio" or names != {"AsyncSession"}:  # a type, for annotations
                    bad.append(f"{path.relative_to(ROOT)} imports {sorted(names)} from {node.module}")
            elif isinstance(node, ast.Import) and any(a.name.startswith("sqlalchemy") for a in node.names):
                bad.append(f"{path.relative_to(ROOT)} imports sqlalchemy")
    assert bad == []


def test_handlers_read_and_write_only_through_the_unit_of_work():
    """No handler reaches for the database session: `ctx.uow` (storage/uow.py) is the one way in, so the in-memory
    unit of work (tests/fakes.py) is a faithful stand-in."""
    bad = []
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "session":
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bad == []
