"""Visit dates (parse.md "date"): relative days, weekdays by calendar week, N号, M月N日, dialect."""

from datetime import date

import pytest

from nlp.dates import find_days, find_month

TODAY = date(2026, 11, 26)  # Thursday; this week Mon 23 .. Sun 29, last week Mon 16 .. Sun 22


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天", date(2026, 11, 26)),
        ("今朝", date(2026, 11, 26)),
        ("昨天", date(2026, 11, 25)),
        ("昨日", date(2026, 11, 25)),
        ("前天", date(2026, 11, 24)),
        ("上周三", date(2026, 11, 18)),
        ("上个星期三", date(2026, 11, 18)),
        ("上礼拜天", date(2026, 11, 22)),
        ("上周日", date(2026, 11, 22)),
        ("本周一", date(2026, 11, 23)),
        ("这周二", date(2026, 11, 24)),
        ("20号", date(2026, 11, 20)),
        ("二十号", date(2026, 11, 20)),
        ("28号", date(2026, 10, 28)),  # after today: last month
        ("5日", date(2026, 11, 5)),
        ("11月3日", date(2026, 11, 3)),
        ("十二月三十日", date(2025, 12, 30)),  # in the future: last year
        ("两天前", date(2026, 11, 24)),
        ("上个月15号", date(2026, 10, 15)),
    ],
)
def test_day_expressions(text, expected):
    days = find_days(text, TODAY)
    assert [d.day for d in days] == [expected]


def test_week_starts_on_monday():
    sunday = date(2026, 2, 1)
    assert find_days("本周三", sunday)[0].day == date(2026, 1, 28)
    assert find_days("上周六", sunday)[0].day == date(2026, 1, 24)
    monday = date(2026, 3, 2)
    assert find_days("上周日", monday)[0].day == date(2026, 3, 1)


def test_year_boundary():
    assert find_days("31号", date(2026, 1, 2))[0].day == date(2025, 12, 31)
    assert find_days("12月30日", date(2026, 1, 2))[0].day == date(2025, 12, 30)


@pytest.mark.parametrize("text", ["八组3号", "前洋村三组2号", "3号楼", "43码的棉鞋", "上周去世了"])
def test_places_and_vague_times_are_not_days(text):
    assert find_days(text, TODAY) == []


def test_visit_date_is_the_visit_clause_not_another_event(parse):
    r = parse("今天去何小梅家走访 她老公前天骑电瓶车摔了", sender="wangli")
    assert r.date == TODAY
    r = parse("昨天去八组3号和许爱华家坐了坐", sender="zhengguoping")
    assert r.date == date(2026, 11, 25)
    r = parse("30号去邵秀珍家了 她女儿说下个月要去上海做手术", sender="hujianhua", today=date(2026, 4, 1))
    assert r.date == date(2026, 3, 30)


def test_no_date_means_today_and_non_visits_have_none(parse):
    assert parse("去马晓燕家看了下，两个小孩在家写作业", sender="wumin").date == TODAY
    assert parse("屋顶漏水了，能不能叫人来看看", sender="wmh026x7Qe").date is None


@pytest.mark.parametrize(
    ("text", "today", "month"),
    [
        ("本月汇总", date(2026, 8, 27), "2026-08"),
        ("这个月积分多少", date(2026, 8, 27), "2026-08"),
        ("上个月汇总发我看下", date(2026, 1, 2), "2025-12"),
        ("上月积分", date(2026, 3, 2), "2026-02"),
        ("12月份还有哪些户没走访到", date(2026, 1, 2), "2025-12"),
        ("9月重点户走访情况报一下", date(2026, 10, 3), "2026-09"),
        ("十月汇总", date(2026, 11, 2), "2026-10"),
        ("去年11月汇总", date(2026, 11, 2), "2025-11"),
    ],
)
def test_months(text, today, month):
    assert find_month(text, today) == month


def test_query_month_defaults_to_current(parse):
    r = parse("我的积分多少", sender="wangli", today=date(2026, 3, 2))
    assert (r.intent, r.query, r.month) == ("query", "points", "2026-03")
    r = parse("我联系了哪些户", sender="zhangwei")
    assert (r.query, r.month) == ("my_households", None)
