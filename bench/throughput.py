"""Throughput: the sustained ``/issue new`` per second ``aftercare serve`` holds with p99 ack under 1 s.

Open loop: requests are started on a fixed schedule (R per second, for a few seconds per step),
whatever the server's speed, and each ack is timed from its scheduled start — so queueing counts
(no coordinated omission). The rate climbs step by step; a step holds when every request got a
200, the p99 ack is under 1 s, and every confirmation (the card) reached the fake Slack API
within 10 s of the step's end. The figure is the last rate that held. SQLite, and PostgreSQL when
127.0.0.1:5432 answers. The load generator shares the machine's cores with the server.

    python bench/throughput.py [--quick]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from _common import (
    TEAM,
    Served,
    TimedFakeSlack,
    aftercare_serve,
    command_body,
    databases,
    machine,
    median,
    migrated,
    ms,
    percentile,
)

RATES = (10, 20, 40, 60, 80, 100, 120, 140, 160, 200, 250, 300)
ACK_LIMIT = 1.0


@dataclass
class Step:
    rate: int
    sent: int = 0
    seconds: float = 0.0
    ack: list[float] = field(default_factory=list)
    slack: list[float] = field(default_factory=list)
    errors: int = 0
    lost: int = 0

    @property
    def held(self) -> bool:
        return (
            self.errors == 0
            and self.lost == 0
            and bool(self.ack)
            and percentile(self.ack, 99) < ACK_LIMIT
            and self.sent / self.seconds >= 0.95 * self.rate
        )


def step(served: Served, fake: TimedFakeSlack, rate: int, duration: float) -> Step:
    result = Step(rate)
    lock = threading.Lock()
    markers: list[tuple[str, float]] = []
    count = int(rate * duration)

    def one(marker: str, scheduled: float) -> None:
        body = command_body(command="/issue", text=f"new Printer jams {marker}", user_id="UALICE",
                            channel_id="CBENCH", team_id=TEAM, response_url=fake.response_url("bench"))  # fmt: skip
        try:
            status = served.post(body, timeout=30)
        except OSError:
            status = 0
        done = time.monotonic()
        with lock:
            if status == 200:
                result.ack.append(done - scheduled)
                markers.append((marker, scheduled))
            else:
                result.errors += 1

    with ThreadPoolExecutor(max_workers=min(256, max(16, rate))) as pool:
        start = time.monotonic() + 0.05
        for i in range(count):
            scheduled = start + i / rate
            delay = scheduled - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, f"bench-{rate}x{i}x{uuid.uuid4().hex[:6]}", scheduled)
            result.sent += 1
        result.seconds = time.monotonic() - start
    deadline = time.monotonic() + 10
    for marker, scheduled in markers:
        arrived = fake.arrival(marker, timeout=max(0.0, deadline - time.monotonic()))
        if arrived is None:
            result.lost += 1
        else:
            result.slack.append(arrived - scheduled)
    fake.forget()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="shorter steps (4 s instead of 10 s)")
    args = parser.parse_args()
    duration = 4.0 if args.quick else 10.0
    print(f"machine: {machine()}")
    print(f"steps of {duration:.0f} s; ack/slack in ms from each request's scheduled start")
    with tempfile.TemporaryDirectory(prefix="aftercare-bench-") as tmp:
        workdir = Path(tmp)
        fake = TimedFakeSlack().start()
        try:
            with databases(workdir, "aftercare_bench_throughput") as each:
                for label, url in each:
                    migrated(url)
                    best = 0
                    with aftercare_serve(workdir, fake, url) as served:
                        assert served.command(fake, "/project", "new ACME Acme") == 200
                        fake.wait_for(lambda calls: any(c.method == "chat.postMessage" for c in calls), 10)
                        step(served, fake, 10, 1.0)  # warm up
                        for rate in RATES:
                            s = step(served, fake, rate, duration)
                            print(
                                f"{label:<11} {rate:>4}/s offered {s.sent / s.seconds:7.1f}/s  ack "
                                f"{ms(median(s.ack))} p99 {ms(percentile(s.ack, 99))}  slack "
                                f"{ms(median(s.slack))} p99 {ms(percentile(s.slack, 99))}  "
                                f"errors {s.errors} lost {s.lost}  {'held' if s.held else 'NOT held'}"
                            )
                            if not s.held:
                                break
                            best = rate
                    print(f"==> {label}: sustained {best} /issue new per second with p99 ack < 1 s")
        finally:
            fake.stop()


if __name__ == "__main__":
    main()
