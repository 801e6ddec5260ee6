"""Charts at scale: what drawing the digest's chart costs per project, at 1,000 projects.

The fixture is jobs_at_scale's (bulk-built projects created 30 days before a Monday, so every digest
has four whole weeks and a chart). Measured:

- the digest planned for every project (the series are computed there, from the digest's own rows):
  time and SQL statements — the figure to set beside jobs_at_scale's digest dry run;
- the charts drawn as a real send draws them (matplotlib Agg, PNG): the first one (matplotlib's import
  and the font's registration), then time per chart (median, p99), PNG size, peak Python memory of one
  drawing (tracemalloc) and the process's resident memory before and after drawing them all.

A dry run draws nothing (``jobs run digest --dry-run`` is unaffected). SQLite only: drawing does not
touch the database.

    python bench/charts.py [--quick]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from _common import ROOT, machine, median, migrated, ms, percentile

assert str(ROOT) in sys.path  # _common puts the repository on the path for the imports below

from jobs_at_scale import NOW, StatementCounter, build  # noqa: E402

from bot.delivery.base import JobContext  # noqa: E402
from bot.domain.charts import ChartSeries  # noqa: E402
from bot.jobs import digest  # noqa: E402
from storage.db import Database  # noqa: E402


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="200 projects, 100 charts drawn (not 1,000 / 1,000)"
    )
    args = parser.parse_args()
    projects = 200 if args.quick else 1000
    drawn = 100 if args.quick else 1000
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="aftercare-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'charts.db'}"
        migrated(url)
        db = Database(url)
        try:
            built = build(db, projects=projects, records=20, people=1000)
            print(f"SQLite: {projects} projects × 20 records (built in {built:.1f} s)")
            with db.read() as session:
                digest.plan(session, JobContext(now=NOW))  # warm
            counter = StatementCounter(db)
            started = time.monotonic()
            with db.read() as session:
                planned = digest.plan(session, JobContext(now=NOW))
            planning = time.monotonic() - started
            counter.close()
        finally:
            db.dispose()
    charts = [(ChartSeries.from_json(o.chart["series"]), o.chart["locale"]) for o in planned if o.chart]
    print(
        f"  digest planned: {len(planned)} messages, {len(charts)} with a chart, {planning:.2f} s, "
        f"{counter.count} SQL statements ({ms(planning / max(len(planned), 1))} ms per project)"
    )
    from bot.blocks.charts import render_png

    rss_before = _rss_mib()
    started = time.monotonic()
    render_png(*charts[0])
    first = time.monotonic() - started
    times: list[float] = []
    sizes: list[int] = []
    for n in range(drawn):
        series, locale = charts[n % len(charts)]
        started = time.monotonic()
        sizes.append(len(render_png(series, locale)))
        times.append(time.monotonic() - started)
    tracemalloc.start()
    render_png(*charts[0])
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    started = time.monotonic()
    render_png(charts[0][0], "zh-CN")
    chinese = time.monotonic() - started
    print(f"  first chart (imports matplotlib, registers the font): {ms(first)} ms")
    print(
        f"  {drawn} charts: median {ms(median(times))} ms, p99 {ms(percentile(times, 99))} ms, "
        f"total {sum(times):.1f} s; PNG median {median([float(s) for s in sizes]) / 1024:.1f} KiB; "
        f"a Chinese chart {ms(chinese)} ms"
    )
    print(
        f"  memory: peak Python {peak:.1f} MiB per drawing; resident {rss_before:.0f} MiB before drawing, "
        f"{_rss_mib():.0f} MiB after all {drawn} (max RSS)"
    )


if __name__ == "__main__":
    main()
