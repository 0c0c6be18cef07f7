"""Celery app used by the celery-native test suite.

Run by __test__/support/worker.js as ``celery -A tasks worker ...`` with this
directory as cwd. Configuration comes from the environment:

  CELERY_BROKER_URL        broker (default redis://127.0.0.1:6379/0)
  CELERY_RESULT_BACKEND    result backend (default: same as the broker)
  CELERY_TASK_PROTOCOL     protocol used when *Python* sends tasks (default 2)
  CELERY_TASK_TRACK_STARTED  "1" to report STARTED (default off)
  CELERY_NATIVE_TEST_REDIS_URL  redis used by tasks.wait_for_key when the result
                           backend is not redis (default: the broker URL)

Only JSON is accepted, so everything the tasks return is JSON too.
"""

import base64
import datetime
import decimal
import os
import sys
import time
import uuid

from celery import Celery, bootsteps, signals
from celery.worker.request import Request


def _env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", BROKER_URL)

app = Celery("tasks", broker=BROKER_URL, backend=RESULT_BACKEND)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_accept_content=["json"],
    task_protocol=int(os.environ.get("CELERY_TASK_PROTOCOL", "2")),
    task_track_started=_env_flag("CELERY_TASK_TRACK_STARTED", False),
    enable_utc=True,
    timezone="UTC",
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=True,
)


# Queues the worker declares itself, as in a deployment where the workers own the topology:
# CELERY_NATIVE_TEST_QUEUES="a,b" with CELERY_NATIVE_TEST_QUEUE_ARGUMENTS='{"x-max-priority": 10}'
# and/or an exchange and routing key of their own (CELERY_NATIVE_TEST_QUEUE_EXCHANGE,
# CELERY_NATIVE_TEST_QUEUE_ROUTING_KEY; CELERY_NATIVE_TEST_QUEUE_EXCHANGE_TYPE, default direct).
if os.environ.get("CELERY_NATIVE_TEST_QUEUES") and (
    os.environ.get("CELERY_NATIVE_TEST_QUEUE_ARGUMENTS") or os.environ.get("CELERY_NATIVE_TEST_QUEUE_EXCHANGE")
):
    import json as _json

    from kombu import Exchange, Queue

    _arguments = _json.loads(os.environ.get("CELERY_NATIVE_TEST_QUEUE_ARGUMENTS") or "null")
    _exchange = os.environ.get("CELERY_NATIVE_TEST_QUEUE_EXCHANGE")
    _routing_key = os.environ.get("CELERY_NATIVE_TEST_QUEUE_ROUTING_KEY")
    app.conf.task_queues = [
        Queue(
            name,
            Exchange(_exchange or name, type=os.environ.get("CELERY_NATIVE_TEST_QUEUE_EXCHANGE_TYPE") or "direct"),
            routing_key=_routing_key or name,
            queue_arguments=_arguments,
        )
        for name in os.environ["CELERY_NATIVE_TEST_QUEUES"].split(",")
    ]


class MyError(Exception):
    """Raised by tasks.fail; its exc_module is "tasks"."""


# ---------------------------------------------------------------------------
# JSON-safe copies of whatever a message may carry (AMQP headers can hold
# bytes, datetimes, decimals; Redis envelopes are plain JSON).


