"""The 主题党日 chart: one PNG for the 一级 group, Chinese labels rendered with a CJK font we ship.

The font comes from the `mplfonts` package (Noto Sans CJK SC, OFL); a system CJK font (fc-list :lang=zh) is used
when that is missing. Without either, matplotlib would draw every Chinese character as a box.
"""

from __future__ import annotations

import base64
import hashlib
import io
from functools import lru_cache
from importlib import resources
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure  # not pyplot: no global state, no display backend

from storage.rhythm import MonthReport

WEBHOOK_IMAGE_MAX = 2 * 1024 * 1024  # webhook msgtype image: ≤ 2 MB before base64
BUNDLED = ("NotoSansCJKsc-Regular.otf", "SimHei.ttf")
SYSTEM_NAMES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
                "Source Han Sans SC", "SimHei", "Microsoft YaHei")


class NoCJKFont(RuntimeError):
    pass


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """Register and return a font file that has Chinese glyphs."""
    try:
        base = resources.files("mplfonts") / "fonts"
        for name in BUNDLED:
            p = Path(str(base / name))
            if p.is_file():
                font_manager.fontManager.addfont(str(p))
                return p
    except ModuleNotFoundError:
        pass
    for f in font_manager.fontManager.ttflist:
        if f.name in SYSTEM_NAMES:
            return Path(f.fname)
    raise NoCJKFont("没有可用的中文字体：请安装 mplfonts（pip）或 fonts-noto-cjk（apt）")


@lru_cache(maxsize=1)
def cjk_family() -> str:
    return font_manager.FontProperties(fname=str(cjk_font_path())).get_name()


def _pct(a: int, b: int) -> float:
    return 100.0 * a / b if b else 0.0


def cjk_rc() -> dict[str, object]:
    return {"font.family": "sans-serif", "font.sans-serif": [cjk_family(), "DejaVu Sans"],
            "axes.unicode_minus": False}


def summary_chart(report: MonthReport, *, dpi: int = 110) -> bytes:
    """Four panels: visits per member, coverage, items, ratings. Returns PNG bytes ≤ 2 MB."""
    with matplotlib.rc_context(cjk_rc()):
        data = _draw(report, dpi)
    if len(data) > WEBHOOK_IMAGE_MAX and dpi > 50:
        return summary_chart(report, dpi=dpi * 2 // 3)
    return data


def _draw(report: MonthReport, dpi: int) -> bytes:
    fig = Figure(figsize=(10, 7.5), dpi=dpi)
    # fixed margins: the constrained layout engine doubled the render time (360 branches × every month)
    fig.subplots_adjust(left=0.06, right=0.98, top=0.9, bottom=0.07, hspace=0.5, wspace=0.16)
    y, m = report.month.split("-")
    fig.suptitle(f"{report.branch.name} {y}年{int(m)}月 党员联户情况", fontsize=15)
    axes = fig.subplots(2, 2)

    ax = axes[0][0]
    people = [mm for mm in report.members if mm.households or mm.visits]
    names = [mm.member.name for mm in people]
    ax.bar(names, [len(mm.visited_ids) for mm in people], color="#c0392b", label="已走访户")
    ax.bar(names, [len(mm.households) - len(mm.visited_ids) for mm in people],
           bottom=[len(mm.visited_ids) for mm in people], color="#f5b7b1", label="未走访户")
    ax.set_title("各党员走访户数")
    ax.legend(fontsize=8)
    ax.tick_params(axis="x", labelrotation=60, labelsize=8)

    ax = axes[0][1]
    cov = [_pct(report.households_visited, report.households_due), _pct(report.key_visited, report.key_due)]
    bars = ax.bar(["联系户", "重点户"], cov, color=["#2e86c1", "#d35400"])
    for b, (a, n) in zip(bars, [(report.households_visited, report.households_due),
                                (report.key_visited, report.key_due)], strict=True):
        ax.annotate(f"{a}/{n}", (b.get_x() + b.get_width() / 2, b.get_height()), ha="center", va="bottom")
    ax.set_ylim(0, 110)
    ax.set_title("走访覆盖率（%）")

    ax = axes[1][0]
    r, w = report.requests, report.wish_stats_matters
    cats = ["新登记", "已办结", "超期"]
    xs = range(len(cats))
    ax.bar([x - 0.2 for x in xs], [r.new, r.closed, r.overdue], width=0.4, color="#7d3c98", label="诉求")
    ax.bar([x + 0.2 for x in xs], [w.new, w.closed, w.overdue], width=0.4, color="#27ae60", label="心愿")
    ax.set_xticks(list(xs), cats)
    ax.set_title("诉求与心愿（件）")
    ax.legend(fontsize=8)

    ax = axes[1][1]
    ratings = r.ratings + w.ratings
    labels = ["满意", "基本满意", "不满意"]
    ax.bar(labels, [ratings[k] for k in labels], color=["#1e8449", "#f1c40f", "#922b21"])
    ax.set_title("群众评价（件）")

    for a in (axes[0][0], axes[1][0], axes[1][1]):
        a.yaxis.get_major_locator().set_params(integer=True)
        a.set_ylim(0, max(1.0, a.get_ylim()[1]))  # all-zero months: no negative axis

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def image_payload(png: bytes) -> dict[str, str]:
    """What webhook/send wants for msgtype image."""
    return {"base64": base64.b64encode(png).decode(), "md5": hashlib.md5(png).hexdigest()}


def render_text(text: str, *, family: str | None = None, size: int = 40) -> bytes:
    """Rasterise one string (raw RGBA) in the CJK font, or in `family` — the font test compares glyphs."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(len(text) * 0.8 + 0.4, 1.0), dpi=60)
    prop = font_manager.FontProperties(fname=str(cjk_font_path()), size=size) if family is None \
        else font_manager.FontProperties(family=family, size=size)
    fig.text(0.02, 0.2, text, fontproperties=prop)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return bytes(canvas.buffer_rgba())
