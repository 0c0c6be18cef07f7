"""A real Python Celery client, for tests of workers written in something else.

    python py_client.py '<json>'      (or '-' / no argument: the JSON is read from stdin)

    {"queue": "q1",              default queue for every call (optional)
     "timeout": 30,              seconds for each AsyncResult.get (default 30)
     "calls": [CALL, ...]}

    CALL, one of
      {"name": "node.add", "args": [1, 2], "kwargs": {}, "options": {...}}
            -> app.send_task(name, args, kwargs, queue=queue, **options)
      {"chain": [SIG, ...], "options": {...}}
            -> celery.chain(*sigs).apply_async(queue=queue, **options)
      plus "noWait": true on either: send it, do not wait for the result.
    SIG: {"name": ..., "args": [...], "kwargs": {...}, "immutable": false, "options": {...}}
            -> app.signature(name, args, kwargs, immutable=..., queue=queue, **options)

    "options" takes any apply_async keyword (countdown, eta, expires, retries, task_id,
    priority, headers, time_limit, soft_time_limit, ignore_result, queue, ...). "link" and
    "link_error" are a SIG or a list of SIGs. "eta" / "expires" given as ISO 8601 strings are
    turned into datetimes (naive = UTC); numbers are passed through.

Every call is sent first (in order), then each result is waited for in order with
result.get(timeout=timeout, propagate=True, disable_sync_subtasks=False), and one JSON line
per call is printed, in call order:

    {"id", "status": "SUCCESS", "value", "parentId", "sentAt", "doneAt"}
    {"id", "status": <result.state or "ERROR">, "excType", "excModule", "excArgs", "message",
     "parentId", "sentAt", "doneAt"}                             (get raised)
    {"id", "status": "TIMEOUT", "state", "parentId", "sentAt", "doneAt"}
    {"id", "status": "SENT", "parentId", "sentAt"}              (noWait)

Chains add "firstId" (id of the chain's first task; "id" is the last task's) and
"failedId" on failure (the first task of the chain whose state is FAILURE/REVOKED, or null).
"status" is "ERROR" when even result.state cannot be read (e.g. an undecodable result).
sentAt / doneAt are time.time() taken just before sending / just after get returned.

Exit code 0 whenever the calls were sent (task failures are data); 2 for a bad argument (all
calls are validated before anything is sent); 1 for an unexpected crash (traceback on stderr).
"""

import datetime
import json
import os
import sys
import time
import traceback

from celery import chain
from celery import states
from celery.exceptions import TimeoutError as CeleryTimeoutError

from tasks import app

LINK_OPTIONS = ("link", "link_error")


class BadArgument(Exception):
    pass


def _jsonable(value):
    """value if it survives json.dumps as is, else str(value)."""
    try:
        json.dumps(value, allow_nan=False)
        return value
    except (TypeError, ValueError):
        return str(value)


def _parse_time(value):
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        return parsed
    return value


def _expect(cond, message):
    if not cond:
        raise BadArgument(message)


def _check_sig_dict(sig, where):
    _expect(isinstance(sig, dict), f"{where}: expected an object, got {sig!r}")
    _expect(isinstance(sig.get("name"), str) and sig["name"], f"{where}: 'name' must be a non-empty string")
    _expect(isinstance(sig.get("args", []) or [], list), f"{where}: 'args' must be a list")
    _expect(isinstance(sig.get("kwargs", {}) or {}, dict), f"{where}: 'kwargs' must be an object")
    _expect(isinstance(sig.get("options", {}) or {}, dict), f"{where}: 'options' must be an object")


def _build_options(options, queue, where):
    """Copy of `options` with link/link_error turned into signatures and times parsed."""
    options = dict(options or {})
    for key in LINK_OPTIONS:
        if key in options:
            value = options[key]
            if value is None:
                del options[key]
                continue
            items = value if isinstance(value, list) else [value]
            options[key] = [_build_sig(item, queue, f"{where}.{key}[{i}]") for i, item in enumerate(items)]
    for key in ("eta", "expires"):
        if key in options:
            options[key] = _parse_time(options[key])
    if queue is not None:
        options.setdefault("queue", queue)
    return options


def _build_sig(sig, queue, where):
    _check_sig_dict(sig, where)
    options = _build_options(sig.get("options"), queue, where)
    links = {key: options.pop(key) for key in LINK_OPTIONS if key in options}
    signature = app.signature(
        sig["name"],
        args=tuple(sig.get("args") or ()),
        kwargs=dict(sig.get("kwargs") or {}),
        immutable=bool(sig.get("immutable", False)),
        **options,
    )
    for callback in links.get("link", ()):
        signature.link(callback)
    for errback in links.get("link_error", ()):
        signature.link_error(errback)
    return signature