def jsonable(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else repr(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return {"__bytes_b64__": base64.b64encode(raw).decode("ascii")}
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return repr(value)


RAW_KEY = "celery_native_raw_message"


def snapshot_message(message):
    """Everything the transport delivered, before Celery interprets it."""
    body = message.body
    if isinstance(body, str):
        body_bytes = body.encode("utf-8")
    else:
        body_bytes = bytes(body or b"")
    try:
        body_text = body_bytes.decode("utf-8")
        body_b64 = None
    except UnicodeDecodeError:
        body_text = None
        body_b64 = base64.b64encode(body_bytes).decode("ascii")
    try:
        payload = message.payload  # decoded body (cached by kombu)
    except Exception as exc:  # pragma: no cover - only for undecodable bodies
        payload = {"__decode_error__": repr(exc)}
    return {
        "headers": jsonable(message.headers or {}),
        "properties": jsonable(message.properties or {}),
        "delivery_info": jsonable(message.delivery_info or {}),
        "content_type": message.content_type,
        "content_encoding": message.content_encoding,
        "body": body_text,
        "body_b64": body_b64,
        "payload": jsonable(payload),
    }


class InspectRequest(Request):
    """Worker-side request that stashes a snapshot of the raw kombu message.

    The snapshot goes into the request dict, which Celery hands to the pool and
    turns into ``task.request`` — so it works for every pool, every transport
    and both protocols (for protocol 1 Celery converts the body but ``message``
    is still the message as received).
    """

    def __init__(self, message, *args, **kwargs):
        super().__init__(message, *args, **kwargs)
        self._request_dict[RAW_KEY] = snapshot_message(message)


# ---------------------------------------------------------------------------
# tasks


@app.task(name="tasks.add")
def add(a, b):
    return a + b


@app.task(name="tasks.echo")
def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


@app.task(name="tasks.fail")
def fail(msg):
    raise MyError(msg)


@app.task(name="tasks.progress", bind=True)
def progress(self, steps, delay):
    for i in range(steps):
        self.update_state(state="PROGRESS", meta={"current": i + 1, "total": steps})
        time.sleep(delay)
    return "done"


@app.task(name="tasks.sleep")
def sleep(seconds, value=None):
    time.sleep(seconds)
    return value


@app.task(name="tasks.now")
def now():
    """The worker's clock when the task ran (time.time()): when it ran, and in what order."""
    return time.time()


def _redis_client(task):
    client = getattr(task.backend, "client", None)
    if client is not None and hasattr(client, "exists"):
        return client
    import redis

    url = os.environ.get("CELERY_NATIVE_TEST_REDIS_URL") or BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise RuntimeError("tasks.wait_for_key needs a redis result backend or CELERY_NATIVE_TEST_REDIS_URL")
    return redis.Redis.from_url(url)


@app.task(name="tasks.wait_for_key", bind=True)
def wait_for_key(self, key, value=None, timeout=60):
    """Block until redis key `key` exists (poll every 20 ms), then return `value`.

    Raises TimeoutError after `timeout` seconds so a forgotten key cannot hang a
    worker forever.
    """
    client = _redis_client(self)
    deadline = time.monotonic() + float(timeout)
    while not client.exists(key):
        if time.monotonic() > deadline:
            raise TimeoutError(f"redis key {key!r} did not appear within {timeout} s")
        time.sleep(0.02)
    return value


@app.task(name="tasks.tsum")
def tsum(numbers):
    return sum(numbers)


@app.task(name="tasks.remember", bind=True)
def remember(self, value, key):
    """A link callback: stores the parent's result in redis key `key` (as JSON)."""
    import json as _json

    _redis_client(self).set(key, _json.dumps(value), ex=300)
    return value


@app.task(name="tasks.mark_failed", bind=True)
def mark_failed(self, task_id):
    """A link_error callback (one argument, so it is published): marks the failed task's id."""
    _redis_client(self).set(f"cn-failed-{task_id}", "1", ex=300)
    return task_id


@app.task(name="tasks.progress_when_told", bind=True)
def progress_when_told(self, start_key, release_key, steps=3):
    """WAITING until redis key `start_key` exists, then `steps` PROGRESS states, then holds
    until `release_key` exists. Lets a test subscribe before the states it wants to see."""
    self.update_state(state="WAITING")
    wait_for_key.run(start_key, None)
    for i in range(steps):
        self.update_state(state="PROGRESS", meta={"current": i + 1, "total": steps})
    return wait_for_key.run(release_key, "done")


@app.task(name="tasks.progress_then_wait", bind=True)
def progress_then_wait(self, key, steps=2):
    """Report `steps` PROGRESS states, then hold until redis key `key` exists."""
    for i in range(steps):
        self.update_state(state="PROGRESS", meta={"current": i + 1, "total": steps})
    return wait_for_key.run(key, "done")


# Keys of task.request that are bookkeeping of Celery itself, not message data.
_LOCAL_REQUEST_KEYS = {RAW_KEY, "_children", "_protected", "called_directly", "is_eager"}


@app.task(name="tasks.inspect", bind=True, Request=InspectRequest)
def inspect(self, *args, **kwargs):
    """Return what the worker received, for comparison with what a client sent.

    {
      "protocol": 1 | 2,        # 2 iff the raw headers carry "task"
      "args": [...], "kwargs": {...},   # as the task function got them
      "embed": {"callbacks", "errbacks", "chain", "chord"},  # as Celery parsed them
      "message": {              # raw kombu message (see snapshot_message)
        "headers", "properties", "delivery_info", "content_type",
        "content_encoding", "body" (utf-8 text of the body), "body_b64",
        "payload" (decoded body: [args, kwargs, embed] for protocol 2,
                   the task dict for protocol 1)
      },
      "request": {...}          # every field of self.request (Celery's view;
                                # request.headers = the non-standard headers)
    }
    """
    req = self.request
    raw = getattr(req, RAW_KEY, None)
    fields = {k: v for k, v in vars(req).items() if k not in _LOCAL_REQUEST_KEYS}
    # Celery collects unknown request keys into request.headers ("custom
    # headers"); our own stash is one of them, so take it out again.
    custom = fields.get("headers")
    if isinstance(custom, dict) and RAW_KEY in custom:
        custom = {k: v for k, v in custom.items() if k != RAW_KEY}
        fields["headers"] = custom or None
    headers = (raw or {}).get("headers") or {}
    return jsonable(
        {
            "protocol": 2 if "task" in headers else 1,
            "args": list(args),
            "kwargs": kwargs,
            "embed": {
                "callbacks": req.callbacks,
                "errbacks": req.errbacks,
                "chain": req.chain,
                "chord": req.chord,
            },
            "message": raw,
            "request": dict(sorted(fields.items())),
        }
    )


# ---------------------------------------------------------------------------
# Prompt warm shutdown. With --without-heartbeat nothing else schedules hub
# timers on an AMQP connection, so after SIGTERM the event loop sits in
# epoll() (which Python restarts after the signal handler) until some far-away
# timer fires: stopping an idle AMQP worker took 6-10+ s. A no-op timer every
# 200 ms bounds that.


class _WakeUpLoop(bootsteps.StartStopStep):
    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.tref = None

    def start(self, c):
        timer = getattr(c, "timer", None)
        if timer is not None:
            self.tref = timer.call_repeatedly(0.2, _noop)

    def stop(self, c):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    shutdown = stop


def _noop():
    pass


app.steps["consumer"].add(_WakeUpLoop)


# ---------------------------------------------------------------------------
# Readiness marker for worker.js, independent of --loglevel (Celery's own
# "ready." line is logged at INFO).


@signals.worker_ready.connect
def _announce_ready(sender=None, **_kwargs):
    hostname = getattr(sender, "hostname", None) or "?"
    stream = sys.__stderr__
    stream.write(f"celery-native-test: worker {hostname} ready.\n")
    stream.flush()
