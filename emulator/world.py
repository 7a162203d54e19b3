"""The emulated tenant: who exists, which chats exist, and the credentials both sides share."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class User:
    """A member of the organisation (userid "zhangwei") or a resident on WeChat (external userid "wm…")."""

    userid: str
    name: str
    external: bool = False


@dataclass
class Chat:
    """A group chat. Internal groups may hold the 智能机器人 and a webhook robot; external ones neither."""

    chat_id: str
    name: str
    internal: bool
    members: list[str] = field(default_factory=list)
    webhook_key: str | None = None
    level: str = "二级"  # "一级" branch group, "二级" a member with their households


@dataclass
class EmulatorSettings:
    corp_id: str
    agent_id: int
    app_secret: str
    app_token: str
    app_aes_key: str
    app_callback_url: str
    aibot_id: str
    aibot_name: str
    aibot_token: str
    aibot_aes_key: str
    aibot_callback_url: str
    callback_timeout: float = 5.0  # WeCom cuts the connection after 5 s (wecom-platform.md §1.5)
    callback_retries: int = 3  # "总共重试三次"
    access_token_ttl: int = 7200
    # Stream refresh pacing: WeCom re-asks roughly every second for up to 6 min (§2.3); tests shrink these.
    stream_refresh_interval: float = 1.0
    stream_max_refreshes: int = 360
    stream_window: float = 360.0
    kf_open_kfid: str = "wkLianhuKf0001"  # the one 微信客服 account
    aibot_secret: str = ""  # long-connection secret; empty = the gateway refuses every subscribe
    aibot_mode: str = "callback"  # "websocket": people's messages go over the long connection
    archive_secret: str = "archive-sdk-secret"  # the 会话内容存档 Secret the archive-SDK mode accepts


class World:
    def __init__(self, users: list[User], chats: list[Chat]) -> None:
        self.users: dict[str, User] = {u.userid: u for u in users}
        self.chats: dict[str, Chat] = {c.chat_id: c for c in chats}

    def user(self, userid: str) -> User | None:
        return self.users.get(userid)

    def chat(self, chat_id: str) -> Chat | None:
        return self.chats.get(chat_id)

    def chat_by_webhook(self, key: str) -> Chat | None:
        for chat in self.chats.values():
            if chat.webhook_key and chat.webhook_key == key:
                return chat
        return None

    def name_of(self, userid: str) -> str:
        user = self.users.get(userid)
        return user.name if user else userid

    def members(self) -> list[User]:
        return [u for u in self.users.values() if not u.external]
