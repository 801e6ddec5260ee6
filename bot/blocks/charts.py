"""A report's chart: a PNG drawn with matplotlib (Agg), its alt text, and the image block that shows it.

matplotlib is imported only when a chart is drawn (a delivery being sent), so the CLI, the
listeners and dry runs never pay for it. Chinese labels use Noto Sans SC from the
``pylopdf-fonts-zh-cn`` package (SIL Open Font License 1.1, licence in its dist-info).

The image block refers to the uploaded file by id (``slack_file: {"id": …}``); ``alt_text`` is
plain text of at most 2,000 characters (https://docs.slack.dev/reference/block-kit/blocks/image-block).
"""

from __future__ import annotations

import io
import threading
from typing import Any

from bot.blocks.basics import Block
from bot.blocks.rendering import punctuation
from bot.domain.charts import ChartSeries
from bot.i18n import t
from bot.slack import limits

CHART_BLOCK_ID = "report_chart"
_lock = threading.Lock()  # pyplot's state is global: one drawing at a time
_font: list[str] = []


def _font_family() -> str:
    """Register the CJK font once; its family name (Latin glyphs come from it too)."""
    if not _font:
        from matplotlib import font_manager
        from pylopdf_fonts_zh_cn import sans_path

        path = str(sans_path())
        font_manager.fontManager.addfont(path)
        _font.append(font_manager.FontProperties(fname=path).get_name())
    return _font[0]


def chart_title(locale: str) -> str:
    return t(locale, "Open vs done per week")


def alt_text(series: ChartSeries, locale: str) -> str:
    """The chart's figures in words, for screen readers and for clients that show no image."""
    marks = punctuation(locale)
    weeks = marks.comma.join(
        t(locale, "%(week)s open %(open)s done %(done)s", week=w.label, open=w.open, done=w.done)
        for w in series.weeks
    )
    parts = [t(locale, "Open vs done per week: %(weeks)s.", weeks=weeks)]
    first, last = series.weeks[0].trend, series.weeks[-1].trend
    direction = (
        t(locale, "rising") if last > first else t(locale, "falling") if last < first else t(locale, "flat")
    )
    parts.append(t(locale, "Open work trend: %(direction)s.", direction=direction))
    if series.has_satisfaction:
        scores = marks.comma.join(
            t(locale, "%(week)s %(score)s", week=w.label, score=f"{w.satisfaction:.1f}")
            for w in series.weeks
            if w.satisfaction is not None
        )
        parts.append(t(locale, "Satisfaction (1-5): %(scores)s.", scores=scores))
    text = marks.gap.join(parts)
    return text if len(text) <= limits.IMAGE_ALT_TEXT else text[: limits.IMAGE_ALT_TEXT - 1] + "…"


def image_block(file_id: str, *, alt: str, title: str) -> Block:
    """The image block showing an uploaded file (https://docs.slack.dev/reference/block-kit/blocks/image-block)."""
    return {
        "type": "image",
        "block_id": CHART_BLOCK_ID,
        "slack_file": {"id": file_id},
        "alt_text": alt,
        "title": {"type": "plain_text", "text": title[: limits.IMAGE_ALT_TEXT]},
    }


def render_png(series: ChartSeries, locale: str) -> bytes:
    """The chart as PNG bytes: open and done bars per week, the open trend, satisfaction on its own axis."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    with _lock, matplotlib.rc_context({"font.family": _font_family()}):
        family = _font_family()
        labels = [w.label for w in series.weeks]
        x = list(range(len(labels)))
        figure = Figure(figsize=(7.2, 3.6), dpi=100)
        axes: Any = figure.add_subplot(1, 1, 1)
        width = 0.38
        axes.bar([i - width / 2 for i in x], [w.open for w in series.weeks], width, label=t(locale, "Open"),
                 color="#4a7ebb")  # fmt: skip
        axes.bar([i + width / 2 for i in x], [w.done for w in series.weeks], width, label=t(locale, "Done"),
                 color="#5aa469")  # fmt: skip
        axes.plot(
            x, [w.trend for w in series.weeks], linestyle="--", color="#333333", label=t(locale, "Trend")
        )
        axes.set_ylim(bottom=0)  # a falling trend may cross zero; counts never do
        axes.set_xticks(x, labels, fontfamily=family)
        axes.set_ylabel(t(locale, "Records"), fontfamily=family)
        axes.set_title(chart_title(locale), fontfamily=family)
        handles, names = axes.get_legend_handles_labels()
        if series.has_satisfaction:
            right: Any = axes.twinx()
            right.plot(x, [w.satisfaction for w in series.weeks], marker="o", color="#c0504d",
                       label=t(locale, "Satisfaction"))  # fmt: skip
            right.set_ylim(1, 5)
            right.set_ylabel(t(locale, "Satisfaction (1-5)"), fontfamily=family)
            more_handles, more_names = right.get_legend_handles_labels()
            handles, names = handles + more_handles, names + more_names
        if series.service_levels is not None:
            pass  # hook: draw service-level attainment here once service levels exist
        axes.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(names),
                    frameon=False, prop={"family": family, "size": 8})  # fmt: skip
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
