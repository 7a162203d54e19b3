"""A synthetic county (or village) for benchmarks and load tests: deterministic from a seed, bulk-inserted.

Shape (宁海-like at county scale): ~18 townships of ~20 branches; per branch 30–80 members (one 书记, 委员, 中心户
leading 5–15 members each, some 外出/流动/免联户), 5–20 households per linking member (~20 % key households), one
一级 group with a webhook key and one 二级 group per linking member, a year of visits and matters with monthly
rhythm (a 主题党日 peak, fewer visits in the Spring Festival month and the farming months).

Generation is pure (random.Random(seed), a fixed `today`); ids are assigned here so that every row can be built
without a round trip, and rows go in with Core `insert(table)` executemany in chunks, one branch at a time so
memory stays bounded. Userids, external userids and chat ids carry the branch id, so they are globally unique
and a second seed run adds a second county rather than colliding.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import (
    Branch,
    ChatGroup,
    Counter,
    Grid,
    Household,
    Link,
    Matter,
    MatterEvent,
    Member,
    Visit,
)

TZ = ZoneInfo("Asia/Shanghai")
CHUNK = 5000

TOWNSHIPS = (
    "跃龙街道",
    "桃源街道",
    "梅林街道",
    "桥头胡街道",
    "长街镇",
    "力洋镇",
    "一市镇",
    "岔路镇",
    "前童镇",
    "桑洲镇",
    "黄坛镇",
    "大佳何镇",
    "强蛟镇",
    "西店镇",
    "深甽镇",
    "胡陈乡",
    "茶院乡",
    "越溪乡",
)
VILLAGE_CHARS = "前后东西南北上下大小新旧山溪岙洋塘桥湾岭坑头墩里岩林竹梅桃杨柳石龙凤马花水田家庄"
SURNAMES = "王王王陈陈陈李李张张胡胡叶叶应应杨林徐吴周葛俞童邬严楼娄蒋方郑金朱孙潘何戴袁毛赵刘黄"
GIVEN = "建国海峰秀兰伟丽明华军平英芳志强春燕根发彩娥德富立新阿土美娟雪梅红霞永康金水桂香玉莲宏伟海燕文斌"
KEY_TYPES = ("困难家庭", "危重病人", "空巢老人", "留守儿童")
KEY_WEIGHTS = (3, 1, 5, 2)
REQUEST_CATEGORIES = ("红色代办", "设施维修", "矛盾调解", "政策咨询", "环境卫生", "医疗救助")
REQUEST_SUMMARIES = {
    "红色代办": ("帮忙代办医保缴费", "代办老年证", "代缴电费", "代办残疾证年审"),
    "设施维修": ("门口路灯坏了", "村道有坑需修补", "自来水管漏水", "桥边护栏松动"),
    "矛盾调解": ("邻里宅基地边界纠纷", "家里老人赡养问题", "排水沟堵塞引起争执"),
    "政策咨询": ("咨询低保申请条件", "问养老保险补缴", "咨询危房改造补助"),
    "环境卫生": ("垃圾桶满了没人清", "河道有漂浮物", "路边杂草需清理"),
    "医疗救助": ("老人需要送医复查", "申请大病救助", "家庭医生上门随访"),
}
WISHES = ("想要一台收音机", "希望有人陪聊天", "孩子需要学习用品", "想换一副老花镜", "想学用智能手机")
# 1 = usual; fewer visits in the Spring Festival month and the busy farming months.
MONTH_FACTOR = {1: 1.0, 2: 0.6, 3: 1.0, 4: 0.9, 5: 0.85, 6: 0.8, 7: 0.95, 8: 0.95, 9: 1.0, 10: 0.8, 11: 1.0, 12: 1.0}


@dataclass
class SeedReport:
    branches: int = 0
    grids: int = 0
    members: int = 0
    households: int = 0
    links: int = 0
    groups: int = 0
    visits: int = 0
    matters: int = 0
    matter_events: int = 0
    seconds: float = 0.0
    branch_names: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"支部 {self.branches} 个，网格 {self.grids} 个，党员 {self.members} 名，联系户 {self.households} 户，"
            f"联户关系 {self.links} 条，群聊 {self.groups} 个",
            f"走访 {self.visits} 条，诉求/心愿 {self.matters} 件（事件 {self.matter_events} 条），"
            f"用时 {self.seconds:.1f} 秒",
        ]


SCALES = {"county": 360, "village": 1}


class _Ids:
    """Explicit ids, continuing after whatever the database already holds."""

    def __init__(self, start: dict[str, int]) -> None:
        self.next = dict(start)

    def take(self, table: str) -> int:
        self.next[table] += 1
        return self.next[table]


def _name(rng: random.Random, surname: str | None = None) -> str:
    s = surname or rng.choice(SURNAMES)
    n = rng.choice((1, 2, 2, 2))
    return s + "".join(rng.choice(GIVEN) for _ in range(n))


def _month_starts(today: dt.date, months: int) -> list[dt.date]:
    out, y, m = [], today.year, today.month
    for _ in range(months):
        out.append(dt.date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return list(reversed(out))


def _month_end(start: dt.date) -> dt.date:
    nxt = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(rng.randint(7, 20), rng.randint(0, 59)), TZ)


class _Branch:
    """All rows of one branch, built in memory (a few thousand), then inserted and dropped."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {
            t: []
            for t in (
                "branch",
                "grid",
                "member_leaders",
                "member",
                "household",
                "link",
                "chat_group",
                "visit",
                "matter",
                "matter_event",
                "counter",
            )
        }


