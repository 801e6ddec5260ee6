"""Throughput: the sustained ``/issue new`` per second ``aftercare serve`` holds with p99 ack under 1 s.

Open loop: requests are started on a fixed schedule (R per second, for a few seconds per step),
whatever the server's speed, and each ack is timed from its scheduled start — so queueing counts
(no coordinated omission). The rate climbs step by step; a step holds when every request got a
200, the p99 ack is under 1 s, every confirmation (the card) reached the fake Slack API and the p99
confirmation (scheduled start → card in Slack) is under 1 s. The figure is the last rate that held. The
same ramp first runs against the floor — a bare Bolt app under the same waitress whose listener acks
and posts the text back (``bench/_common.py``) — and each database's figure is printed beside it as a
ratio. SQLite, and PostgreSQL when 127.0.0.1:5432 answers. The load generator shares the machine's cores
with the server.

With ``--confirm`` it runs the issue's confirmation check instead: 100 ``/issue new`` a second for
30 s (10 s with ``--quick``) spread over 100 channels, each its own project (Slack paces a channel at
about a message a second: 100 channels carry 100 cards a second), and reports the ack p99 and the
confirmation p99 (request scheduled → the card in Slack; the target is 1 s), the floor's first.

    python bench/throughput.py [--quick] [--confirm] [--only sqlite|postgresql] [--workers N]
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
    floor_serve,
    machine,
    median,
    migrated,
    ms,
    percentile,
)

# Up to well past the floor's limit on this machine (~750/s closed loop): a ramp that ends while still holding
# would cap the floor, and flatter every ratio to it.
RATES = (10, 20, 40, 60, 80, 100, 120, 140, 160, 200, 250, 300, 350, 400, 450, 500, 550, 600, 700, 800, 900, 1000, 1200, 1400, 1600)  # fmt: skip
ACK_LIMIT = 1.0
# Acks no longer wait for the work after them, so a rate holds only while the cards keep up too.
CONFIRM_LIMIT = 1.0


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
            and percentile(self.slack, 99) < CONFIRM_LIMIT
            and self.sent / self.seconds >= 0.95 * self.rate
        )


CONFIRM_CHANNELS = [f"CCONF{n:03d}" for n in range(100)]


def step(
    served: Served, fake: TimedFakeSlack, rate: int, duration: float, channels: list[str] | None = None
) -> Step:
    result = Step(rate)
    channels = channels or ["CBENCH"]
    lock = threading.Lock()
    markers: list[tuple[str, float]] = []
    count = int(rate * duration)

    def one(marker: str, scheduled: float, channel: str) -> None:
        body = command_body(command="/issue", text=f"new Printer jams {marker}", user_id="UALICE",
                            channel_id=channel, team_id=TEAM, response_url=fake.response_url("bench"))  # fmt: skip
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
            pool.submit(
                one, f"bench-{rate}x{i}x{uuid.uuid4().hex[:6]}", scheduled, channels[i % len(channels)]
            )
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


def make_projects(served: Served, fake: TimedFakeSlack) -> None:
    """One project in each of the 100 confirmation channels (aftercare only: the floor has no projects)."""
    for number, channel in enumerate(CONFIRM_CHANNELS):
        key = f"C{chr(65 + number // 26)}{chr(65 + number % 26)}"
        assert served.command(fake, "/project", f"new {key} {key} Corp", channel=channel) == 200
    fake.wait_for(lambda calls: sum(1 for c in calls if c.method == "chat.postMessage") >= 100, 60)
    fake.forget()


def confirm(served: Served, fake: TimedFakeSlack, label: str, duration: float) -> None:
    step(served, fake, 10, 1.0, CONFIRM_CHANNELS)  # warm up
    s = step(served, fake, 100, duration, CONFIRM_CHANNELS)
    print(
        f"{label:<17} 100/s × {duration:.0f} s over 100 channels: offered {s.sent / s.seconds:6.1f}/s  ack "
        f"{ms(median(s.ack))} p99 {ms(percentile(s.ack, 99))}  confirmation {ms(median(s.slack))} "
        f"p99 {ms(percentile(s.slack, 99))}  errors {s.errors} lost {s.lost}  "
        f"{'within 1 s' if s.slack and percentile(s.slack, 99) <= 1.0 and not s.lost else 'NOT within 1 s'}"
    )


def ramp(served: Served, fake: TimedFakeSlack, label: str, duration: float) -> int:
    """Climb the rates until one does not hold; the last rate that held (0 if none)."""
    best = 0
    step(served, fake, 10, 1.0)  # warm up
    for rate in RATES:
        s = step(served, fake, rate, duration)
        print(
            f"{label:<17} {rate:>4}/s offered {s.sent / s.seconds:7.1f}/s  ack "
            f"{ms(median(s.ack))} p99 {ms(percentile(s.ack, 99))}  slack "
            f"{ms(median(s.slack))} p99 {ms(percentile(s.slack, 99))}  "
            f"errors {s.errors} lost {s.lost}  {'held' if s.held else 'NOT held'}"
        )
        if not s.held:
            break
        best = rate
    else:
        print(f"{label:<17} held at the top of the ramp: its limit is higher than {best}/s")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="shorter steps (4 s instead of 10 s)")
    parser.add_argument("--confirm", action="store_true", help="100/s over 100 channels: confirmation p99")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database")
    parser.add_argument("--workers", type=int, default=1, help="PostgreSQL: serve --workers N")
    parser.add_argument(
        "--slack-latency",
        type=float,
        default=0.0,
        metavar="MS",
        help="the stand-in answers each call after MS milliseconds, as Slack does over the internet",
    )
    args = parser.parse_args()
    duration = 4.0 if args.quick else 10.0
    print(f"machine: {machine()}")
    print(f"steps of {duration:.0f} s; ack/slack in ms from each request's scheduled start")
    with tempfile.TemporaryDirectory(prefix="aftercare-bench-") as tmp:
        workdir = Path(tmp)
        fake = TimedFakeSlack(latency=args.slack_latency / 1000).start()
        if args.slack_latency:
            print(f"the stand-in Slack answers every call after {args.slack_latency:.0f} ms")
        confirm_seconds = 10.0 if args.quick else 30.0
        try:
            for channel in [
                "CBENCH",
                *CONFIRM_CHANNELS,
            ]:  # channels the bot is in (the floor posts there too)
                fake.add_channel(channel, name=channel.lower(), members=("UALICE",))
            floor = 0
            with floor_serve(workdir, fake) as served:
                if args.confirm:
                    confirm(served, fake, "bare Bolt (floor)", confirm_seconds)
                else:
                    floor = ramp(served, fake, "bare Bolt (floor)", duration)
                    print(f"==> bare Bolt (floor): sustained {floor}/s")
            with databases(workdir, "aftercare_bench_throughput", only=args.only) as each:
                for label, url in each:
                    migrated(url)
                    workers = args.workers if label == "PostgreSQL" else 1
                    if workers > 1:
                        label += f" ×{workers}"
                    best = 0
                    with aftercare_serve(workdir, fake, url, workers=workers) as served:
                        if args.confirm:
                            make_projects(served, fake)
                            confirm(served, fake, label, confirm_seconds)
                            continue
                        assert served.command(fake, "/project", "new ACME Acme") == 200
                        fake.wait_for(lambda calls: any(c.method == "chat.postMessage" for c in calls), 10)
                        best = ramp(served, fake, label, duration)
                    print(
                        f"==> {label}: sustained {best} /issue new per second with p99 ack < 1 s "
                        f"and p99 confirmation < 1 s; floor {floor}/s, ratio {best / floor if floor else 0:.2f}"
                    )
        finally:
            fake.stop()


if __name__ == "__main__":
    main()
