"""The garbage collector and a long-running server.

CPython's full collection walks every object the collector tracks, and stops every thread while it does. A
server holds ~130,000 such objects from its start (modules, the Bolt app, templates, the database pool) that live
as long as the process: measured under 16 concurrent clients, each full collection stopped the server ~100 ms,
which alone set the acks' p99 (bench/README). ``gc.freeze`` (Python's own remedy, meant for this) moves what is
alive at that moment out of the collector's walk; collections then look only at what requests create (~8 ms).
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger("aftercare.server")


def settle_heap() -> int:
    """Once the app is built and before the first request: collect what starting left behind, then set aside
    everything still alive from later collections. Returns how many objects were set aside (logged)."""
    gc.collect()
    gc.freeze()
    settled = gc.get_freeze_count()
    log.info("startup objects set aside from garbage collection", extra={"fields": {"objects": settled}})
    return settled
