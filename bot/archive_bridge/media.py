"""Media in archived messages: a placeholder in the text so a member sees that something was sent, and an
optional download of the file itself into `[archive] media_dir`, capped at `media_max_bytes`.

`with_placeholders` turns a media record into a text message holding the placeholder (the original object stays
under its own key, `media_msgtype` says what it was); the bridge logs those without parsing them (bridge.py,
_log_media). In a `mixed` message the parts' placeholders join the resident's text, which is parsed as usual.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

_SIMPLE = {
    "image": "[图片]",
    "emotion": "[表情]",
    "video": "[视频]",
    "card": "[名片]",
    "location": "[位置]",
    "weapp": "[小程序]",
    "chatrecord": "[聊天记录]",
    "redpacket": "[红包]",
    "voip_doc_share": "[文件]",
    "meeting_voice_call": "[语音通话]",
    "voiptext": "[音视频通话]",
    "calendar": "[日程]",
    "todo": "[待办]",
    "vote": "[投票]",
    "collect": "[填表]",
    "sphfeed": "[视频号]",
}
DOWNLOADABLE = {"image": "jpg", "voice": "amr", "video": "mp4", "file": "", "emotion": "gif"}


def _short(text: Any, limit: int = 40) -> str:
    s = " ".join(str(text or "").split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def placeholder(msgtype: str, body: Any) -> str | None:
    """The placeholder for one media object, or None for a type that is not media (text, revoke, agree…)."""
    b = body if isinstance(body, dict) else {}
    if msgtype == "voice":
        secs = b.get("play_length")
        return f"[语音 {secs}秒]" if isinstance(secs, int) and secs > 0 else "[语音]"
    if msgtype == "file":
        name = _short(b.get("filename"))
        return f"[文件 {name}]" if name else "[文件]"
    if msgtype == "link":
        title = _short(b.get("title"))
        return f"[链接 {title}]" if title else "[链接]"
    if msgtype == "video":
        secs = b.get("play_length")
        return f"[视频 {secs}秒]" if isinstance(secs, int) and secs > 0 else "[视频]"
    return _SIMPLE.get(msgtype)


def with_placeholders(msg: dict[str, Any]) -> dict[str, Any]:
    """The message as the bridge delivers it: media become text with a placeholder; anything else is unchanged."""
    kind = str(msg.get("msgtype") or "")
    if kind == "mixed":
        items = (msg.get("mixed") or {}).get("item")
        if not isinstance(items, list):
            return msg
        out = copy.deepcopy(msg)
        new_items = []
        for item in items:
            if not isinstance(item, dict):
                continue
            itype = str(item.get("type") or "")
            if itype == "text":
                new_items.append(item)
                continue
            body: Any = item.get("content")
            if isinstance(body, str):
                try:
                    body = json.loads(body)
                except ValueError:
                    body = {}
            mark = placeholder(itype, body)
            if mark:
                new_items.append({"type": "text", "content": json.dumps({"content": mark}, ensure_ascii=False)})
        out["mixed"] = {**(out.get("mixed") or {}), "item": new_items}
        return out
    mark = placeholder(kind, msg.get(kind))
    if mark is None:
        return msg
    out = copy.deepcopy(msg)
    out["media_msgtype"] = kind
    out["msgtype"] = "text"
    out["text"] = {"content": mark}
    return out


def media_file_name(msg: dict[str, Any]) -> str | None:
    """A safe file name for a downloadable media message (msgid + extension), or None."""
    kind = str(msg.get("media_msgtype") or msg.get("msgtype") or "")
    if kind not in DOWNLOADABLE:
        return None
    body = msg.get(kind) if isinstance(msg.get(kind), dict) else {}
    ext = DOWNLOADABLE[kind] or str(body.get("fileext") or "bin")
    stem = re.sub(r"[^0-9A-Za-z_-]", "_", str(msg.get("msgid") or ""))[:100]
    ext = re.sub(r"[^0-9A-Za-z]", "", ext)[:10] or "bin"
    return f"{stem}.{ext}" if stem else None


class TooLarge(Exception):
    pass


def declared_size(msg: dict[str, Any]) -> int | None:
    kind = str(msg.get("media_msgtype") or msg.get("msgtype") or "")
    body = msg.get(kind) if isinstance(msg.get(kind), dict) else {}
    for key in ("filesize", "voice_size", "imagesize"):
        if isinstance(body.get(key), int):
            return int(body[key])
    return None


def save_path(media_dir: str, name: str) -> Path:
    return Path(media_dir) / name
