"""`lianhu parse`: read messages on stdin, print one JSON object per line (shared/spec/parse.md)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

CHATS = ("group1", "group2", "private")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--roster", required=True, help="roster .xlsx, or the *_members.csv (households CSV beside it)")
    p.add_argument("--sender", default=None, help="企业微信账号 of a member or 外部联系人ID of a household")
    p.add_argument("--chat", default="group2", choices=CHATS)
    p.add_argument("--today", default=None, help="YYYY-MM-DD (default: the local date)")
    p.add_argument(
        "--jsonl",
        action="store_true",
        help='each input line is {"text","sender","chat","today"}; missing keys fall back to the flags',
    )
    p.add_argument("--vocab", default=None, help="a vocabulary TOML overriding the bundled one")
    p.add_argument("--dialect", default=None, help="a dialect rewrite TOML replacing the bundled nlp/data/dialect.toml")


def _load_roster(path: str):
    from storage.roster_file import load_roster

    return load_roster(path).to_nlp_roster()


def _message(line: str, args: argparse.Namespace, default_today: date) -> dict[str, Any]:
    """The message fields of one input line; raises ValueError for a line it cannot read."""
    if args.jsonl:
        obj = json.loads(line)
        if not isinstance(obj, dict):
            raise ValueError("a JSON object is expected")
        text = obj.get("text", "")
        sender = obj.get("sender", args.sender)
        chat = obj.get("chat") or args.chat
        today_s = obj.get("today") or None
    else:
        text, sender, chat, today_s = line, args.sender, args.chat, None
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if sender is not None and not isinstance(sender, str):
        raise ValueError("sender must be a string")
    if chat not in CHATS:
        raise ValueError(f"chat must be one of {', '.join(CHATS)}")
    today = date.fromisoformat(today_s) if today_s else default_today
    return {"text": text, "sender": sender, "chat": chat, "today": today}


def run(args: argparse.Namespace) -> int:
    from nlp.parser import Parser
    from nlp.vocab import VocabError

    try:
        default_today = date.fromisoformat(args.today) if args.today else date.today()
    except ValueError:
        print(f"lianhu parse: --today must be YYYY-MM-DD, got {args.today!r}", file=sys.stderr)
        return 2
    try:
        roster = _load_roster(args.roster)
    except Exception as exc:  # RosterError lists sheet/row/column; any read failure ends the run
        print(f"lianhu parse: cannot read roster {args.roster}: {exc}", file=sys.stderr)
        return 2
    try:
        parser = Parser(roster, vocab_path=getattr(args, "vocab", None), dialect_path=getattr(args, "dialect", None))
    except VocabError as exc:
        print(f"lianhu parse: {exc}", file=sys.stderr)
        return 2

    for stream in (sys.stdin, sys.stdout):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")
    out = sys.stdout
    for raw in sys.stdin:
        line = raw.rstrip("\r\n")
        try:
            msg = _message(line, args, default_today)
        except (ValueError, TypeError) as exc:
            out.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}, ensure_ascii=False) + "\n")
            continue
        try:
            d = parser.parse(msg["text"], sender=msg["sender"], chat=msg["chat"], today=msg["today"]).to_dict()
        except Exception as exc:  # one bad message must not end the run
            d = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(d, ensure_ascii=False) + "\n")
    out.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="lianhu parse", description="Parse chat messages into JSON (one per line).")
    add_arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
