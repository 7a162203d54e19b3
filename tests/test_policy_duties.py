"""五联到户 (issue 17 item 1): duties recognised from the member's words, stored with the visit, shown in the
走访台账's 联户内容 column, counted in the month summary and the member's own note; the 责任清单 export."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from sqlalchemy import select

from bot.config import ConfigError, load_settings, policy_options
from domain.duties import DEFAULT, make_catalog
from handlers.context import TZ
from storage import rhythm
from storage.export import export
from storage.models import Branch, Visit, VisitDuty
from tests.matters.helpers import AT, BRANCH, Db, bot_replies


@pytest.mark.parametrize(
    ("text", "duties"),
    [
        ("今天到王大伯家坐了坐，跟他讲了医保的新政策", ["政策讲解"]),
        ("昨天去了严德富家，劝他们两家各让一步", ["矛盾调解"]),
        ("走访蒋立新，动员他家参加垃圾分类", ["工作发动"]),
        ("去王彩娥家问了问有什么困难，她说想装个扶手", ["民意收集"]),
        ("到方奶奶家，劝她丧事从简，不要搞迷信", ["新风倡导"]),
        ("去过了", []),
        ("今天走访了王根发", []),
        ("昨天走访了王大伯，路灯坏了", []),
        ("去了严家，没讲政策，就坐了坐", []),  # a cue after a negation does not count
        ("宣传了防诈骗的文件，顺便听取了他对修路的意见", ["政策讲解", "民意收集"]),
    ],
)
def test_duties_are_recognised_from_the_members_words_and_never_forced(text, duties):
    assert DEFAULT.recognise(text) == duties


def test_a_clause_of_own_work_is_no_request_but_collected_needs_still_are():
    assert DEFAULT.reports_own_work("跟他讲了医保的新政策")
    assert DEFAULT.reports_own_work("劝他们两家各让一步")
    assert not DEFAULT.reports_own_work("问了有什么困难")  # 民意收集 may carry a request
    assert not DEFAULT.reports_own_work("路灯坏了")


def test_the_branchs_own_list_comes_from_configuration(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[duties]\nextra = [{ name = "防汛巡查", words = ["防汛", "防台"] }]\n', encoding="utf-8")
    catalog = policy_options(load_settings(f, environ={})).catalog
    assert catalog.names[-1] == "防汛巡查" and catalog.names[:5] == DEFAULT.names
    assert catalog.recognise("去蒋家看了看防台准备，讲了新政策") == ["政策讲解", "防汛巡查"]
    f.write_text('[duties]\nextra = [{ name = "政策讲解", words = ["x"] }]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="重名"):
        load_settings(f, environ={})
    with pytest.raises(ValueError, match="words"):
        make_catalog([{"name": "巡查", "words": []}])


def _month() -> str:
    return dt.datetime.now(TZ).strftime("%Y-%m")


async def test_visit_duties_through_callbacks_into_the_ledger_and_summary(pair, tmp_path):
    await pair.emulator.say("zhangwei", BRANCH, AT + "今天到王大伯家坐了坐，跟他讲了医保的新政策")
    reply = bot_replies(pair, BRANCH)[-1]
    assert reply.splitlines()[0].startswith("已记录：") and "联户内容：政策讲解" in reply
    assert "已登记" not in reply  # telling about 医保 policy is the member's work, not the household's 诉求
    await pair.emulator.say("zhangwei", BRANCH, AT + "今天去过严德富家了")
    assert "联户内容" not in bot_replies(pair, BRANCH)[-1]  # a plain visit names no duty
    # the ambiguous household: the duties said in the first message survive the numbered answer
    await pair.emulator.say("zhangwei", BRANCH, AT + "今天走访王家，劝他们两家各让一步")
    await pair.emulator.say("zhangwei", BRANCH, AT + "2")
    assert "联户内容：矛盾调解" in bot_replies(pair, BRANCH)[-1]

    await pair.emulator.say("chenjianguo", BRANCH, AT + "本月汇总")
    assert "- 五联到户：政策讲解 1 次、矛盾调解 1 次" in bot_replies(pair, BRANCH)[-1]

    db = Db(pair.settings.database.url)
    async with db.sm() as s:
        stored = sorted((await s.execute(select(Visit.household_id, VisitDuty.duty).join(Visit))).all())
        branch = (await s.execute(select(Branch))).scalar_one()
        path = await export(s, "visits", branch, _month(), tmp_path / "visits.xlsx")
        report = await rhythm.month_report(s, branch, _month(), today=dt.datetime.now(TZ).date())
        duties_path = await export(s, "duties", branch, _month(), tmp_path / "duties.xlsx")
        summary_path = await export(s, "summary", branch, _month(), tmp_path / "summary.xlsx")
    await db.close()
    assert [d for _, d in stored] == ["政策讲解", "矛盾调解"]

    ws = openpyxl.load_workbook(path)["走访台账"]
    header = [c.value for c in ws[1]]
    col = header.index("联户内容")
    by_head = {r[4]: r[col] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert by_head == {"王根发": "政策讲解", "严德富": None, "王彩娥": "矛盾调解"}

    zhang = next(mm for mm in report.members if mm.member.name == "张伟")
    assert report.duty_counts[zhang.member.id] == {"政策讲解": 1, "矛盾调解": 1}
    from jobs.summary import group_summary_text, member_part_text

    assert "五联到户：政策讲解 1 次、矛盾调解 1 次" in group_summary_text(report)
    assert "政策讲解 1 次、矛盾调解 1 次" in member_part_text(report, zhang, dt.datetime.now(TZ).date())

    ws = openpyxl.load_workbook(summary_path)["党员走访"]
    header = [c.value for c in ws[1]]
    zhang_row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[1] == "张伟")
    assert zhang_row[header.index("政策讲解")] == 1 and zhang_row[header.index("新风倡导")] == 0

    rows = list(openpyxl.load_workbook(duties_path)["责任清单"].iter_rows(min_row=3, values_only=True))
    assert [r[2] for r in rows] == [
        "上级政策讲解到户",
        "重点工作发动到户",
        "民意诉求收集到户",
        "矛盾纠纷调解到户",
        "文明新风倡导到户",
    ]
    assert all(r[1] == "共性清单" and r[3] for r in rows)


async def test_duty_list_export_carries_the_branchs_own_list(seeded_url, tmp_path, monkeypatch):
    """`lianhu export duties --config …`: the 个性清单 from [duties] extra follows the five common duties."""
    import asyncio

    from bot.cli import main

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[duties]\nextra = [{ name = "防汛巡查", words = ["防汛"], description = "汛期巡查联系户房屋安全" }]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("LIANHU_DATABASE_URL", seeded_url)
    out = tmp_path / "d.xlsx"
    assert await asyncio.to_thread(main, ["export", "责任清单", "--config", str(cfg), "-o", str(out)]) == 0
    rows = list(openpyxl.load_workbook(out)["责任清单"].iter_rows(min_row=3, values_only=True))
    assert len(rows) == 6 and rows[-1][1:4] == ("个性清单", "防汛巡查", "汛期巡查联系户房屋安全")
