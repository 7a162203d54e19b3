"""One masking rule (issue 15, finding 3): phone and ID numbers in every form people type them are masked in
whatever a person reads; dates, amounts, times and matter numbers are left alone."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from domain.privacy import find_pii, mask
from storage.models import Matter, OutboundMessage
from tests.matters.helpers import Db, resident_says

FORMS = [
    # mobiles: widths, separators, country codes
    ("13812345678", "138****5678"),
    ("１３８１２３４５６７８", "１３８****５６７８"),
    ("138.1234.5678", "138.****.5678"),
    ("138－1234－5678", "138－****－5678"),
    ("138—1234—5678", "138—****—5678"),
    ("138-1234-5678", "138-****-5678"),
    ("138 1234 5678", "138 **** 5678"),
    ("138 - 1234 - 5678", "138 - **** - 5678"),
    ("１３８　１２３４　５６７８", "１３８　****　５６７８"),
    ("+8613812345678", "+86138****5678"),
    ("+86 138 1234 5678", "+86 138 **** 5678"),
    ("86-13812345678", "86-138****5678"),
    ("0086 13812345678", "0086 138****5678"),
    ("（+86）13812345678", "（+86）138****5678"),
    ("电话13812345678找我", "电话138****5678找我"),
    ("手机：13812345678。", "手机：138****5678。"),
    # landlines
    ("0574-6512 3456", "0574-**** 3456"),
    ("0574-65123456", "0574-****3456"),
    ("(0574)65123456", "(0574)****3456"),
    ("０５７４－６５１２３４５６", "０５７４－****３４５６"),
    ("010-12345678", "010-12345678"),  # a local number cannot start with 1: not a landline
    ("010-62345678", "010-****5678"),
    # 身份证号
    ("330226198001011234", "**************1234"),
    ("33022619800101123X", "**************123X"),
    ("33022619800101123x", "**************123x"),
    ("身份证 330226 19800101 123X", "身份证 ****** ******** 123X"),
    # left alone
    ("2026-11-26", "2026-11-26"),
    ("2026.11.26 09:30", "2026.11.26 09:30"),
    ("2026年11月26日", "2026年11月26日"),
    ("诉求12 已办结", "诉求12 已办结"),
    ("心愿3", "心愿3"),
    ("补助1,380.50元", "补助1,380.50元"),
    ("13.8万元", "13.8万元"),
    ("第3网格 5户 12人", "第3网格 5户 12人"),
    ("订单号 202611261234567890123", "订单号 202611261234567890123"),
    ("138123456789", "138123456789"),  # 12 digits: something else
    ("H011 王根发", "H011 王根发"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "masked"), FORMS)
def test_mask_forms(text: str, masked: str) -> None:
    assert mask(text) == masked
    assert mask(masked) == masked  # masking twice changes nothing (outbox and handlers both apply it)


def test_kinds_found() -> None:
    found = find_pii("手机１３８－１２３４－５６７８，身份证33022619520304123X，电话0574-6512 3456")
    assert [p.kind for p in found] == ["mobile", "id_card", "landline"]


HH_GROUP = "wrQYm04hh01"  # 张伟联户群 (二级): what residents say there is relayed to 张伟 privately
RAW = ("１３８１２３４５６７８", "138.1234.5678", "138－1234－5678", "330226198001011234")


async def test_replies_relays_and_notices_are_masked(pair):
    text = "门口路灯坏了，联系我 " + "，".join(RAW)
    reply = await resident_says(pair, "wmh011x7Qe", text)  # 微信客服 1:1: registered, member told
    await resident_says(pair, "wmh012x7Qe", "路灯坏了，电话 " + "，".join(RAW), channel="archive", chat_id=HH_GROUP)
    db = Db(pair.settings.database.url)
    async with db.sm() as s:
        sent = list(await s.scalars(select(OutboundMessage.content)))
    await db.close()
    shown = [reply or "", *sent]
    assert any(t.startswith("「张伟联户群」里") for t in sent), "no relay to the member: the test proves nothing"
    assert any("１３８****５６７８" in t for t in sent), "the member was not told anything: the test proves nothing"
    for t in shown:
        for raw in RAW:
            assert raw not in t, f"unmasked {raw} in: {t}"


async def test_a_number_at_the_cut_is_masked_before_it_is_cut(pair):
    text = "门口路灯坏了" + "很" * 185 + "电话13812345678"  # the 200-character summary ends inside the number
    await resident_says(pair, "wmh013x7Qe", text)
    db = Db(pair.settings.database.url)
    async with db.sm() as s:
        summaries = list(await s.scalars(select(Matter.summary)))
        sent = list(await s.scalars(select(OutboundMessage.content)))
    await db.close()
    assert summaries and not any(re.search(r"\d{5,}", t) for t in [*summaries, *sent]), summaries
