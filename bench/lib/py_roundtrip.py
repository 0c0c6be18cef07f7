"""The Python client's own sequential round trip, on the same worker and queue as the Node clients.

    python py_roundtrip.py <queue> <n> <warmup>

Broker and backend come from CELERY_BROKER_URL / CELERY_RESULT_BACKEND (read by tasks.py).
Prints one JSON object: {"ms": [latency of each measured round trip], "ids": [every task id]}.
"""

import json
import sys
import time

from tasks import app


def main(queue, n, warmup):
    latencies = []
    ids = []
    for i in range(warmup + n):
        started = time.perf_counter()
        result = app.send_task("tasks.add", (1, 2), queue=queue)
        value = result.get(timeout=30)
        elapsed = (time.perf_counter() - started) * 1000.0
        ids.append(result.id)
        if value != 3:
            raise SystemExit(f"tasks.add returned {value!r}")
        if i >= warmup:
            latencies.append(elapsed)
    print(json.dumps({"ms": latencies, "ids": ids}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
