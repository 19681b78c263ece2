"""Profiles: the per-call hardware records that primitives and estimators leave.

Each record is a dict with the op, its shape (m, n, k), MACs, bytes read and written,
host<->device bytes, seconds (measured, or simulated when ``seconds_simulated``), and, for the
systolic simulator, cycles, utilization, on-chip and DRAM traffic, energy and quantization error
(None elsewhere).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict

_last = threading.local()

_SUMMED = (
    "macs",
    "bytes_read",
    "bytes_written",
    "host_to_device_bytes",
    "device_to_host_bytes",
    "seconds",
    "wall_seconds",
    "cycles",
    "energy_joules",
)


class Profile(list):
    """A list of record dicts, with totals and conversions."""

    def total(self) -> dict:
        """Sums over every record (fields that are None everywhere stay None)."""
        return _sum_records(self)

    def by_op(self) -> dict:
        """{op: totals} in first-seen order."""
        groups = defaultdict(list)
        for r in self:
            groups[r["op"]].append(r)
        return {op: _sum_records(rs) for op, rs in groups.items()}

    def to_json(self) -> str:
        return json.dumps({"records": list(self), "total": self.total(), "by_op": self.by_op()})

    def to_frame(self):
        """The records as a pandas DataFrame (pandas must be installed)."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("Profile.to_frame() needs pandas: pip install pandas") from e
        return pd.DataFrame(list(self))

    def __repr__(self) -> str:
        t = self.total()
        return (
            f"<mlcore.Profile {len(self)} records, {t['macs']} MACs, "
            f"{t['bytes_read'] + t['bytes_written']} bytes, {t['seconds']:.3g} s>"
        )


def _sum_records(records) -> dict:
    out = {"calls": len(records)}
    for key in _SUMMED:
        values = [r.get(key) for r in records if r.get(key) is not None]
        out[key] = sum(values) if values else (None if key in ("cycles", "energy_joules") else 0)
    return out


def set_last_profile(records) -> Profile:
    """Makes ``records`` (a primitive call's, as the bindings return them) this thread's
    :func:`last_profile`; the primitives in primitives.py call it after each call."""
    profile = Profile(records)
    _last.profile = profile
    return profile


def last_profile() -> Profile:
    """The records of the last primitive call made from this thread."""
    return getattr(_last, "profile", Profile())
