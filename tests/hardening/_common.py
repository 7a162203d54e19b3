"""Shared helpers for the hardening tests: settings with fresh secrets, signed callbacks, row counts."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from bot.config import Settings
from bot.wecom.crypto import CallbackCrypto
from devtools.demo import DEMO_CORP_ID, random_aes_key
from storage.db import make_engine, make_sessionmaker

BRANCH_CHAT = "wrQYbranch0001"


def bot_settings(url: str) -> Settings:
    s = Settings()
    s.database.url = url
    s.database.auto_migrate = False
    s.wecom.corp_id = DEMO_CORP_ID
    s.wecom.agent_id = 1000002
    s.wecom.secret = "app-secret-" + random_aes_key()[:20]
    s.wecom.token = "apptoken" + random_aes_key()[:10]
    s.wecom.encoding_aes_key = random_aes_key()
    s.wecom.api_base = "http://127.0.0.1:9"  # nothing listens: no test reaches the real qyapi
    s.webhook.base_url = "http://127.0.0.1:9"
    s.aibot.bot_id = "aibot-demo"
    s.aibot.token = "bottoken" + random_aes_key()[:10]
    s.aibot.encoding_aes_key = random_aes_key()
    return s


def aibot_request(s: Settings, payload: dict | str, *, nonce: str = "n0nce", ts: int | None = None) -> tuple[str, str]:
    """(path with query, body) of a correctly signed and encrypted 智能机器人 callback."""
    crypto = CallbackCrypto(s.aibot.token, s.aibot.encoding_aes_key, "")
    ts_s = str(ts if ts is not None else int(time.time()))
    plain = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    enc, sig = crypto.encrypt(plain, nonce, ts_s)
    return f"/wecom/aibot?msg_signature={sig}&timestamp={ts_s}&nonce={nonce}", json.dumps({"encrypt": enc})


def app_request(
    s: Settings, xml: str, *, nonce: str = "n0nce", ts: int | None = None, receive_id: str | None = None
) -> tuple[str, str]:
    crypto = CallbackCrypto(
        s.wecom.token, s.wecom.encoding_aes_key, s.wecom.corp_id if receive_id is None else receive_id
    )
    ts_s = str(ts if ts is not None else int(time.time()))
    enc, sig = crypto.encrypt(xml, nonce, ts_s)
    body = f"<xml><ToUserName>{s.wecom.corp_id}</ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
    return f"/wecom/app?msg_signature={sig}&timestamp={ts_s}&nonce={nonce}", body


def visit_payload(msgid: str, text: str = "@联户小助手 今天走访了方奶奶", userid: str = "zhangwei") -> dict:
    return {
        "msgid": msgid,
        "aibotid": "aibot-demo",
        "chatid": BRANCH_CHAT,
        "chattype": "group",
        "from": {"userid": userid},
        "msgtype": "text",
        "text": {"content": text},
        "create_time": int(time.time()),
    }


async def count_rows(url: str, model) -> int:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return int(await s.scalar(select(func.count()).select_from(model)))
    finally:
        await engine.dispose()


def rss_kb(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
