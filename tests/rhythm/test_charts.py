"""The chart speaks Chinese: the font we ship has the glyphs, distinct characters render differently (no tofu
boxes), and the summary chart draws without a single missing-glyph warning and fits a webhook image."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest
from matplotlib.ft2font import FT2Font

from jobs import charts
from storage import rhythm
from tests.rhythm.conftest import Db

TEXT = "党员联户走访覆盖率诉求心愿群众评价满意基本不重点户各党员新登记已办结超期"


def test_shipped_font_has_every_glyph_we_draw():
    font = FT2Font(str(charts.cjk_font_path()))
    missing = [c for c in TEXT if font.get_char_index(ord(c)) == 0]
    assert missing == []


def test_distinct_characters_render_distinctly_and_not_as_tofu():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the box is what we want here
        tofu = charts.render_text("\U000f0000")  # a private-use code point no font has: the missing-glyph box
    zou, fang = charts.render_text("走"), charts.render_text("访")
    assert zou != fang
    assert zou != tofu and fang != tofu
    # the check can fail: a Latin-only font draws both as the same box
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert charts.render_text("走", family="DejaVu Sans") == charts.render_text("访", family="DejaVu Sans")


@pytest.mark.filterwarnings("error::UserWarning")
async def test_summary_chart_renders_without_missing_glyphs(db: Db):
    await db.visit("M04", "H011", dt.date(2026, 11, 3))
    b = await db.branch()
    async with db.sm() as s:
        report = await rhythm.month_report(s, b, "2026-11", today=dt.date(2026, 12, 5))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = charts.summary_chart(report)
    assert not [w for w in caught if "missing from" in str(w.message)]
    assert png.startswith(b"\x89PNG") and 10_000 < len(png) <= charts.WEBHOOK_IMAGE_MAX
    payload = charts.image_payload(png)
    import base64
    import hashlib

    assert hashlib.md5(base64.b64decode(payload["base64"])).hexdigest() == payload["md5"]


async def test_a_chart_carries_nothing_over_from_the_previous_branch(db: Db):
    """Charts are drawn onto a kept background (jobs/charts.py): a small branch after a big one must look exactly
    as it does when drawn first — no stale bars, names or numbers."""
    import dataclasses

    await db.visit("M04", "H011", dt.date(2026, 11, 3))
    b = await db.branch()
    async with db.sm() as s:
        big = await rhythm.month_report(s, b, "2026-11", today=dt.date(2026, 12, 5))
    people = [mm for mm in big.members if mm.households]
    assert len(people) > 6
    small = dataclasses.replace(big, members=people[:3])

    charts._template.cache_clear()
    fresh = charts.summary_chart(small)
    after_big = charts.summary_chart(big)
    again = charts.summary_chart(small)
    assert again == fresh
    assert after_big != fresh