def generate_branch(rng: random.Random, ids: _Ids, name: str, today: dt.date) -> _Branch:
    out = _Branch()
    r = out.rows
    bid = ids.take("branch")
    theme_day = rng.choice((5, 10, 15, 20))
    year_ago = today - dt.timedelta(days=365)
    created = dt.datetime.combine(year_ago - dt.timedelta(days=30), dt.time(9), TZ)
    r["branch"].append({"id": bid, "name": name, "theme_day": theme_day, "roster_version": 1, "created_at": created})
    village = name.split("镇")[-1].split("街道")[-1].split("乡")[-1].removesuffix("村")

    grid_ids = []
    for g in range(rng.randint(3, 8)):
        gid = ids.take("grid")
        grid_ids.append(gid)
        r["grid"].append({"id": gid, "branch_id": bid, "name": f"第{'一二三四五六七八'[g]}网格"})

    # --- members: roles, status, 中心户 groups -----------------------------------------------------------------
    n_members = rng.randint(30, 80)
    members: list[dict[str, Any]] = []
    for i in range(n_members):
        mid = ids.take("member")
        birth = rng.randint(1940, 2000)
        members.append(
            {
                "id": mid,
                "branch_id": bid,
                "code": f"M{i + 1:03d}",
                "name": _name(rng),
                "userid": f"s{bid}m{i + 1:03d}",
                "gender": rng.choice("男男女"),
                "birth_year": birth,
                "grid_id": rng.choice(grid_ids),
                "roles": "党员",
                "status": "在村",
                "leader_id": None,
                "note": "",
                "active": True,
            }
        )
    members[0]["roles"] = "书记"
    n_committee = rng.randint(3, 6)
    for m in members[1 : 1 + n_committee]:
        m["roles"] = "委员"
    rest = members[1 + n_committee :]
    for m in rest:
        roll = rng.random()
        if roll < 0.05 or (m["birth_year"] < 1945 and roll < 0.5):
            m["status"], m["note"] = "免联户", rng.choice(("年老体弱", "长期卧病", "年满八十"))
        elif roll < 0.11:
            m["status"] = "外出"
        elif roll < 0.14:
            m["status"] = "流动"
    # 中心户: every ~10 members one leader; each leads 5–15 of the plain members
    plain = [m for m in rest if m["status"] == "在村"]
    rng.shuffle(plain)
    leaders = [m for m in [*members[1 : 1 + n_committee], *plain] if m["status"] == "在村"][: max(1, n_members // 10)]
    followers = [m for m in rest if m not in leaders]
    pos = 0
    for leader in leaders:
        leader["roles"] = ";".join(x for x in (leader["roles"] if leader["roles"] != "党员" else "", "中心户") if x)
        take = rng.randint(5, 15)
        for f in followers[pos : pos + take]:
            f["leader_id"] = leader["id"]
        pos += take
    for m in rng.sample(rest, k=min(len(rest), rng.randint(1, 3))):
        if "网格员" not in m["roles"] and "中心户" not in m["roles"]:
            m["roles"] = "网格员" if m["roles"] == "党员" else m["roles"] + ";网格员"
    r["member_leaders"] = [m for m in members if m["leader_id"] is None]  # FK order: leaders first
    r["member"] = [m for m in members if m["leader_id"] is not None]

    # --- households and links ------------------------------------------------------------------------------------
    linking = [m for m in members if m["status"] != "免联户"]
    hh_index = 0
    member_households: dict[int, list[dict[str, Any]]] = {}
    owner: dict[int, dict[str, Any]] = {}  # household id → its linked member
    for m in linking:
        for _ in range(rng.randint(5, 20)):
            hh_index += 1
            hid = ids.take("household")
            age_birth = rng.randint(1930, 1995)
            key: list[str] = []
            if rng.random() < 0.2:
                key = sorted(set(rng.choices(KEY_TYPES, KEY_WEIGHTS, k=rng.choice((1, 1, 1, 2)))))
            surname = rng.choice(SURNAMES)
            head = _name(rng, surname)
            h = {
                "id": hid,
                "branch_id": bid,
                "code": f"H{hh_index:04d}",
                "head_name": head,
                "gender": rng.choice("男男女"),
                "birth_year": age_birth,
                "address": f"{village}村{rng.randint(1, 12)}组{rng.randint(1, 60)}号",
                "grid_id": m["grid_id"],
                "key_types": ";".join(key),
                "aliases": (head[-1] + rng.choice("伯婆叔婶")) if age_birth < 1955 and rng.random() < 0.3 else "",
                "external_userid": f"wmS{bid:05d}h{hh_index:04d}" if rng.random() < 0.7 else None,
                "active": True,
            }
            r["household"].append(h)
            member_households.setdefault(m["id"], []).append(h)
            owner[hid] = m
            r["link"].append(
                {
                    "id": ids.take("link"),
                    "branch_id": bid,
                    "member_id": m["id"],
                    "household_id": hid,
                    "valid_from": created,
                    "valid_to": None,
                    "reason": "名册导入",
                    "changed_by": "seed",
                }
            )

    # --- groups -----------------------------------------------------------------------------------------------------
    r["chat_group"].append(
        {
            "id": ids.take("chat_group"),
            "branch_id": bid,
            "chat_id": f"wrS{bid:05d}branch",
            "name": f"{village}村党员群",
            "level": 1,
            "member_id": None,
            "internal": True,
            "webhook_key": f"{rng.getrandbits(128):032x}",
        }
    )
    for m in linking:
        r["chat_group"].append(
            {
                "id": ids.take("chat_group"),
                "branch_id": bid,
                "chat_id": f"wrS{bid:05d}{m['code']}",
                "name": f"{m['name']}联户群",
                "level": 2,
                "member_id": m["id"],
                "internal": False,
                "webhook_key": None,
            }
        )

    # --- a year of visits ---------------------------------------------------------------------------------------------
    months = _month_starts(today, 13)  # twelve full months and the current one
    for m in linking:
        diligence = rng.uniform(0.6, 1.0) * (0.35 if m["status"] in ("外出", "流动") else 1.0)
        for h in member_households.get(m["id"], []):
            base = 0.93 if h["key_types"] else 0.55
            for start in months:
                if start < year_ago.replace(day=1):
                    continue
                last = min(_month_end(start), today)
                if rng.random() >= base * diligence * MONTH_FACTOR[start.month]:
                    continue
                if rng.random() < 0.4:  # the 主题党日 cluster
                    day = start.replace(day=min(theme_day + rng.randint(-2, 3), last.day))
                else:
                    day = start + dt.timedelta(days=rng.randint(0, last.day - 1))
                if day > today or day < year_ago:
                    continue
                r["visit"].append(
                    {
                        "id": ids.take("visit"),
                        "branch_id": bid,
                        "member_id": m["id"],
                        "household_id": h["id"],
                        "visit_date": day,
                        "inbound_id": None,
                        "recorded_by": m["userid"],
                        "created_at": _at(day, rng),
                    }
                )

    # --- matters: 诉求 and 心愿 with their events ---------------------------------------------------------------------
    numbers = {"request": 0, "wish": 0}
    for h in r["household"]:
        if rng.random() >= (0.12 if h["key_types"] else 0.06):
            continue
        kind = "wish" if rng.random() < 0.2 else "request"
        numbers[kind] += 1
        category = "微心愿" if kind == "wish" else rng.choice(REQUEST_CATEGORIES)
        summary = rng.choice(WISHES) if kind == "wish" else rng.choice(REQUEST_SUMMARIES[category])
        member = owner.get(h["id"])
        opened_day = today - dt.timedelta(days=rng.randint(0, 364))
        opened = _at(opened_day, rng)
        age = (today - opened_day).days
        path = ["登记", "受理", "派", "办结", "评价"]
        if age < 7:
            path = path[: rng.randint(1, 3)]
        elif age < 30:
            path = path[: rng.randint(2, 5)]
        elif rng.random() < 0.04:
            path = ["登记", "不予受理"]
        states = {
            "登记": ("已登记", "open"),
            "受理": ("已受理", "open"),
            "派": ("办理中", "open"),
            "办结": ("已办结", "fixed"),
            "评价": ("已评价", "closed"),
            "不予受理": ("不予受理", "closed"),
        }
        state, state_type = states[path[-1]]
        rating = None
        if path[-1] == "评价":
            rating = rng.choices(("满意", "基本满意", "不满意"), (85, 12, 3))[0]
        mid_ = ids.take("matter")
        at = opened
        events = []
        prev = None
        for action in path:
            events.append(
                {
                    "id": ids.take("matter_event"),
                    "matter_id": mid_,
                    "action": action,
                    "from_state": prev,
                    "to_state": states[action][0],
                    "actor": member["userid"] if member else "seed",
                    "note": rating if action == "评价" else "",
                    "at": at,
                }
            )
            prev = states[action][0]
            at = min(at + dt.timedelta(hours=rng.randint(2, 24 * 6)), dt.datetime.combine(today, dt.time(23), TZ))
        r["matter"].append(
            {
                "id": mid_,
                "branch_id": bid,
                "kind": kind,
                "number": numbers[kind],
                "category": category,
                "household_id": h["id"],
                "member_id": member["id"] if member else None,
                "reporter": h["external_userid"] or (member["userid"] if member else ""),
                "summary": summary,
                "sensitive": category in ("矛盾调解", "医疗救助"),
                "state": state,
                "state_type": state_type,
                "assignee_id": member["id"] if member and len(path) >= 3 else None,
                "due_date": opened_day + dt.timedelta(days=15),
                "duplicate_of_id": None,
                "escalated_to": "",
                "rating": rating,
                "rating_asked_at": events[-1]["at"] if path[-1] in ("办结", "评价") else None,
                "source_inbound_id": None,
                "source_chat": f"wrS{bid:05d}{member['code']}" if member else "",
                "created_at": opened,
                "updated_at": events[-1]["at"],
                "closed_at": events[-1]["at"] if state_type != "open" else None,
            }
        )
        r["matter_event"].extend(events)
    for kind, value in numbers.items():
        if value:
            r["counter"].append({"branch_id": bid, "kind": kind, "value": value})
    return out


def branch_names(rng: random.Random, n: int, taken: set[str]) -> list[str]:
    """Township + village names; ~20 villages per township, never a name the database already has."""
    per_town = max(1, min(20, (n + len(TOWNSHIPS) - 1) // len(TOWNSHIPS)))
    names: list[str] = []
    seen = set(taken)
    i = 0
    while len(names) < n:
        town = TOWNSHIPS[(i // per_town) % len(TOWNSHIPS)]
        for _ in range(1000):
            v = "".join(rng.sample(VILLAGE_CHARS, 2))
            cand = f"{town}{v}村"
            if cand not in seen:
                break
        else:  # the two-character space of one township is exhausted: number them
            cand = f"{town}第{i}村"
        seen.add(cand)
        names.append(cand)
        i += 1
    return names


def township_of(branch_name: str) -> str:
    for t in TOWNSHIPS:
        if branch_name.startswith(t):
            return t
    return ""


TABLE_OF: dict[str, Table] = {
    "branch": Branch.__table__,
    "grid": Grid.__table__,
    "member_leaders": Member.__table__,
    "member": Member.__table__,
    "household": Household.__table__,
    "link": Link.__table__,
    "chat_group": ChatGroup.__table__,
    "visit": Visit.__table__,
    "matter": Matter.__table__,
    "matter_event": MatterEvent.__table__,
    "counter": Counter.__table__,
}
ID_TABLES = ("branch", "grid", "member", "household", "link", "chat_group", "visit", "matter", "matter_event")


async def _insert_chunks(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        await conn.execute(insert(table), rows[i : i + CHUNK])


async def seed(
    conn: AsyncConnection,
    *,
    branches: int,
    seed: int = 1,
    today: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
    commit: Callable[[], Awaitable[None]] | None = None,
) -> SeedReport:
    """Generate and insert `branches` branches into a migrated database (inside the caller's transaction).

    `commit`, when given, is called after each branch: a county seeded into a database the bot is using holds
    the write lock for one branch (~0.2 s) at a time, not for minutes."""
    t0 = time.perf_counter()
    today = today or dt.datetime.now(TZ).date()
    rng = random.Random(seed)
    start = {t: int(await conn.scalar(select(func.coalesce(func.max(TABLE_OF[t].c.id), 0)))) for t in ID_TABLES}
    ids = _Ids(start)
    taken = set(await conn.scalars(select(Branch.name)))
    report = SeedReport()
    names = branch_names(rng, branches, taken)
    report.branch_names = names
    for n, name in enumerate(names, 1):
        b = generate_branch(_branch_rng(rng), ids, name, today)
        for table_key, rows in b.rows.items():
            if rows:
                await _insert_chunks(conn, TABLE_OF[table_key], rows)
        report.branches += 1
        report.grids += len(b.rows["grid"])
        report.members += len(b.rows["member"]) + len(b.rows["member_leaders"])
        report.households += len(b.rows["household"])
        report.links += len(b.rows["link"])
        report.groups += len(b.rows["chat_group"])
        report.visits += len(b.rows["visit"])
        report.matters += len(b.rows["matter"])
        report.matter_events += len(b.rows["matter_event"])
        if progress:
            progress(n, len(names))
        if commit is not None:
            await commit()
    if conn.dialect.name == "postgresql":
        # explicit ids bypassed the sequences: move them past what we wrote
        for t in ID_TABLES:
            await conn.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT coalesce(max(id), 1) FROM {t}))")
            )
    report.seconds = time.perf_counter() - t0
    return report


def _branch_rng(rng: random.Random) -> random.Random:
    """Each branch draws from its own stream seeded by the county stream: one branch's shape never shifts another."""
    return random.Random(rng.getrandbits(64))


async def analyze(conn: AsyncConnection) -> None:
    """Fresh statistics after a bulk load, so the planner sees the real sizes. On PostgreSQL also VACUUM, which
    sets the visibility map: without it every "index only" visit probe still reads the heap."""
    if conn.dialect.name == "postgresql":
        await conn.commit()
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("VACUUM ANALYZE"))
    else:
        await conn.execute(text("ANALYZE"))