def _prepare(call, queue, index):
    """Validate one call and build what it sends; returns (send() -> (result, sent_at), is_chain)."""
    where = f"calls[{index}]"
    _expect(isinstance(call, dict), f"{where}: expected an object, got {call!r}")
    if "chain" in call:
        sigs = call["chain"]
        _expect(isinstance(sigs, list) and sigs, f"{where}: 'chain' must be a non-empty list")
        _expect(isinstance(call.get("options", {}) or {}, dict), f"{where}: 'options' must be an object")
        canvas = chain(*[_build_sig(sig, queue, f"{where}.chain[{i}]") for i, sig in enumerate(sigs)])
        options = _build_options(call.get("options"), queue, where)

        def send():
            sent_at = time.time()
            return canvas.apply_async(**options), sent_at

        return send, True
    _check_sig_dict(call, where)
    name = call["name"]
    args = list(call.get("args") or [])
    kwargs = dict(call.get("kwargs") or {})
    options = _build_options(call.get("options"), queue, where)

    def send():
        sent_at = time.time()
        return app.send_task(name, args=args, kwargs=kwargs, **options), sent_at

    return send, False


def _chain_nodes(result):
    """[first, ..., result] following .parent."""
    nodes = []
    node = result
    while node is not None and len(nodes) < 10_000:
        nodes.append(node)
        node = node.parent
    nodes.reverse()
    return nodes


def _safe_state(result):
    try:
        return result.state
    except Exception:  # undecodable meta, backend gone, ...
        return "ERROR"


def _wait(result, sent_at, is_chain, no_wait, timeout):
    out = {"id": result.id, "status": None}
    if is_chain:
        out["firstId"] = _chain_nodes(result)[0].id
    out["parentId"] = result.parent.id if result.parent is not None else None
    out["sentAt"] = sent_at
    if no_wait:
        out["status"] = "SENT"
        return out
    try:
        value = result.get(timeout=timeout, propagate=True, disable_sync_subtasks=False)
    except CeleryTimeoutError:
        out["doneAt"] = time.time()
        out["status"] = "TIMEOUT"
        out["state"] = _safe_state(result)
        return out
    except Exception as exc:  # the task's (or a chain parent's) error, re-raised by Celery
        out["doneAt"] = time.time()
        out["status"] = _safe_state(result)
        out["excType"] = type(exc).__name__
        out["excModule"] = type(exc).__module__
        out["excArgs"] = [_jsonable(a) for a in getattr(exc, "args", ())]
        out["message"] = str(exc)
        if is_chain:
            out["failedId"] = next(
                (n.id for n in _chain_nodes(result) if _safe_state(n) in states.PROPAGATE_STATES),
                None,
            )
        return out
    out["doneAt"] = time.time()
    out["status"] = "SUCCESS"
    out["value"] = value
    return out


def _parse_argv(argv):
    if len(argv) > 2:
        raise BadArgument("usage: py_client.py '<json>'  (or '-' to read it from stdin)")
    text = argv[1] if len(argv) == 2 and argv[1] != "-" else sys.stdin.read()
    try:
        spec = json.loads(text)
    except ValueError as exc:
        raise BadArgument(f"argument is not JSON: {exc}") from None
    _expect(isinstance(spec, dict), "argument must be a JSON object")
    queue = spec.get("queue")
    _expect(queue is None or (isinstance(queue, str) and queue), "'queue' must be a non-empty string")
    timeout = spec.get("timeout", 30)
    _expect(
        isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0,
        "'timeout' must be a positive number",
    )
    calls = spec.get("calls")
    _expect(isinstance(calls, list), "'calls' must be a list")
    return queue, float(timeout), calls


def main(argv):
    queue, timeout, calls = _parse_argv(argv)
    # build (and so validate) everything before sending anything
    prepared = [(*_prepare(call, queue, i), bool(call.get("noWait"))) for i, call in enumerate(calls)]
    sent = []
    for send, is_chain, no_wait in prepared:
        result, sent_at = send()
        sent.append((result, sent_at, is_chain, no_wait))
    for result, sent_at, is_chain, no_wait in sent:
        line = json.dumps(_wait(result, sent_at, is_chain, no_wait, timeout), default=str)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _exit(code):
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)  # no lingering connections / threads keep us alive


if __name__ == "__main__":
    try:
        main(sys.argv)
    except BadArgument as exc:
        sys.stderr.write(f"py_client.py: {exc}\n")
        _exit(2)
    except BaseException:  # noqa: BLE001 - anything else is a crash
        traceback.print_exc()
        _exit(1)
    try:
        app.close()
    except Exception:  # closing is best effort; os._exit follows anyway
        pass
    _exit(0)
