"""RabbitMQ chores for the benchmark, as a long-lived process (so a poll costs a round trip, not a
Python start-up). One JSON request per stdin line, one JSON reply per stdout line:

    {"op": "count", "queue": q}                 -> {"count": n} or {"count": null} if q does not exist
    {"op": "delete", "queues": [..], "exchanges": [..]}  -> {"ok": true}
    {"op": "exchange_exists", "name": e}        -> {"exists": bool}
    {"op": "queue_exists", "name": q}           -> {"exists": bool}
    {"op": "server"}                            -> {"version": RabbitMQ's version}

Usage: python amqp_helper.py <amqp url>
"""

import json
import signal
import sys

from amqp.exceptions import NotFound
from kombu import Connection


def main(url):
    # The harness decides when this helper ends (stdin closed, or killed at its exit).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    connection = Connection(url)
    connection.connect()
    channel = connection.channel()

    def fresh_channel():
        nonlocal channel
        try:
            channel.close()
        except Exception:
            pass
        channel = connection.channel()

    while True:
        line = sys.stdin.readline()
        if not line:
            break
        line = line.strip()
        if not line:
            continue
        request = json.loads(line)
        op = request.get("op")
        try:
            if op == "count":
                try:
                    _, count, _ = channel.queue_declare(request["queue"], passive=True)
                except NotFound:
                    fresh_channel()
                    count = None
                reply = {"count": count}
            elif op in ("exchange_exists", "queue_exists"):
                try:
                    if op == "exchange_exists":
                        channel.exchange_declare(request["name"], "direct", passive=True)
                    else:
                        channel.queue_declare(request["name"], passive=True)
                    exists = True
                except NotFound:
                    fresh_channel()
                    exists = False
                reply = {"exists": exists}
            elif op == "server":
                properties = connection.connection.server_properties or {}
                version = properties.get("version")
                if isinstance(version, bytes):
                    version = version.decode()
                reply = {"version": version}
            elif op == "delete":
                for name in request.get("queues", []):
                    channel.queue_delete(name)
                for name in request.get("exchanges", []):
                    channel.exchange_delete(name)
                reply = {"ok": True}
            else:
                reply = {"error": f"unknown op {op}"}
        except Exception as error:  # noqa: BLE001 - report every failure to the caller
            fresh_channel()
            reply = {"error": repr(error)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    connection.release()


if __name__ == "__main__":
    main(sys.argv[1])
