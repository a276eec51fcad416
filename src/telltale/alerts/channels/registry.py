"""Channels from a rules file: the registry of channel types and the building of channels.

A rules file names its channels as mappings (``{type: slack, name: oncall, url: ...}``);
:func:`channel_from_config` finds the class for ``type`` in :data:`CHANNEL_TYPES` and builds it,
refusing keys the class does not take. The config keys of a type are its class's ``__init__``
arguments (under :attr:`Channel.config_aliases` where a key is not a Python name, as e-mail's
``from``), so a channel of your own, added with :func:`register_channel_type`, is configured
exactly like the built-in ones.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from telltale.alerts.channels.base import Channel
from telltale.alerts.channels.mail import EmailChannel
from telltale.alerts.channels.pagerduty import PagerDutyChannel
from telltale.alerts.channels.slack import SlackChannel
from telltale.alerts.channels.webhook import WebhookChannel
from telltale.errors import ConfigError

__all__ = [
    "CHANNEL_TYPES",
    "channel_config_keys",
    "channel_from_config",
    "channels_from_config",
    "register_channel_type",
]

CHANNEL_TYPES: dict[str, type[Channel]] = {}
"""``type`` name → channel class; :func:`register_channel_type` adds one of your own."""

ChannelType = TypeVar("ChannelType", bound=type[Channel])


def register_channel_type(cls: ChannelType) -> ChannelType:
    """Make ``cls`` buildable by :func:`channel_from_config` under ``cls.type`` (a decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, Channel)):
        raise ConfigError(f"{cls!r} is not a Channel subclass; derive it from Channel")
    name = getattr(cls, "type", None)
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"{cls.__name__}.type={name!r} must be a name like 'slack'")
    if CHANNEL_TYPES.get(name, cls) is not cls:
        raise ConfigError(f"channel type {name!r} is taken by {CHANNEL_TYPES[name].__name__}")
    CHANNEL_TYPES[name] = cls
    return cls


for _builtin in (WebhookChannel, SlackChannel, EmailChannel, PagerDutyChannel):
    register_channel_type(_builtin)


def channel_config_keys(channel_type: str) -> dict[str, bool]:
    """The config keys of a channel type (besides ``type``), each mapped to whether it is
    required: the arguments of the class, under their config names.

    >>> channel_config_keys("slack")
    {'url': True, 'name': False, 'timeout_s': False}
    """
    return _config_keys(_channel_class(channel_type))


def _config_keys(cls: type[Channel]) -> dict[str, bool]:
    to_key = {argument: key for key, argument in cls.config_aliases.items()}
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return {
        to_key.get(p.name, p.name): p.default is inspect.Parameter.empty
        for p in parameters
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def channel_from_config(config: Mapping[str, Any]) -> Channel:
    """A channel from a mapping as a rules file writes it.

    >>> channel_from_config({"type": "webhook", "url": "https://hooks.example.com/t"})
    WebhookChannel(name='webhook', target='https://hooks.example.com/…')
    >>> channel_from_config({"type": "sms"})
    Traceback (most recent call last):
    ...
    telltale.errors.ConfigError: unknown channel type 'sms'; known: email, pagerduty, slack, webhook
    """
    if not isinstance(config, Mapping):
        raise ConfigError(
            f"a channel is a mapping like {{type: slack, url: ...}}; got a {type(config).__name__}"
        )
    cls = _channel_class(config.get("type"))
    channel_type = cls.type
    keys = _config_keys(cls)
    where = f"{channel_type} channel {config.get('name', channel_type)!r}"
    unknown = sorted(str(k) for k in config if k != "type" and k not in keys)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(keys))}",
            details={"field": unknown[0]},
        )
    missing = [key for key, required in keys.items() if required and key not in config]
    if missing:
        raise ConfigError(
            f"{where}: missing key(s) {', '.join(missing)}; a {channel_type} channel needs "
            f"{', '.join(k for k, required in keys.items() if required)}",
            details={"field": missing[0]},
        )
    arguments = {cls.config_aliases.get(k, k): v for k, v in config.items() if k != "type"}
    return cls(**arguments)


def channels_from_config(configs: Iterable[Mapping[str, Any]]) -> list[Channel]:
    """Channels from a rules file's list; names must be unique (deliveries are named by them)."""
    channels: list[Channel] = []
    for index, config in enumerate(configs):
        try:
            channel = channel_from_config(config)
        except ConfigError as exc:
            raise ConfigError(f"channels[{index}]: {exc}", details=exc.details) from None
        if any(other.name == channel.name for other in channels):
            raise ConfigError(
                f"channels[{index}]: the name {channel.name!r} is used twice; give each channel "
                "its own name (e.g. name: oncall-slack)",
                details={"field": "name"},
            )
        channels.append(channel)
    return channels


def _channel_class(channel_type: Any) -> type[Channel]:
    if not isinstance(channel_type, str) or channel_type not in CHANNEL_TYPES:
        known = ", ".join(sorted(CHANNEL_TYPES))
        given = (
            "no channel type" if channel_type is None else f"unknown channel type {channel_type!r}"
        )
        raise ConfigError(f"{given}; known: {known}", details={"field": "type"})
    return CHANNEL_TYPES[channel_type]
