"""The channels an alert can be sent to: webhook, Slack, e-mail and PagerDuty.

Each is a :class:`Channel`: built from validated settings, with a pure ``render(alert)`` and a
``send`` that tries once. :func:`telltale.alerts.notifiers.deliver` sends to many with retries;
:func:`telltale.alerts.notifiers.channel_from_config` builds one from a rules file's mapping.
"""

from __future__ import annotations

from telltale.alerts.channels.base import Attempt, Channel, HttpChannel
from telltale.alerts.channels.mail import EmailChannel
from telltale.alerts.channels.pagerduty import PagerDutyChannel
from telltale.alerts.channels.slack import SlackChannel
from telltale.alerts.channels.webhook import WebhookChannel, sign, verify_signature

__all__ = [
    "Attempt",
    "Channel",
    "EmailChannel",
    "HttpChannel",
    "PagerDutyChannel",
    "SlackChannel",
    "WebhookChannel",
    "sign",
    "verify_signature",
]
