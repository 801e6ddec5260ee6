"""Request overhead: signed ``/issue new`` through a running ``aftercare serve`` against the fake Slack API.

For each database (SQLite; PostgreSQL when 127.0.0.1:5432 answers) and for 1 and 16 concurrent
clients: time from request to HTTP 200 (the ack) and to the confirmation (the record's card, a
chat.postMessage) reaching Slack — median and p99. Beside it the same for a bare Bolt app under
the same server whose listener only acks and posts the text back (the framework's floor), and the
ratio ours / floor.

    python bench/request_overhead.py [--quick]
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
)

CONCURRENCY = (1, 16)


@dataclass
class Sample:
    ack: list[float] = field(default_factory=list)
    slack: list[float] = field(default_factory=list)
    errors: int = 0
    lost: int = 0


def drive(served: Served, fake: TimedFakeSlack, clients: int, per_client: int) -> Sample:
    """``clients`` threads, each sending ``per_client`` requests back to back."""
    sample = Sample()
    lock = threading.Lock()
    pending: list[tuple[str, float]] = []

    def client(n: int) -> None:
        for i in range(per_client):
            marker = f"bench-{n}x{i}x{uuid.uuid4().hex[:6]}"
            body = command_body(command="/issue", text=f"new Printer jams {marker}", user_id="UALICE",
                                channel_id="CBENCH", team_id=TEAM, response_url=fake.response_url("bench"))  # fmt: skip
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
    fake.forget()
    return sample


def measure(served: Served, fake: TimedFakeSlack, *, quick: bool) -> dict[int, Sample]:
    # Warm up: imports, pools, the first card.
    drive(served, fake, 4, 5)
    results: dict[int, Sample] = {}
    for clients in CONCURRENCY:
        total = (60 if quick else 300) if clients == 1 else (320 if quick else 1600)
        results[clients] = drive(served, fake, clients, total // clients)
    return results


def line(label: str, clients: int, s: Sample) -> str:
    return (
        f"{label:<22} {clients:>3} {len(s.ack):>5}  ack {ms(median(s.ack))} {ms(percentile(s.ack, 99))}"
        f"   slack {ms(median(s.slack))} {ms(percentile(s.slack, 99))}   errors {s.errors} lost {s.lost}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer requests (about a minute)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print("times in ms; median and p99; 'slack' = request sent → confirmation received by the fake Slack API")
    print(f"{'':<22} {'clients':>3} {'n':>5}  ack {'median':>8} {'p99':>8}   slack {'median':>8} {'p99':>8}")
    with tempfile.TemporaryDirectory(prefix="aftercare-bench-") as tmp:
        workdir = Path(tmp)
        fake = TimedFakeSlack().start()
        try:
            with floor_serve(workdir, fake) as served:
                floor = measure(served, fake, quick=args.quick)
            for clients, sample in floor.items():
                print(line("bare Bolt (floor)", clients, sample))
            with databases(workdir, "aftercare_bench_overhead") as each:
                for label, url in each:
                    migrated(url)
                    with aftercare_serve(workdir, fake, url) as served:
                        status = served.command(fake, "/project", "new ACME Acme", channel="CBENCH")
                        assert status == 200, status
                        fake.wait_for(lambda calls: any(c.method == "chat.postMessage" for c in calls), 10)
                        ours = measure(served, fake, quick=args.quick)
                    for clients, sample in ours.items():
                        print(line(f"aftercare, {label}", clients, sample))
                        base = floor[clients]
                        print(
                            f"{'  ratio ours / floor':<22} {clients:>3} {'':>5}  ack "
                            f"{median(sample.ack) / median(base.ack):8.2f} "
                            f"{percentile(sample.ack, 99) / percentile(base.ack, 99):8.2f}   slack "
                            f"{median(sample.slack) / median(base.slack):8.2f} "
                            f"{percentile(sample.slack, 99) / percentile(base.slack, 99):8.2f}"
                        )
        finally:
            fake.stop()


if __name__ == "__main__":
    main()
