"""Alerts: rules as data, anomaly detection on metric series, the evaluation loop with its state
machine, notifiers and actions (docs/alerts.md).

Layer: may import ``telltale.analysis``, ``telltale.store`` and ``telltale.schema``; the report,
server and CLI layers import it, never the other way round.
"""
