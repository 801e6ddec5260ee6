"""Request overhead: signed ``/issue new`` through a running ``aftercare serve`` against the fake Slack API.

For each database (SQLite; PostgreSQL when 127.0.0.1:5432 answers) and for 1 and 16 concurrent
clients: time from request to HTTP 200 (the ack) and to the confirmation (the record's card, a
chat.postMessage) reaching Slack — median and p99 — cards per second, and the CPU the server's processes
spent per card (every thread; the figure that bounds the rate while one interpreter lock is the
bottleneck, and far less noisy than the rate on a shared machine). Beside it the same for a bare Bolt app under
the same server whose listener only acks and posts the text back (the framework's floor), and the
ratio ours / floor.

At 16 clients it is measured twice: every request in one project (one key sequence: the worst case)
and spread over 50 projects (50 channels). On PostgreSQL also with ``serve --workers 2`` and ``4``
(gunicorn, pre-fork); SQLite is single-process. The load generator shares the machine's cores.

    python bench/request_overhead.py [--quick] [--only sqlite|postgresql] [--processes 1,2,4]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
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
    process_tree_cpu,
)

CONCURRENCY = (1, 16)
SPREAD = [f"CSPREAD{n:02d}" for n in range(50)]


@dataclass
class Sample:
    ack: list[float] = field(default_factory=list)
    slack: list[float] = field(default_factory=list)
    errors: int = 0
    lost: int = 0
    # Confirmations per second: cards in Slack / (first request sent → last card in Slack).
    rate: float = float("nan")
    # CPU the server's processes spent per card (ms), every thread: less noisy than the rate, and the rate's
    # limit while one interpreter lock is the bottleneck.
    cpu_per_card: float = float("nan")


def drive(
    served: Served, fake: TimedFakeSlack, clients: int, per_client: int, channels: list[str] | None = None
) -> Sample:
    """``clients`` threads, each sending ``per_client`` requests back to back (round the ``channels``)."""
    channels = channels or ["CBENCH"]
    sample = Sample()
    lock = threading.Lock()
    pending: list[tuple[str, float]] = []

    def client(n: int) -> None:
        for i in range(per_client):
            marker = f"bench-{n}x{i}x{uuid.uuid4().hex[:6]}"
            body = command_body(command="/issue", text=f"new Printer jams {marker}", user_id="UALICE",
                                channel_id=channels[(n + i * clients) % len(channels)], team_id=TEAM,
                                response_url=fake.response_url("bench"))  # fmt: skip
            started = time.monotonic()
            status = served.post(body)
            acked = time.monotonic()
            with lock:
                if status != 200:
                    sample.errors += 1
                    continue
                sample.ack.append(acked - started)
                pending.append((marker, started))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    cpu_before = process_tree_cpu(served.process.pid)
    began = time.monotonic()
    last = began
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for marker, started in pending:
        arrived = fake.arrival(marker, timeout=15)
        if arrived is None:
            sample.lost += 1
        else:
            sample.slack.append(arrived - started)
            last = max(last, arrived)
    if sample.slack and last > began:
        sample.rate = len(sample.slack) / (last - began)
        sample.cpu_per_card = (process_tree_cpu(served.process.pid) - cpu_before) * 1000 / len(sample.slack)
    fake.forget()
    return sample


def measure(served: Served, fake: TimedFakeSlack, *, quick: bool, spread: bool = False) -> dict[str, Sample]:
    # Warm up: imports, pools, the first card.
    drive(served, fake, 4, 5)
    results: dict[str, Sample] = {}
    for clients in CONCURRENCY:
        total = (60 if quick else 300) if clients == 1 else (320 if quick else 1600)
        results[f"{clients}"] = drive(served, fake, clients, total // clients)
    if spread:
        total = 320 if quick else 1600
        results["16 / 50 projects"] = drive(served, fake, 16, total // 16, SPREAD)
    return results


def line(label: str, clients: str, s: Sample) -> str:
    return (
        f"{label:<28} {clients:>16} {len(s.ack):>5}  ack {ms(median(s.ack))} {ms(percentile(s.ack, 99))}"
        f"   slack {ms(median(s.slack))} {ms(percentile(s.slack, 99))}   {s.rate:6.0f}/s"
        f"   {s.cpu_per_card:5.2f}   errors {s.errors} lost {s.lost}"
    )


def ratio(clients: str, sample: Sample, base: Sample) -> str:
    return (
        f"{'  ratio ours / floor':<28} {clients:>16} {'':>5}  ack "
        f"{median(sample.ack) / median(base.ack):8.2f} "
        f"{percentile(sample.ack, 99) / percentile(base.ack, 99):8.2f}   slack "
        f"{median(sample.slack) / median(base.slack):8.2f} "
        f"{percentile(sample.slack, 99) / percentile(base.slack, 99):8.2f}   {sample.rate / base.rate:6.2f}"
        f"    {sample.cpu_per_card / base.cpu_per_card:5.2f}"
    )


def setup_projects(served: Served, fake: TimedFakeSlack) -> None:
    """ACME in CBENCH, and 50 more projects in their own channels (for the spread-out load)."""
    for number, channel in enumerate(["CBENCH", *SPREAD]):
        key = "ACME" if channel == "CBENCH" else f"P{chr(65 + number // 26)}{chr(65 + number % 26)}"
        status = served.command(fake, "/project", f"new {key} {key} Corp", channel=channel)
        assert status == 200, status
    fake.wait_for(lambda calls: sum(1 for c in calls if c.method == "chat.postMessage") >= 51, 30)
    fake.forget()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer requests (a few minutes)")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database")
    parser.add_argument(
        "--processes", default="1,2,4", help="PostgreSQL: serve --workers counts (default 1,2,4)"
    )
    args = parser.parse_args()
    processes = [int(p) for p in args.processes.split(",")]
    print(f"machine: {machine()}")
    print("times in ms; median and p99; 'slack' = request sent → confirmation received by the fake Slack API")
    print(
        f"{'':<28} {'clients':>16} {'n':>5}  ack {'median':>8} {'p99':>8}   slack {'median':>8} {'p99':>8}"
        "   cards/s  CPU ms/card"
    )
    with tempfile.TemporaryDirectory(prefix="aftercare-bench-") as tmp:
        workdir = Path(tmp)
        fake = TimedFakeSlack().start()
        try:
            for channel in ["CBENCH", *SPREAD]:  # channels the bot is in (the floor posts there too)
                fake.add_channel(channel, name=channel.lower(), members=("UALICE",))
            with floor_serve(workdir, fake) as served:
                floor = measure(served, fake, quick=args.quick, spread=True)
            for clients, sample in floor.items():
                print(line("bare Bolt (floor)", clients, sample))
            with databases(workdir, "aftercare_bench_overhead", only=args.only) as each:
                for label, url in each:
                    migrated(url)
                    for number, workers in enumerate(processes if label == "PostgreSQL" else [1]):
                        with aftercare_serve(workdir, fake, url, workers=workers) as served:
                            if number == 0:  # the same database for every process count
                                setup_projects(served, fake)
                            ours = measure(served, fake, quick=args.quick, spread=True)
                            if any(x.lost or x.errors for x in ours.values()):  # say why
                                text = served.log.read_text(errors="replace").splitlines()
                                print(*[x for x in text if "WARNING" in x or "ERROR" in x][-10:], sep="\n")
                        name = f"aftercare, {label}" + (f" ×{workers}" if workers > 1 else "")
                        for clients, sample in ours.items():
                            print(line(name, clients, sample))
                            print(ratio(clients, sample, floor[clients]))
        finally:
            fake.stop()


if __name__ == "__main__":
    main()
