"""Which channel owns which chat (docs/channels.md).

With 会话内容存档 on, every chat of an archived member reaches us as an archive copy: the internal 党员群 and 1:1
chats too, beside the 智能机器人's own callback for the same words. Handling both made commands into fake 微心愿 and
answered twice. So each chat has one owner, and copies that arrive by another channel are kept as seen, never
handled:

- internal group (党员群, an internal 联户群): the 智能机器人 (callback or long connection); the archive only when
  no 智能机器人 listens;
- external group (联户群 with residents on WeChat): the archive, the only way to read it;
- 1:1 with the 智能机器人, with the app, 微信客服, the console: that channel itself (each is its own chat);
- 1:1 chats seen in the archive: nobody (a member's private talk is not a message to the bot);
- a group the roster does not know: whoever brings it, except the archive.
"""

from __future__ import annotations

BOT_CHANNELS = frozenset({"aibot", "ws"})  # the 智能机器人: HTTP callback or long connection


def owner(chat_type: str, internal: bool | None, *, bot_listens: bool) -> str | None:
    """The channel family that owns a group chat ("bot" or "archive"); None for 1:1 chats (each channel's own)."""
    if chat_type != "group":
        return None
    if internal is None:
        return "bot"
    if internal:
        return "bot" if bot_listens else "archive"
    return "archive"


def owns(channel: str, chat_type: str, internal: bool | None, *, bot_listens: bool) -> bool:
    """Whether a message that arrived by `channel` is the one to handle (the others are copies)."""
    if channel == "archive":
        return chat_type == "group" and owner(chat_type, internal, bot_listens=bot_listens) == "archive"
    if chat_type != "group":
        return True
    if channel in BOT_CHANNELS and internal is not False:
        return True  # words @-ed to the 智能机器人 in an internal group: it is listening, so it owns the chat
    return owner(chat_type, internal, bot_listens=bot_listens) == channel
