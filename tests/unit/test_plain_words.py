"""What people read is said in plain words: no internal terms in any Chinese text the product can show.

Every string literal with Chinese in it is taken as something a person may read (docstrings aside). Members,
residents and the secretary (handlers, jobs, domain rules, storage, the delivery and intake paths, the console)
must never meet the project's internal terms or raw technical words; the operator's tools (command line,
configuration, SDK errors) may name configuration keys and protocol words an operator has to type or look up,
but not the jargon either."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")

# 户组梳理 is a step of the policy's wording (户组梳理提事), not something a resident or member says; 流式 is the
# transport's word for a streamed reply; the rest are field and protocol names
JARGON = r"户组梳理|流式|msgid|msg_?id"
TECHNICAL = (
    r"\bkf\b|kfid|userid|roomid|chat_?id|inbound|outbox|\bids?\b|\bseq\b|payload|token|callback|stream|errcode"
    r"|cursor|lease|worker|handler|parser|intent|json"
)
FOR_PEOPLE = re.compile(f"{JARGON}|{TECHNICAL}", re.IGNORECASE)
FOR_OPERATORS = re.compile(JARGON, re.IGNORECASE)

OPERATOR_FILES = ("bot/cli*.py", "bot/config.py", "bot/parse_cmd.py", "bot/archive_bridge/*.py", "bot/wecom/*.py")
PEOPLE_FILES = ("handlers/**/*.py", "jobs/**/*.py", "domain/**/*.py", "storage/**/*.py", "bot/**/*.py")


def _operator_files() -> set[Path]:
    return {p for pattern in OPERATOR_FILES for p in ROOT.glob(pattern)}


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def chinese_strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every literal with Chinese in it; an f-string is one text with {} for its fields."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            for part in node.values:
                skip.add(id(part))
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            found.append((node.lineno, text))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            found.append((node.lineno, node.value))
    return [(n, t) for n, t in found if CJK.search(t)]


def _template_text(path: Path) -> list[tuple[int, str]]:
    """The visible text of a console template: tags and template code taken out."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        visible = re.sub(r"<[^>]+>", " ", re.sub(r"\{[{%#].*?[}%#]\}", " ", line))
        if CJK.search(visible):
            out.append((n, visible.strip()))
    return out


def _hits(paths: set[Path], banned: re.Pattern[str]) -> list[str]:
    hits = []
    for path in sorted(paths):
        texts = _template_text(path) if path.suffix == ".html" else chinese_strings(path)
        for line, text in texts:
            if found := banned.findall(text):
                hits.append(f"{path.relative_to(ROOT)}:{line}: {found} in {text[:80]!r}")
    return hits


def test_what_members_residents_and_the_secretary_read_has_no_internal_terms():
    operators = _operator_files()
    people = {p for pattern in PEOPLE_FILES for p in ROOT.glob(pattern)} - operators
    people |= set(ROOT.glob("bot/console/templates/*.html"))
    assert len(people) > 50  # the globs found the product
    assert _hits(people, FOR_PEOPLE) == []


def test_the_operators_tools_have_no_jargon_either():
    assert _hits(_operator_files(), FOR_OPERATORS) == []


@pytest.mark.parametrize(
    ("text", "caught"),
    [
        ("诉求1 已受理（户组梳理）", True),
        ("流式回复", True),
        ("找不到 msgid 对应的消息", True),
        ("已转给 kf 处理", True),
        ("请检查 userid", True),
        ("诉求1 已受理，支部正在安排人办。", False),
        ("请您转告王秀英家：已登记 诉求1", False),
    ],
)
def test_the_check_catches_what_it_is_for(tmp_path, text, caught):
    sample = tmp_path / "sample.py"
    sample.write_text(f'"""模块说明里可以写 msgid。"""\n\nREPLY = f"{{1}}{text}"\n', encoding="utf-8")
    assert bool(_hits_in(sample, FOR_PEOPLE)) is caught


def _hits_in(path: Path, banned: re.Pattern[str]) -> list[str]:
    return [t for _, t in chinese_strings(path) if banned.search(t)]
