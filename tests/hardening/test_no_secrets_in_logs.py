"""The bot, run with DEBUG logging through a whole conversation, never writes a secret to its log."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.conftest import DEMO_ROSTER
from tests.hardening._common import BRANCH_CHAT, aibot_request, bot_settings, visit_payload
from tests.hardening._proc import BotProcess, free_port, start_emulator_for, write_config


async def test_debug_log_holds_no_token_key_secret_or_access_token(seeded_url, tmp_path):
    s = bot_settings(seeded_url)
    port = free_port()
    emulator, emu_runner, emu_url = await start_emulator_for(s, DEMO_ROSTER, f"http://127.0.0.1:{port}")
    s.wecom.api_base = s.webhook.base_url = emu_url
    bot = BotProcess(write_config(s, tmp_path / "bot.toml", port), port, tmp_path / "bot.log", log_level="DEBUG")
    try:
        await bot.start()
        assert await emulator.verify_url("aibot") and await emulator.verify_url("app")
        assert (await emulator.say("zhangwei", BRANCH_CHAT, "@联户小助手 今天走访了方奶奶")).ok
        assert (await emulator.say("zhangwei", "app", "今天走访了蒋立新")).ok  # gettoken + message/send
        assert (await emulator.say("chenjianguo", "bot", "本月未走访户")).ok
        path, body = aibot_request(s, visit_payload("CAIQforged"), nonce="x")
        async with aiohttp.ClientSession() as http:
            async with http.post(bot.url + path.replace("msg_signature=", "msg_signature=0"), data=body) as r:
                assert r.status == 403  # a refusal is logged too
            for _ in range(50):  # let the outbox deliver the app answer (it needs the access_token)
                if any(e.direction == "out" for e in emulator.timeline("app:zhangwei")):
                    break
                await asyncio.sleep(0.1)
        assert emulator._tokens, "the bot never fetched an access_token: the test proves nothing"
    finally:
        bot.stop()
        await emulator.close()
        await emu_runner.cleanup()

    log = (tmp_path / "bot.log").read_text(encoding="utf-8", errors="replace")
    assert "DEBUG" in log and "aibot callback refused" in log
    secrets = {
        "wecom.secret": s.wecom.secret,
        "wecom.token": s.wecom.token,
        "wecom.encoding_aes_key": s.wecom.encoding_aes_key,
        "aibot.token": s.aibot.token,
        "aibot.encoding_aes_key": s.aibot.encoding_aes_key,
        **{f"access_token {i}": t for i, t in enumerate(emulator._tokens)},
    }
    leaked = [name for name, value in secrets.items() if value and value in log]
    assert not leaked, f"secrets in the DEBUG log: {leaked}"
