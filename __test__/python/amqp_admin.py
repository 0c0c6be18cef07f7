"""Small RabbitMQ chores for the tests, through py-amqp (what Celery itself uses).

    python amqp_admin.py <amqp url> count <queue>          -> prints the message count
    python amqp_admin.py <amqp url> delete <queue> [...]   -> deletes the queues and their exchanges
    python amqp_admin.py <amqp url> drain <queue>          -> takes every message, prints their task ids
    python amqp_admin.py <amqp url> publish <queue> <content type> <body> [<headers json>]
                                                           -> publishes raw bytes to the queue
"""

import json

import sys

from kombu import Connection


def main(url, command, *names):
    with Connection(url) as connection:
        channel = connection.channel()
        if command == "count":
            _, count, _ = channel.queue_declare(names[0], passive=True)
            print(count)
        elif command == "delete":
            for name in names:
                channel.queue_delete(name)
                channel.exchange_delete(name)
        elif command == "drain":
            ids = []
            while True:
                message = channel.basic_get(names[0], no_ack=True)
                if message is None:
                    break
                ids.append(message.headers.get("id") or json.loads(message.body)["id"])
            print(json.dumps(ids))
        elif command == "publish":
            queue, content_type, body, *headers = names
            message = channel.prepare_message(
                body.encode(), content_type=content_type, content_encoding="utf-8",
                headers=json.loads(headers[0]) if headers else {},
            )
            channel.basic_publish(message, exchange="", routing_key=queue)
        else:
            raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(*sys.argv[1:])
