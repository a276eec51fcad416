"""Hooks a rule may call when it fires: a command, or a signed webhook.

Hooks are defined once under ``actions:`` in the rules file::

    actions:
      - {name: rollback, type: command, command: [./rollback.sh, fraud], timeout_s: 60}
      - {name: retrain, type: webhook, url: "https://ci.example.com/hooks/retrain", secret: s3cret}

A command gets the alert's JSON on its standard input and succeeds with exit status 0; a webhook
hook is posted like a webhook channel (HMAC-signed, retried). Calling one never raises: what
happened is returned (``ok``, ``error``, the command's ``output`` or the webhook's ``delivery``),
and the engine keeps it and writes it to the audit log.

>>> [str(e) for e in hook_errors([{"name": "x", "type": "command", "command": "rm -rf /"}])]
['rules file.actions[0] (x): command must be a list of strings, e.g. [./rollback.sh, fraud]']
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from typing import Any

from telltale.alerts.alert import Alert
from telltale.alerts.notifiers import Delivery, channel_from_config
from telltale.alerts.rules import RuleError
from telltale.errors import ConfigError

__all__ = ["HOOK_KEYS", "call_hook", "hook_errors"]

HOOK_KEYS = {"name", "type", "url", "secret", "command", "timeout_s"}
_WEBHOOK_KEYS = ("name", "url", "secret", "timeout_s")
_OUTPUT = 2000
"""Characters of a command's output (and 500 of its errors) kept with the action."""


def _webhook(hook: dict[str, Any]) -> Any:
    return channel_from_config(
        {k: v for k, v in hook.items() if k in _WEBHOOK_KEYS} | {"type": "webhook"}
    )


def hook_errors(hooks: Sequence[dict[str, Any]]) -> list[RuleError]:
    """What is wrong with each hook (named, with the fix); empty when all are good."""
    errors = []
    for index, hook in enumerate(hooks):
        where = f"actions[{index}] ({hook.get('name')})"
        unknown = sorted(set(hook) - HOOK_KEYS)
        kind = hook.get("type")
        message = None
        if unknown:
            message = f"unknown key(s) {unknown}; known: {sorted(HOOK_KEYS)}"
        elif kind == "command":
            command = hook.get("command")
            if (
                not isinstance(command, list)
                or not command
                or not all(isinstance(a, str) for a in command)
            ):
                message = "command must be a list of strings, e.g. [./rollback.sh, fraud]"
        elif kind == "webhook":
            try:
                _webhook(hook)
            except ConfigError as error:
                message = str(error)
        else:
            message = f"type {kind!r} is not command or webhook"
        timeout = hook.get("timeout_s", 30)
        if message is None and (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not 0 < timeout <= 3600
        ):
            message = f"timeout_s {timeout!r} must be a number of seconds from 0 to 3600"
        if message is not None:
            errors.append(RuleError(None, None, where, message))
    return errors


def call_hook(
    hook: dict[str, Any],
    alert: Alert,
    deliver: Callable[[Alert, Sequence[Any]], list[Delivery]],
    run_command: Callable[..., Any] = subprocess.run,
) -> dict[str, Any]:
    """Run ``hook`` for ``alert``; returns ``ok`` and ``error`` plus ``output`` or ``delivery``."""
    try:
        if hook.get("type") == "command":
            done = run_command(
                [str(a) for a in hook["command"]],
                input=json.dumps(alert.to_dict()).encode(),
                capture_output=True,
                timeout=float(hook.get("timeout_s", 30)),
                check=False,
            )
            out: dict[str, Any] = {
                "ok": done.returncode == 0,
                "output": (done.stdout or b"").decode("utf-8", "replace")[-_OUTPUT:],
            }
            if not out["ok"]:
                stderr = (done.stderr or b"").decode("utf-8", "replace")[-500:]
                out["error"] = f"exit status {done.returncode}: {stderr}"
            return out
        (delivery,) = deliver(alert, [_webhook(hook)])
        out = {"ok": delivery.ok, "delivery": delivery.to_dict()}
        if not delivery.ok:
            out["error"] = delivery.error
        return out
    except Exception as error:  # a timeout, a missing program: recorded, never raised
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
