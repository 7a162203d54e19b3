"""`lianhu archive check|bridge --once|quarantine`, the placeholders, the key table: what an operator sees."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import padding

from bot import cli
from bot.archive_bridge import emulated
from bot.archive_bridge.keys import KeyProblem, PrivateKeys
from bot.archive_bridge.media import with_placeholders
from tests.archive_bridge.conftest import HH, RESIDENT


def _config(tmp_path: Path, archive: dict, database_url: str = "") -> str:
    lines = ["[archive]"]
    for k, v in archive.items():
        if isinstance(v, dict):
            inner = ", ".join(f'"{a}" = "{b}"' for a, b in v.items())
            lines.append(f"{k} = {{ {inner} }}")
        else:
            lines.append(f"{k} = {json.dumps(v)}")
    if database_url:
        lines += ["[database]", f'url = "{database_url}"']
    path = tmp_path / "lianhu.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_check_exits_3_when_the_sdk_wrapper_is_missing(tmp_path, monkeypatch, capsys):
    fake = tmp_path / "fake" / "pywecomarchive"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('not installed (simulated)')\n")
    monkeypatch.setenv("PYTHONPATH", str(fake.parent))  # the SDK child finds this one first
    cfg = _config(tmp_path, {"sdk": "pywecomarchive", "corp_id": "ww01", "secret": "s" * 20})
    assert cli.main(["archive", "check", "--config", cfg]) == 3
    out = capsys.readouterr().out
    assert "SDK 加载失败" in out and "lianhu[archive]" in out


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("pywecomarchive") is None,
    reason="Tencent's SDK is not installed here: pip install -e '.[archive]'",
)
def test_check_with_the_real_sdk_prints_code_meaning_and_key_versions(tmp_path, keypairs, capsys):
    secret = "madeUpArchiveSecret-0123456789abcdefghijklmn"
    cfg = _config(
        tmp_path,
        {
            "sdk": "pywecomarchive",
            "corp_id": "ww0123456789abcdef",
            "secret": secret,
            "proxy": "http://127.0.0.1:9",
            "sdk_timeout_seconds": 3,
            "private_keys": {"1": str(keypairs[1].path), "2": str(keypairs[2].path)},
        },
    )
    assert cli.main(["archive", "check", "--config", cfg]) == 0
    out = capsys.readouterr().out
    assert "SDK 已加载：pywecomarchive" in out
    assert "GetChatData 返回错误码 10001：网络请求错误" in out
    assert "私钥版本：1、2" in out
    assert secret not in out


def test_bridge_once_delivers_and_quarantine_lists(tmp_path, keypairs, capsys):
    """The CLI bridge against the emulator's SDK mode, on its own database (no bot running, no roster: records
    are moved past, the poison one quarantined, and a second run reads nothing again)."""

    async def scenario() -> tuple[str, int]:
        from aiohttp import web

        from devtools.demo import world_from_roster
        from emulator.server import Emulator
        from emulator.world import EmulatorSettings
        from storage.roster_file import load_roster
        from tests.conftest import DEMO_ROSTER

        world = world_from_roster(load_roster(DEMO_ROSTER))
        es = EmulatorSettings("ww-emu", 1, "s", "t", "k" * 43, "", "b", "bot", "t", "k" * 43, "")
        emu = Emulator(es, world)
        emu.set_archive_key(1, keypairs[1].public)
        runner = web.AppRunner(emu.make_app())
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        user, group = world.user(RESIDENT), world.chat(HH)
        emu.archive_message(user, group, "text", {"content": "微心愿：想要一个老年手机"})
        emu.archive_message(user, group, "text", {"content": "x"})
        emu.archive_broken[2] = "AAAA"
        return f"http://127.0.0.1:{port}", runner

    loop = asyncio.new_event_loop()
    try:
        url, runner = loop.run_until_complete(scenario())
        db = f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"
        cfg = _config(
            tmp_path,
            {
                "sdk": "emulator",
                "corp_id": "ww-emu",
                "secret": "archive-sdk-secret",
                "emulator_url": url,
                "private_keys": {"1": str(keypairs[1].path)},
            },
            database_url=db,
        )

        def run(*argv: str) -> int:
            return cli.main(list(argv))

        import threading

        # the emulator serves from this loop in a thread while the CLI runs its own asyncio.run
        t = threading.Thread(target=loop.run_forever, daemon=True)
        t.start()
        try:
            assert run("archive", "bridge", "--once", "--config", cfg) == 0
            assert "本次 2 条" in capsys.readouterr().out
            assert run("archive", "quarantine", "--config", cfg) == 0
            out = capsys.readouterr().out
            assert "seq 2" in out and "崩溃 2 次" in out and "公钥版本 1" in out
            assert run("archive", "bridge", "--once", "--config", cfg) == 0
            assert "本次 0 条" in capsys.readouterr().out
        finally:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            t.join(10)
    finally:
        loop.close()


def test_private_keys_by_version_and_clear_errors(tmp_path, keypairs):
    keys = PrivateKeys.from_files({"1": str(keypairs[1].path), "2": str(keypairs[2].path)})
    assert keys.versions == [1, 2]
    for v in (1, 2):
        random_key, _ = emulated.seal({"msgid": "m"})
        sealed = base64.b64encode(keypairs[v].public.encrypt(random_key.encode(), padding.PKCS1v15())).decode()
        assert keys.decrypt_random_key(v, sealed) == random_key
    random_key, _ = emulated.seal({"msgid": "m"})
    sealed_v2 = base64.b64encode(keypairs[2].public.encrypt(random_key.encode(), padding.PKCS1v15())).decode()
    with pytest.raises(KeyProblem, match="第 1 版私钥解不开"):
        keys.decrypt_random_key(1, sealed_v2)  # the wrong version's key
    not_a_key = base64.b64encode(keypairs[1].public.encrypt(b"k" * 32, padding.PKCS1v15())).decode()
    with pytest.raises(KeyProblem, match="第 1 版私钥解不开"):
        keys.decrypt_random_key(1, not_a_key)  # opens, but is not what DecryptData takes: a mismatched key pair
    with pytest.raises(KeyProblem, match="缺少第 3 版私钥（已配置：1、2）"):
        keys.decrypt_random_key(3, sealed_v2)
    with pytest.raises(KeyProblem, match="读不到第 1 版私钥文件"):
        PrivateKeys.from_files({"1": str(tmp_path / "nope.pem")})
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(KeyProblem, match="不是 PEM 格式"):
        PrivateKeys.from_files({"1": str(bad)})
    assert "BEGIN" not in repr(keys)


@pytest.mark.parametrize(
    ("msgtype", "body", "text"),
    [
        ("image", {"sdkfileid": "f"}, "[图片]"),
        ("voice", {"play_length": 12}, "[语音 12秒]"),
        ("voice", {}, "[语音]"),
        ("video", {"play_length": 8}, "[视频 8秒]"),
        ("file", {"filename": "低保申请表.xlsx"}, "[文件 低保申请表.xlsx]"),
        ("link", {"title": "村里的通知"}, "[链接 村里的通知]"),
        ("card", {"corpname": "x"}, "[名片]"),
        ("emotion", {}, "[表情]"),
        ("location", {"title": "村委会"}, "[位置]"),
    ],
)
def test_media_placeholders(msgtype, body, text):
    msg = {"msgid": "m", "msgtype": msgtype, msgtype: body}
    out = with_placeholders(msg)
    assert out["msgtype"] == "text" and out["text"] == {"content": text} and out["media_msgtype"] == msgtype
    assert msg["msgtype"] == msgtype  # the original is not changed


def test_text_revoke_and_mixed():
    text = {"msgtype": "text", "text": {"content": "你好"}}
    assert with_placeholders(text) is text
    revoke = {"msgtype": "revoke", "revoke": {"pre_msgid": "x"}}
    assert with_placeholders(revoke) is revoke
    mixed = {
        "msgtype": "mixed",
        "mixed": {
            "item": [
                {"type": "text", "content": json.dumps({"content": "看看这个"})},
                {"type": "image", "content": json.dumps({"sdkfileid": "f"})},
                {"type": "unknown_kind", "content": "{}"},
            ]
        },
    }
    items = with_placeholders(mixed)["mixed"]["item"]
    assert [json.loads(i["content"])["content"] for i in items] == ["看看这个", "[图片]"]


def test_the_python_decryptdata_opens_what_seal_makes_and_fails_like_the_sdk():
    msg = {"msgid": "m1", "msgtype": "text", "text": {"content": "微心愿：想要一个老年手机"}}
    key, sealed = emulated.seal(msg)
    assert emulated.open_record(key, sealed) == msg
    with pytest.raises(emulated.WouldAbort):
        emulated.open_record(key, "AAAA")  # shorter than 13: the real SDK dies here
    with pytest.raises(emulated.EmulatedDecryptError) as err:
        emulated.open_record(key, "Q" * 13 + "x" * 32 + sealed[45:])  # another record's t: the key info won't open
    assert err.value.code == 10008
    other_key, _ = emulated.seal(msg)
    with pytest.raises(emulated.EmulatedDecryptError):
        emulated.open_record(other_key, sealed)


def test_serve_says_why_it_cannot_read_the_archive_and_does_not_start(tmp_path, capsys):
    cfg = _config(
        tmp_path,
        {"sdk": "emulator", "corp_id": "ww01", "private_keys": {"1": str(tmp_path / "missing.pem")}},
    )
    with open(cfg, "a", encoding="utf-8") as f:
        f.write('[aibot]\ntoken = "t"\nencoding_aes_key = "' + "k" * 43 + '"\n')
    assert cli.main(["serve", "--config", cfg]) == 2
    err = capsys.readouterr().err
    assert "第 1 版私钥文件" in err and "missing.pem" in err


def test_the_old_feed_settings_are_refused_with_what_to_use_instead(tmp_path, capsys):
    secret = "s3cret-archive-" + "x" * 12
    cfg = _config(tmp_path, {"feed_url": "http://127.0.0.1:9300", "feed_token": "tok-" + secret, "secret": secret})
    assert cli.main(["archive", "quarantine", "--config", cfg]) != 0
    said = capsys.readouterr()
    text = said.out + said.err
    assert "feed_url" in text and "private_keys" in text and "Traceback" not in text
    assert secret not in text
