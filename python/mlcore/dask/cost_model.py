"""What a distributed fit's communication would cost on other interconnects.

A fit's ``profile_`` holds one record per broadcast and per reduction, with the bytes that
travelled and the seconds they took here (a Dask cluster: the partials go to the client over
TCP, are summed there, and the result goes back out). Systems built for speed replace the
client-in-the-middle by an *all-reduce* among the workers; its classic bandwidth-optimal form
is the ring (Patarasuk & Yuan, "Bandwidth optimal all-reduce algorithms for clusters of
workstations", J. Parallel Distrib. Comput. 69(2), 2009; Thakur, Rabenseifner & Gropp,
"Optimization of collective communication operations in MPICH", IJHPCA 19(1), 2005): the
message of B bytes is cut into p pieces, and p − 1 reduce-scatter steps followed by p − 1
all-gather steps each pass one piece to the next worker, so each worker sends and receives
2(p − 1)/p · B bytes in 2(p − 1) steps:

    t_ring = 2(p − 1)·α + 2(p − 1)/p · B / β         α: per-step latency, β: link bandwidth

(per direction; every worker sends and receives at once). ``estimate`` applies it to each
reduction round in a profile, for the links below. A broadcast disappears in an all-reduce
(every worker ends with the sum), so only the reduction rounds are estimated.

Bandwidths are the standards' or vendors' figures per direction; latencies are orders of
magnitude for one small message between two endpoints (they dominate rounds of a few KB, such
as a logistic regression's gradients).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LINKS", "Link", "estimate", "ring_allreduce_seconds", "summary"]


@dataclass(frozen=True)
class Link:
    name: str
    bytes_per_second: float  # per direction
    latency_seconds: float  # α: one step of the ring, small message
    source: str


LINKS = {
    # 16 lanes × 32 GT/s × 128/130 (128b/130b encoding) / 8 bits = 63.0 GB/s each way.
    "pcie5_x16": Link(
        "PCIe 5.0 x16",
        63.0e9,
        1.0e-6,
        "PCI-SIG, PCI Express Base Specification 5.0 (32 GT/s, 128b/130b)",
    ),
    # NVIDIA quotes 900 GB/s per H100: 18 NVLink-4 links × 50 GB/s, both directions together,
    # so 450 GB/s each way — the rate a ring step uses.
    "nvlink4": Link(
        "NVLink 4 (H100, 18 links)",
        450.0e9,
        1.0e-6,
        "NVIDIA H100 Tensor Core GPU datasheet (NVLink: 900 GB/s bidirectional)",
    ),
    # 100 Gb/s / 8 = 12.5 GB/s; latency of a TCP message through the kernel (RDMA: ~2 µs).
    "ethernet_100g": Link(
        "100 Gb/s Ethernet", 12.5e9, 10.0e-6, "IEEE 802.3ba/802.3bj (100 Gb/s Ethernet)"
    ),
    # NDR: 400 Gb/s / 8 = 50 GB/s; MPI latency about a microsecond on ConnectX-7.
    "infiniband_ndr": Link(
        "400 Gb/s InfiniBand NDR",
        50.0e9,
        1.0e-6,
        "NVIDIA ConnectX-7 / Quantum-2 InfiniBand datasheets (NDR 400 Gb/s)",
    ),
}


def ring_allreduce_seconds(n_bytes, n_workers, link):
    """2(p − 1)·α + 2(p − 1)/p · n_bytes / β for a ring all-reduce of an n_bytes message."""
    link = LINKS[link] if isinstance(link, str) else link
    p = int(n_workers)
    if p < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}")
    if p == 1:
        return 0.0
    steps = 2 * (p - 1)
    return steps * link.latency_seconds + steps / p * float(n_bytes) / link.bytes_per_second


def _comm_records(profile):
    return [r for r in profile if r.get("op") in ("broadcast", "reduce")]


def summary(profile):
    """Compute against communication in a distributed fit's profile.

    Returns a dict: ``rounds``; ``bytes_broadcast`` and ``bytes_reduced`` (all partitions);
    ``comm_seconds`` (measured: each round's wall time less its slowest partition's compute);
    ``compute_seconds`` (the workers' primitive seconds, summed over workers) and
    ``compute_seconds_per_worker`` (a dict by worker address); ``partition_seconds`` (building
    the row partitions on the workers: reading or computing the input chunks)."""
    comm = _comm_records(profile)
    per_worker = {}
    for r in profile:
        if r.get("op") not in ("broadcast", "reduce", "partitions"):
            per_worker[r.get("worker")] = per_worker.get(r.get("worker"), 0.0) + r["seconds"]
    return {
        "rounds": len({r["round"] for r in comm}),
        "bytes_broadcast": sum(r["comm_bytes"] for r in comm if r["op"] == "broadcast"),
        "bytes_reduced": sum(r["comm_bytes"] for r in comm if r["op"] == "reduce"),
        "comm_seconds": sum(r["seconds"] for r in comm),
        "compute_seconds": sum(per_worker.values()),
        "compute_seconds_per_worker": per_worker,
        "partition_seconds": sum(r["seconds"] for r in profile if r.get("op") == "partitions"),
    }


def estimate(profile, n_workers, links=None):
    """Each reduction round of ``profile`` as a ring all-reduce among ``n_workers``.

    The message of a round is one partition's partial (the round's reduced bytes / its
    messages). Returns one dict per link: name, rounds, bytes per worker per round (mean),
    estimated seconds (all rounds), and the measured communication seconds here for
    comparison."""
    reduces = [r for r in _comm_records(profile) if r["op"] == "reduce"]
    measured = sum(r["seconds"] for r in _comm_records(profile))
    out = []
    for key in links or list(LINKS):
        link = LINKS[key] if isinstance(key, str) else key
        seconds = sum(
            ring_allreduce_seconds(r["comm_bytes"] / max(r["messages"], 1), n_workers, link)
            for r in reduces
        )
        out.append(
            {
                "link": link.name,
                "rounds": len(reduces),
                "bytes_per_round": (
                    sum(r["comm_bytes"] / max(r["messages"], 1) for r in reduces)
                    / max(len(reduces), 1)
                ),
                "estimated_seconds": seconds,
                "measured_seconds_here": measured,
            }
        )
    return out
