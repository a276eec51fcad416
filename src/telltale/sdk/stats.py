"""What a monitor has done so far, as one snapshot.

>>> MonitorStats(captured=3, sent=2, pending=1).to_dict()["sent"]
2
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["MonitorStats"]


@dataclass(frozen=True)
class MonitorStats:
    """Counts of events (rows) since the monitor started (in this process, after a fork).

    - ``captured``: events built from tracked calls (a batch call of N rows is N);
    - ``pending``: calls recorded but not yet built (still in the buffer);
    - ``dropped``: calls not recorded because the buffer was full (sent as ``client.dropped``);
    - ``sent``: events the sink delivered (2xx from the server, or a file written);
    - ``spooled``: events waiting in the spool for the server to come back;
    - ``spool_dropped``: events pushed out of a full spool;
    - ``failed``: events given up on (refused with a 4xx, or the sink raised);
    - ``labels_sent`` / ``labels_failed``: rows of labels and feedback.

    Once everything is flushed, ``captured == sent + spooled + spool_dropped + failed``.
    """

    captured: int = 0
    pending: int = 0
    dropped: int = 0
    sent: int = 0
    spooled: int = 0
    spool_dropped: int = 0
    failed: int = 0
    labels_sent: int = 0
    labels_failed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
