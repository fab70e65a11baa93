"""The time bucket of the Overview's charts, chosen from the span of the data: a minute for a burst of
sessions, a week for a year of them, so that the bars stay visible whatever the span."""

from __future__ import annotations

from dataclasses import dataclass

NANOS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Bucket:
    seconds: int
    name: str  # "per <name>" in chart titles

    @property
    def nanos(self) -> int:
        return self.seconds * NANOS


BUCKETS = (
    Bucket(60, "minute"),
    Bucket(5 * 60, "5 minutes"),
    Bucket(15 * 60, "15 minutes"),
    Bucket(3600, "hour"),
    Bucket(3 * 3600, "3 hours"),
    Bucket(6 * 3600, "6 hours"),
    Bucket(86400, "day"),
    Bucket(7 * 86400, "week"),
    Bucket(30 * 86400, "30 days"),
)
MOST_BARS = 120  # more and the bars of a 1,400-pixel-wide chart get thinner than a few pixels


def bucket_for(first_unix_nano: int, last_unix_nano: int, most: int = MOST_BARS) -> Bucket:
    """The smallest bucket that covers ``first`` to ``last`` in at most ``most`` bars."""
    span = max(0, last_unix_nano - first_unix_nano)
    for bucket in BUCKETS:
        if span // bucket.nanos + 1 <= most:
            return bucket
    return BUCKETS[-1]
