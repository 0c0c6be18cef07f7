"""Captures Celery events as a monitor (Flower, `celery events`) does, for the tests.

    python events.py <event type> <count> <timeout seconds>

Prints "ready" once its consumer listens, then each captured event of that type as a JSON line,
and exits when it has <count> of them or after the timeout.
"""

import json
import socket
import sys
import time

from tasks import app


def main(event_type, count, timeout):
    count, deadline = int(count), time.monotonic() + float(timeout)
    events = []
    with app.connection_for_read() as connection:
        receiver = app.events.Receiver(connection, handlers={event_type: events.append})
        with receiver.consumer_context() as (conn, _channel, _consumers):

            def drain():
                try:
                    conn.drain_events(timeout=0.5)
                except (socket.timeout, TimeoutError):
                    pass

            drain()  # the Redis transport subscribes on its first poll
            print("ready", flush=True)
            while len(events) < count and time.monotonic() < deadline:
                drain()
    for event in events:
        print(json.dumps(event, default=str), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
