"""The parser's vocabulary: bundled nlp/data/vocab.toml, optionally overridden by a deployment's TOML file."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from nlp.prefilter import gate
from nlp.text import NUM

# in an override file these tables replace the bundled ones whole (a branch's own must-visit list)
_REPLACE_WHOLE = {"triggers"}


class VocabError(ValueError):
    """The vocabulary file is not valid TOML or holds a bad pattern."""


def _merge(base: dict[str, Any], over: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if depth == 0 and k in _REPLACE_WHOLE:
            out[k] = v
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v, depth + 1)
        else:
            out[k] = v
    return out


def load_raw(vocab_path: str | Path | None = None) -> dict[str, Any]:
    text = resources.files("nlp").joinpath("data/vocab.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    if vocab_path is not None:
        try:
            over = tomllib.loads(Path(vocab_path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise VocabError(f"{vocab_path}: {exc}") from exc
        data = _merge(data, over)
    return data


def load_dialect(dialect_path: str | Path | None = None) -> dict[str, str]:
    """Dialect and voice-to-text rewrites (nlp/data/dialect.toml, or a deployment's own file instead)."""
    try:
        if dialect_path is None:
            text = resources.files("nlp").joinpath("data/dialect.toml").read_text(encoding="utf-8")
        else:
            text = Path(dialect_path).read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise VocabError(f"{dialect_path or 'dialect.toml'}: {exc}") from exc
    rewrite = data.get("rewrite", {})
    bad = [k for k, v in rewrite.items() if not isinstance(v, str) or not k]
    if bad:
        raise VocabError(f"dialect rewrite: values must be strings ({', '.join(bad)})")
    return dict(rewrite)


def compile_any(patterns: list[str] | None, where: str) -> re.Pattern[str] | None:
    """One regex matching any of the patterns (None for an empty list)."""
    if not patterns:
        return None
    expanded = [p.replace("{NUM}", NUM) for p in patterns]
    # compile the union once (cold start); only when it fails are the patterns compiled one by one to name
    # the culprit
    try:
        union = re.compile("|".join(f"(?:{p})" for p in expanded))
    except re.error:
        pass
    else:
        return gate(union)  # skipped at once when the text holds none of its first characters (nlp/prefilter.py)
    for p in expanded:  # find the culprit to name it
        try:
            re.compile(p)
        except re.error as exc:
            raise VocabError(f"{where}: bad pattern {p!r}: {exc}") from exc
    raise VocabError(f"{where}: bad pattern list {patterns!r}")


@dataclass
class Trigger:
    code: str
    label: str
    rx: re.Pattern[str]
    exclude: re.Pattern[str] | None


@dataclass
class Kinship:
    gender: dict[str, str] = field(default_factory=dict)  # term -> "F"/"M"
    age: dict[str, str] = field(default_factory=dict)  # term -> "old"/"mid"/"young"
    terms: tuple[str, ...] = ()  # longest first
    suffixes: tuple[str, ...] = ()


@dataclass
class Vocab:
    raw: dict[str, Any]
    words: list[str]
    kinship: Kinship
    rx: dict[str, re.Pattern[str] | None]
    none_exact: frozenset[str]
    query_order: list[str]
    triggers: list[Trigger]
    negator: re.Pattern[str] | None

    def get(self, key: str) -> re.Pattern[str] | None:
        return self.rx.get(key)

    def __post_init__(self) -> None:
        # the parser asks ~25 times a message: the dict's own get, without a Python-level call in between
        self.get = self.rx.get  # type: ignore[method-assign]


def load_vocab(vocab_path: str | Path | None = None) -> Vocab:
    raw = load_raw(vocab_path)
    kin_raw = raw.get("kinship", {})
    gender: dict[str, str] = {}
    for t in kin_raw.get("female", []):
        gender[t] = "F"
    for t in kin_raw.get("male", []):
        gender[t] = "M"
    age: dict[str, str] = {}
    for cls in ("young", "mid", "old"):
        for t in kin_raw.get(cls, []):
            age[t] = cls
    terms = tuple(sorted(set(gender) | set(age), key=len, reverse=True))
    kin = Kinship(gender, age, terms, tuple(sorted(kin_raw.get("household_suffix", ["家"]), key=len, reverse=True)))

    intent = raw.get("intent", {})
    rx: dict[str, re.Pattern[str] | None] = {}
    # every list of the [intent] table (forward, wellwish, recovering, notice, broadcast, social…) but the exact words
    for k, v in intent.items():
        if isinstance(v, list) and k != "none_exact":
            rx[k] = compile_any(v, f"intent.{k}")
    q = intent.get("query", {})
    order = list(q.get("order", []))
    for name in order:
        rx[f"query.{name}"] = compile_any(q.get(name), f"intent.query.{name}")
    for section in ("feedback", "visit", "wish", "request", "correction"):
        for k, v in intent.get(section, {}).items():
            if isinstance(v, list):
                rx[f"{section}.{k}"] = compile_any(v, f"intent.{section}.{k}")

    triggers = []
    for code, t in raw.get("triggers", {}).items():
        pat = compile_any(t.get("patterns"), f"triggers.{code}")
        if pat is None:
            continue
        triggers.append(Trigger(code, t.get("label", code), pat, compile_any(t.get("exclude"), f"triggers.{code}")))
    neg = raw.get("triggers_config", {}).get("negators", [])
    alts = "|".join(re.escape(n) for n in sorted(neg, key=len, reverse=True))
    negator = re.compile(f"(?:{alts})$") if neg else None

    words = list(raw.get("dictionary", {}).get("words", []))
    return Vocab(raw, words, kin, rx, frozenset(intent.get("none_exact", [])), order, triggers, negator)
