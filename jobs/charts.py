"""The 主题党日 chart: one PNG for the 一级 group, Chinese labels rendered with a CJK font we ship.

The font comes from the `mplfonts` package (Noto Sans CJK SC, OFL); a system CJK font (fc-list :lang=zh) is used
when that is missing. Without either, matplotlib would draw every Chinese character as a box.
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure  # not pyplot: no global state, no display backend
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text
from PIL import Image

from storage.rhythm import MonthReport

WEBHOOK_IMAGE_MAX = 2 * 1024 * 1024  # webhook msgtype image: ≤ 2 MB before base64
BUNDLED = ("NotoSansCJKsc-Regular.otf", "SimHei.ttf")
SYSTEM_NAMES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Source Han Sans SC",
    "SimHei",
    "Microsoft YaHei",
)


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
    return {"font.family": "sans-serif", "font.sans-serif": [cjk_family(), "DejaVu Sans"], "axes.unicode_minus": False}


def summary_chart(report: MonthReport, *, dpi: int = 110) -> bytes:
    """Four panels: households visited per member, coverage, items, ratings. Returns PNG bytes ≤ 2 MB."""
    people = [mm for mm in report.members if mm.households or mm.visits]
    slots = max(20, -(-len(people) // 20) * 20)  # bar slots, in steps of 20 members
    most = max((len(mm.households) for mm in people), default=0)
    ytop = 20 if most <= 20 else -(-most // 10) * 10  # the policy's 5–20 households a member: 0–20 fits nearly all
    with _LOCK, matplotlib.rc_context(cjk_rc()):  # texts resolve their font when drawn
        data = _template(slots, ytop, dpi).render(report, people)
    if len(data) > WEBHOOK_IMAGE_MAX and dpi > 50:
        return summary_chart(report, dpi=dpi * 2 // 3)
    return data


_LOCK = threading.Lock()  # a template is one figure: one chart at a time (the job renders in a worker thread)
_BARS_A = ("#c0392b", "#f5b7b1")  # visited / not yet
_ITEMS = ("#7d3c98", "#27ae60")  # 诉求 / 心愿
_RATINGS = ("满意", "基本满意", "不满意")


@lru_cache(maxsize=4)  # ~8 MB each (background + canvas); a county needs one or two
def _template(slots: int, ytop: int, dpi: int) -> _Template:
    return _Template(slots, ytop, dpi)


class _Template:
    """The chart drawn once without its data: frames, titles, category labels, legends and the fixed scales are
    kept as pixels, and each branch's chart restores them and draws only its own bars and labels (matplotlib's
    blitting). A full draw took ~0.3 s a chart — 360 branches × every month; this takes ~40 ms, 16 of them PNG."""

    def __init__(self, slots: int, ytop: int, dpi: int) -> None:
        self.fig = fig = Figure(figsize=(10, 7.5), dpi=dpi)
        self.canvas = FigureCanvasAgg(fig)
        fig.subplots_adjust(left=0.06, right=0.98, top=0.9, bottom=0.07, hspace=0.5, wspace=0.16)
        self.dynamic: list[Artist] = []
        self.title = self._live(fig.suptitle("", fontsize=15))
        (a, b), (c, d) = fig.subplots(2, 2)
        self.axes = (a, b, c, d)

        # per member: stacked bars on a fixed 0–ytop scale; names are drawn with the bars
        a.set_title("各党员走访户数")
        a.set_ylim(0, ytop)
        a.set_xticks([])
        a.yaxis.get_major_locator().set_params(integer=True)
        a.legend(
            handles=[Patch(color=_BARS_A[0], label="已走访户"), Patch(color=_BARS_A[1], label="未走访户")],
            fontsize=8,
            loc="upper right",
        )
        self.visited = [self._bar(a, i - 0.4, 0.8, _BARS_A[0]) for i in range(slots)]
        self.left = [self._bar(a, i - 0.4, 0.8, _BARS_A[1]) for i in range(slots)]
        self.names = [
            self._live(
                a.text(
                    i,
                    -0.02,
                    "",
                    transform=a.get_xaxis_transform(),
                    rotation=60,
                    ha="right",
                    va="top",
                    fontsize=8,
                    rotation_mode="anchor",
                )
            )
            for i in range(slots)
        ]

        # coverage in %, fixed 0–110
        b.set_title("走访覆盖率（%）")
        b.set_xlim(-0.6, 1.6)
        b.set_ylim(0, 110)
        b.set_xticks([0, 1], ["联系户", "重点户"])
        self.cover = [self._bar(b, i - 0.4, 0.8, col) for i, col in enumerate(("#2e86c1", "#d35400"))]
        self.cover_labels = [self._live(b.text(i, 0, "", ha="center", va="bottom")) for i in range(2)]

        # counts: the scale differs per branch, so the bars carry their numbers instead of a y axis
        c.set_title("诉求与心愿（件）")
        c.set_xlim(-0.6, 2.6)
        c.set_xticks([0, 1, 2], ["新登记", "已办结", "超期"])
        c.set_yticks([])
        c.legend(
            handles=[Patch(color=_ITEMS[0], label="诉求"), Patch(color=_ITEMS[1], label="心愿")],
            fontsize=8,
            loc="upper right",
        )
        self.items = [
            self._bar(c, x + dx - 0.2, 0.4, col) for dx, col in ((-0.2, _ITEMS[0]), (0.2, _ITEMS[1])) for x in range(3)
        ]
        self.item_labels = [self._live(c.text(0, 0, "", ha="center", va="bottom", fontsize=9)) for _ in range(6)]

        d.set_title("群众评价（件）")
        d.set_xlim(-0.6, 2.6)
        d.set_xticks([0, 1, 2], list(_RATINGS))
        d.set_yticks([])
        self.ratings = [self._bar(d, i - 0.4, 0.8, col) for i, col in enumerate(("#1e8449", "#f1c40f", "#922b21"))]
        self.rating_labels = [self._live(d.text(i, 0, "", ha="center", va="bottom", fontsize=9)) for i in range(3)]

        self.canvas.draw()  # everything but the live artists
        self.background = self.canvas.copy_from_bbox(fig.bbox)

    def _live(self, artist: Artist) -> Artist:
        artist.set_animated(True)  # left out of canvas.draw(); drawn per chart
        self.dynamic.append(artist)
        return artist

    def _bar(self, ax: Axes, x: float, width: float, color: str) -> Rectangle:
        return self._live(ax.add_patch(Rectangle((x, 0), width, 0, color=color)))

    def render(self, report: MonthReport, people: list) -> bytes:
        a, _b, c, d = self.axes
        y, m = report.month.split("-")
        self.title.set_text(f"{report.branch.name} {y}年{int(m)}月 党员联户情况")
        for artist in self.dynamic:
            artist.set_visible(False)
        self.title.set_visible(True)

        a.set_xlim(-0.6, max(len(people), 1) - 0.4)
        for i, mm in enumerate(people):
            due = {h.id for h in mm.households}
            done = len(mm.visited_ids & due)
            self._show(self.visited[i], 0, done)
            self._show(self.left[i], done, len(due) - done)
            self._text(self.names[i], None, None, mm.member.name)

        for bar, label, (got, due) in zip(
            self.cover,
            self.cover_labels,
            ((report.households_visited, report.households_due), (report.key_visited, report.key_due)),
            strict=True,
        ):
            self._show(bar, 0, _pct(got, due))
            self._text(label, bar.get_x() + bar.get_width() / 2, bar.get_height(), f"{got}/{due}")

        r, w = report.requests, report.wish_stats_matters
        counts = [r.new, r.closed, r.overdue, w.new, w.closed, w.overdue]
        self._counts(c, self.items, self.item_labels, counts)
        ratings = r.ratings + w.ratings
        self._counts(d, self.ratings, self.rating_labels, [ratings[k] for k in _RATINGS])

        self.canvas.restore_region(self.background)
        for artist in self.dynamic:
            if artist.get_visible():
                self.fig.draw_artist(artist)
        width, height = self.canvas.get_width_height()
        img = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        out = io.BytesIO()
        img.convert("RGB").save(out, format="PNG", compress_level=1)
        return out.getvalue()

    @staticmethod
    def _show(bar: Rectangle, bottom: float, height: float) -> None:
        bar.set_y(bottom)
        bar.set_height(height)
        bar.set_visible(height > 0)

    @staticmethod
    def _text(text: Text, x: float | None, y: float | None, value: str) -> None:
        if x is not None and y is not None:
            text.set_position((x, y))
        text.set_text(value)
        text.set_visible(True)

    def _counts(self, ax: Axes, bars: list[Rectangle], labels: list[Text], counts: list[int]) -> None:
        ax.set_ylim(0, max(1, max(counts)) * 1.25)
        for bar, label, n in zip(bars, labels, counts, strict=True):
            self._show(bar, 0, n)
            self._text(label, bar.get_x() + bar.get_width() / 2, n, str(n))


def image_payload(png: bytes) -> dict[str, str]:
    """What webhook/send wants for msgtype image."""
    return {"base64": base64.b64encode(png).decode(), "md5": hashlib.md5(png).hexdigest()}


def render_text(text: str, *, family: str | None = None, size: int = 40) -> bytes:
    """Rasterise one string (raw RGBA) in the CJK font, or in `family` — the font test compares glyphs."""
    fig = Figure(figsize=(len(text) * 0.8 + 0.4, 1.0), dpi=60)
    prop = (
        font_manager.FontProperties(fname=str(cjk_font_path()), size=size)
        if family is None
        else font_manager.FontProperties(family=family, size=size)
    )
    fig.text(0.02, 0.2, text, fontproperties=prop)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return bytes(canvas.buffer_rgba())
