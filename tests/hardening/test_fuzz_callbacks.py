"""≥ 10,000 hostile or malformed callbacks at both endpoints: each gets a 4xx, nothing is written, the process
stays up and its memory stays flat."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import os
import random
import struct
import time
from collections import Counter
from collections.abc import Iterator

import aiohttp
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.app import create_app
from bot.wecom.crypto import sign
from storage.models import InboundMessage, Visit
from tests.hardening._common import aibot_request, app_request, bot_settings, count_rows, rss_kb, visit_payload

PER_ENDPOINT = 5000  # per endpoint and round; two rounds: 20,000 callbacks
CONCURRENCY = 32
RSS_SLACK_KB = 10 * 1024


def raw_encrypt(aes_key: str, content: bytes, receive_id: bytes, *, pad_byte: int | None = None) -> str:
    """WXBizMsgCrypt by hand, so the plaintext can be bytes that are not UTF-8 or the padding can be wrong."""
    key = base64.b64decode(aes_key + "=")
    msg = os.urandom(16) + struct.pack(">I", len(content)) + content + receive_id
    pad = 32 - len(msg) % 32
    msg += bytes([pad if pad_byte is None else pad_byte]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(msg) + enc.finalize()).decode()


def _nested_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def _bomb(depth: int = 9) -> str:
    ents = ['<!ENTITY a0 "lol">'] + [f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, depth)]
    return f'<?xml version="1.0"?><!DOCTYPE xml [{"".join(ents)}]><xml><Encrypt>&a{depth - 1};</Encrypt></xml>'


XXE = '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Encrypt>&x;</Encrypt></xml>'
DTD_EXTERNAL = b'<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd"><xml><Encrypt>x</Encrypt></xml>'


def _q(sig: str, ts: str, nonce: str) -> str:
    return f"msg_signature={sig}&timestamp={ts}&nonce={nonce}"


def aibot_cases(s, rng: random.Random) -> Iterator[tuple[str, str, bytes, str]]:
    """(method, path, body, label). Every case is a callback WeCom would never send."""
    token, key = s.aibot.token, s.aibot.encoding_aes_key
    good_path, good_body = aibot_request(s, visit_payload("CAIQfuzz-template"))
    ts = str(int(time.time()))
    kinds = [
        "missing_params",
        "bad_sig",
        "no_sig",
        "stale_ts",
        "future_ts",
        "junk_ts",
        "truncated",
        "oversized",
        "bad_base64",
        "bad_padding",
        "wrong_key",
        "wrong_receive_id",
        "nested_json_outer",
        "nested_json_inner",
        "invalid_utf8_body",
        "invalid_utf8_plain",
        "not_object",
        "no_msgid",
        "long_msgid",
        "ctrl_userid",
        "bad_chattype",
        "bad_create_time",
        "xml_body",
        "get_bad_echostr",
        "encrypt_not_string",
    ]
    for i in range(PER_ENDPOINT):
        kind = kinds[i % len(kinds)]
        nonce = f"f{i}"
        msgid = f"CAIQfuzz{i}"
        if kind == "missing_params":
            parts = good_path.split("?")[1].split("&")
            keep = [p for p in parts if rng.random() < 0.5][:2]
            yield "POST", "/wecom/aibot?" + "&".join(keep), good_body.encode(), kind
        elif kind == "bad_sig":
            sig = "".join(rng.choice("0123456789abcdef") for _ in range(rng.choice([0, 39, 40, 41, 64])))
            yield "POST", f"/wecom/aibot?{_q(sig or 'x', ts, nonce)}", good_body.encode(), kind
        elif kind == "no_sig":
            yield "POST", f"/wecom/aibot?timestamp={ts}&nonce={nonce}", good_body.encode(), kind
        elif kind in ("stale_ts", "future_ts"):
            delta = s.server.replay_window_seconds + rng.randint(1, 10**6)
            p, b = aibot_request(
                s, visit_payload(msgid), nonce=nonce, ts=int(time.time()) + (delta if kind == "future_ts" else -delta)
            )
            yield "POST", p, b.encode(), kind
        elif kind == "junk_ts":
            bad = rng.choice(["-5", "1e9", "", "９９９", "1" * 40, "17000000000000", "0x10", " 1"])
            yield "POST", f"/wecom/aibot?{_q(sign(token, bad, nonce, 'x'), bad, nonce)}", good_body.encode(), kind
        elif kind == "truncated":
            p, b = aibot_request(s, visit_payload(msgid), nonce=nonce)
            yield "POST", p, b.encode()[: rng.randint(0, len(b) - 1)], kind
        elif kind == "oversized":
            if i % (len(kinds) * 4) == kinds.index("oversized"):  # a quarter of them: they cost 64 KB each
                yield "POST", good_path, b'{"encrypt": "' + b"A" * (s.server.max_body_bytes + 1) + b'"}', kind
            else:
                yield "POST", good_path, b"x" * (s.server.max_body_bytes + rng.randint(1, 5000)), kind
        elif kind == "bad_base64":
            enc = rng.choice(["%%%%", "QUJD", "QUJD=", "QUJD" * 7 + "Q===", "A" * 43, "====", "QUJDRA==" * 4])
            yield (
                "POST",
                f"/wecom/aibot?{_q(sign(token, ts, nonce, enc), ts, nonce)}",
                json.dumps({"encrypt": enc}).encode(),
                kind,
            )
        elif kind in ("bad_padding", "wrong_key", "wrong_receive_id", "invalid_utf8_plain"):
            content = json.dumps(visit_payload(msgid)).encode()
            if kind == "bad_padding":
                enc = raw_encrypt(key, content, b"", pad_byte=rng.choice([0, 33, 200]))
            elif kind == "wrong_key":
                enc = raw_encrypt(base64.b64encode(os.urandom(32)).decode()[:43], content, b"")
            elif kind == "wrong_receive_id":
                enc = raw_encrypt(key, content, b"wwsomeoneelse")
            else:
                enc = raw_encrypt(key, b'{"msgid": "\xff\xfe\xc3(", "text": "\xed\xa0\x80"}', b"")
            yield (
                "POST",
                f"/wecom/aibot?{_q(sign(token, ts, nonce, enc), ts, nonce)}",
                json.dumps({"encrypt": enc}).encode(),
                kind,
            )
        elif kind == "nested_json_outer":
            yield "POST", good_path, _nested_json(rng.randint(2000, 30000)).encode(), kind
        elif kind == "nested_json_inner":
            p, b = aibot_request(s, _nested_json(rng.randint(2000, 20000)), nonce=nonce)
            yield "POST", p, b.encode(), kind
        elif kind == "invalid_utf8_body":
            yield "POST", good_path, b'{"encrypt": "\xff\xfe' + os.urandom(rng.randint(1, 200)) + b'"}', kind
        elif kind == "not_object":
            p, b = aibot_request(s, rng.choice(["[]", "1", '"x"', "null", "true"]), nonce=nonce)
            yield "POST", p, b.encode(), kind
        else:
            payload = visit_payload(msgid)
            if kind == "no_msgid":
                del payload["msgid"]
            elif kind == "long_msgid":
                payload["msgid"] = "M" * rng.randint(129, 5000)
            elif kind == "ctrl_userid":
                payload["from"] = {"userid": rng.choice(["zhang\x00wei", "\ud800", "x" * 65, 12, None, ["a"]])}
            elif kind == "bad_chattype":
                payload["chattype"] = rng.choice(["channel", "", None, 1, {"a": 1}])
            elif kind == "bad_create_time":
                payload["create_time"] = rng.choice(["²", "10" * 30, 10**30, -1, "abc", 1.5, True, [1]])
            elif kind == "xml_body":
                yield "POST", good_path, XXE.encode(), kind
                continue
            elif kind == "get_bad_echostr":
                enc = rng.choice(["", "QUJD", "%%%", "A" * 44])
                yield "GET", f"/wecom/aibot?{_q(sign(token, ts, nonce, enc), ts, nonce)}&echostr={enc}", b"", kind
                continue
            elif kind == "encrypt_not_string":
                yield "POST", good_path, json.dumps({"encrypt": rng.choice([1, None, [], {"a": "b"}])}).encode(), kind
                continue
            p, b = aibot_request(s, json.dumps(payload), nonce=nonce)  # \ud800 escaped, as JSON allows
            yield "POST", p, b.encode(), kind


def _app_xml(s, msgid: str, **over: str | None) -> str:
    fields = {
        "ToUserName": s.wecom.corp_id,
        "FromUserName": "zhangwei",
        "CreateTime": str(int(time.time())),
        "MsgType": "text",
        "Content": "今天走访了方奶奶",
        "MsgId": msgid,
        "AgentID": "1000002",
    }
    fields.update(over)
    return "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items() if v is not None) + "</xml>"


def app_cases(s, rng: random.Random) -> Iterator[tuple[str, str, bytes, str]]:
    token, key, corp = s.wecom.token, s.wecom.encoding_aes_key, s.wecom.corp_id.encode()
    good_path, good_body = app_request(s, _app_xml(s, "1"))
    ts = str(int(time.time()))
    kinds = [
        "missing_params",
        "bad_sig",
        "stale_ts",
        "future_ts",
        "wrong_corp",
        "to_other_corp",
        "truncated",
        "oversized",
        "bad_base64",
        "bad_padding",
        "wrong_key",
        "bomb_outer",
        "xxe_outer",
        "dtd_outer",
        "bomb_inner",
        "invalid_utf8_body",
        "invalid_utf8_plain",
        "not_xml",
        "no_msgid",
        "no_sender",
        "long_msgid",
        "bad_create_time",
        "json_body",
        "get_bad_echostr",
        "deep_xml",
    ]
    for i in range(PER_ENDPOINT):
        kind = kinds[i % len(kinds)]
        nonce = f"g{i}"
        msgid = str(10**12 + i)
        if kind == "missing_params":
            parts = good_path.split("?")[1].split("&")
            keep = [p for p in parts if rng.random() < 0.5][:2]
            yield "POST", "/wecom/app?" + "&".join(keep), good_body.encode(), kind
        elif kind == "bad_sig":
            sig = "".join(rng.choice("0123456789abcdef") for _ in range(40))
            yield "POST", f"/wecom/app?{_q(sig, ts, nonce)}", good_body.encode(), kind
        elif kind in ("stale_ts", "future_ts"):
            delta = s.server.replay_window_seconds + rng.randint(1, 10**6)
            p, b = app_request(
                s, _app_xml(s, msgid), nonce=nonce, ts=int(time.time()) + (delta if kind == "future_ts" else -delta)
            )
            yield "POST", p, b.encode(), kind
        elif kind == "wrong_corp":
            p, b = app_request(
                s, _app_xml(s, msgid, ToUserName="wwsomeoneelse"), nonce=nonce, receive_id="wwsomeoneelse"
            )
            yield "POST", p, b.encode(), kind
        elif kind == "to_other_corp":  # right receive id, wrong ToUserName inside
            p, b = app_request(s, _app_xml(s, msgid, ToUserName="wwsomeoneelse"), nonce=nonce)
            yield "POST", p, b.encode(), kind
        elif kind == "truncated":
            p, b = app_request(s, _app_xml(s, msgid), nonce=nonce)
            yield "POST", p, b.encode()[: rng.randint(0, len(b) - 1)], kind
        elif kind == "oversized":
            yield "POST", good_path, b"<xml>" + b"A" * (s.server.max_body_bytes + rng.randint(1, 5000)), kind
        elif kind in ("bad_base64", "bad_padding", "wrong_key", "invalid_utf8_plain", "bomb_inner"):
            if kind == "bad_base64":
                enc = rng.choice(["%%%%", "QUJD", "QUJD" * 7 + "Q===", "A" * 43, "===="])
            elif kind == "bad_padding":
                enc = raw_encrypt(key, _app_xml(s, msgid).encode(), corp, pad_byte=rng.choice([0, 33, 200]))
            elif kind == "wrong_key":
                enc = raw_encrypt(base64.b64encode(os.urandom(32)).decode()[:43], _app_xml(s, msgid).encode(), corp)
            elif kind == "invalid_utf8_plain":
                enc = raw_encrypt(key, b"<xml><MsgId>\xff\xfe</MsgId><Content>\xc3(</Content></xml>", corp)
            else:
                enc = raw_encrypt(key, _bomb().encode(), corp)
            body = f"<xml><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
            yield "POST", f"/wecom/app?{_q(sign(token, ts, nonce, enc), ts, nonce)}", body.encode(), kind
        elif kind == "bomb_outer":
            yield "POST", good_path, _bomb(rng.randint(3, 12)).encode(), kind
        elif kind == "xxe_outer":
            yield "POST", good_path, XXE.encode(), kind
        elif kind == "dtd_outer":
            yield "POST", good_path, DTD_EXTERNAL, kind
        elif kind == "invalid_utf8_body":
            junk = b"\xff\xfe" + os.urandom(rng.randint(1, 200))
            yield "POST", good_path, b"<xml><Encrypt>" + junk + b"</Encrypt></xml>", kind
        elif kind == "not_xml":
            yield "POST", good_path, rng.choice([b"", b"<", b"hello", b"<xml>", b"<a><b></a>"]), kind
        elif kind == "json_body":
            yield "POST", good_path, json.dumps({"encrypt": "QUJD"}).encode(), kind
        elif kind == "deep_xml":
            d = rng.randint(1000, 5000)
            yield "POST", good_path, ("<a>" * d + "</a>" * d).encode(), kind
        elif kind == "get_bad_echostr":
            enc = rng.choice(["", "QUJD", "%%%", "A" * 44])
            yield "GET", f"/wecom/app?{_q(sign(token, ts, nonce, enc), ts, nonce)}&echostr={enc}", b"", kind
        else:
            over: dict[str, str | None] = {}
            if kind == "no_msgid":
                over["MsgId"] = None
            elif kind == "no_sender":
                over["FromUserName"] = rng.choice([None, ""])
            elif kind == "long_msgid":
                over["MsgId"] = "9" * rng.randint(129, 3000)
            elif kind == "bad_create_time":
                over["CreateTime"] = rng.choice(["²", "9" * 30, "-1", "abc", "1.5"])
            p, b = app_request(s, _app_xml(s, msgid, **over), nonce=nonce)
            yield "POST", p, b.encode(), kind


async def _fire(client, cases: Iterator[tuple[str, str, bytes, str]]) -> Counter:
    """Post lazily-made cases with bounded concurrency (the cases are never all in memory at once)."""
    statuses: Counter = Counter()

    async def worker(http: aiohttp.ClientSession) -> None:
        for method, path, body, label in cases:  # one shared iterator: each case is taken once
            async with http.request(method, client.make_url(path), data=body) as resp:
                await resp.read()
                statuses[(label, resp.status)] += 1

    # A plain session: the test client keeps every response it made, which would read as a leak.
    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(worker(http) for _ in range(CONCURRENCY)))
    return statuses


def _rss_settled() -> int:
    gc.collect()
    return rss_kb()


async def test_hostile_callbacks_get_4xx_write_nothing_and_memory_stays_flat(aiohttp_client, seeded_url):
    s = bot_settings(seeded_url)
    client = await aiohttp_client(create_app(s))
    rng = random.Random(20261126)

    # Round 1 warms every path (allocator arenas, caches); round 2 must not grow the process beyond a slack.
    t0 = time.perf_counter()
    statuses = await _fire(client, aibot_cases(s, rng))
    statuses += await _fire(client, app_cases(s, rng))
    rss_between = _rss_settled()
    round2 = await _fire(client, aibot_cases(s, rng))
    round2 += await _fire(client, app_cases(s, rng))
    rss_after = _rss_settled()
    elapsed = time.perf_counter() - t0
    statuses += round2

    total = sum(statuses.values())
    bad = {k: n for k, n in statuses.items() if not 400 <= k[1] < 500}
    print(
        f"\nfuzz: {total} callbacks in {elapsed:.1f} s; RSS after round 1 {rss_between} kB, after round 2 "
        f"{rss_after} kB; statuses {Counter(st for (_, st), n in statuses.items() for _ in range(n))}"
    )
    assert total >= 20_000
    assert not bad, f"non-4xx answers: {bad}"
    assert await count_rows(seeded_url, InboundMessage) == 0
    assert await count_rows(seeded_url, Visit) == 0
    async with client.get("/healthz") as resp:
        assert resp.status == 200
    assert rss_after - rss_between < RSS_SLACK_KB, f"RSS grew by {rss_after - rss_between} kB in round 2"

    # and the door still opens for a real message afterwards
    path, body = aibot_request(s, visit_payload("CAIQafter-fuzz"))
    async with client.post(path, data=body) as resp:
        assert resp.status == 200
    assert await count_rows(seeded_url, InboundMessage) == 1
