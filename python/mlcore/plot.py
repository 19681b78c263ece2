"""Plots of comparison tables and profiles (matplotlib).

* :func:`compare` — bars of time, energy and score difference per algorithm and backend;
* :func:`roofline` — each run as a point (arithmetic intensity, achieved MAC rate) under its
  backend's compute and bandwidth ceilings.

Each function takes the rows returned by :func:`mlcore.compare.run` or :func:`mlcore.compare`
(a list of dicts, or a pandas DataFrame) and returns a matplotlib Figure.
"""

from __future__ import annotations

import numpy as np

BACKEND_COLORS = {"scalar": "#7f7f7f", "avx2": "#1f77b4", "cuda": "#2ca02c",
                  "systolic": "#d62728"}


def _rows(rows) -> list:
    if hasattr(rows, "to_dict"):
        return rows.to_dict("records")
    return list(rows)


def _color(backend: str) -> str:
    return BACKEND_COLORS.get(backend, "#9467bd")


def compare(rows, *, metrics=("fit_s", "energy_j", "score_delta")):
    """Grouped bars: one panel per metric, algorithms along x, one bar per backend."""
    import matplotlib.pyplot as plt

    rows = _rows(rows)
    algorithms = list(dict.fromkeys(r.get("algorithm", "?") for r in rows))
    backends = list(dict.fromkeys(r["backend"] for r in rows))
    titles = {"fit_s": "fit time (s, log)", "predict_s": "predict time (s, log)",
              "energy_j": "energy estimate (J, log; systolic only)",
              "score_delta": "score − scalar f32 score", "gops": "achieved GOP/s (log)"}
    log_scale = {"fit_s", "predict_s", "energy_j", "gops"}
    fig, axes = plt.subplots(len(metrics), 1, figsize=(max(8, 1.1 * len(algorithms)), 3.2 * len(metrics)),
                             squeeze=False)
    width = 0.8 / max(1, len(backends))
    x = np.arange(len(algorithms))
    for ax, metric in zip(axes[:, 0], metrics):
        for j, b in enumerate(backends):
            values = []
            for a in algorithms:
                match = [r for r in rows if r["backend"] == b and r.get("algorithm", "?") == a]
                v = match[0].get(metric) if match else None
                values.append(np.nan if v is None else float(v))
            ax.bar(x + (j - (len(backends) - 1) / 2) * width, values, width, label=b,
                   color=_color(b))
        if metric in log_scale:
            ax.set_yscale("log")
        if metric == "score_delta":
            ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_title(titles.get(metric, metric))
        ax.set_xticks(x)
        ax.set_xticklabels(algorithms, rotation=30, ha="right")
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(ncol=len(backends), loc="upper right")
    fig.tight_layout()
    return fig


def roofline(rows, *, peaks=None):
    """Each run's achieved MAC rate against its arithmetic intensity, under the ceilings.

    The ceilings of a backend are min(peak MAC/s, intensity × bandwidth): below the ridge point
    an algorithm is memory-bound, above it compute-bound. ``peaks`` maps a backend name to
    ``{"macs_per_second", "bytes_per_second"}``; by default each backend's
    :attr:`mlcore.Backend.peaks` (measured on CPUs, from the configuration on the simulator).
    """
    import matplotlib.pyplot as plt

    from ._backends import backend as make_backend

    rows = [r for r in _rows(rows) if r.get("intensity") and r.get("gops")]
    backends = list(dict.fromkeys(r["backend"] for r in rows))
    if peaks is None:
        peaks = {}
        for b in backends:
            try:
                peaks[b] = make_backend(b).peaks
            except Exception:  # a backend that cannot say: draw its points without a roof
                peaks[b] = {"macs_per_second": 0, "bytes_per_second": 0}
    fig, ax = plt.subplots(figsize=(8, 5.5))
    intensities = [r["intensity"] for r in rows] or [1.0]
    xs = np.logspace(np.log10(min(intensities) / 4), np.log10(max(intensities) * 4), 200)
    for b in backends:
        p = peaks.get(b, {})
        peak, bw = p.get("macs_per_second", 0), p.get("bytes_per_second", 0)
        if peak > 0 and bw > 0:
            ax.plot(xs, np.minimum(peak, xs * bw) * 1e-9, color=_color(b), linewidth=1.5,
                    alpha=0.7, label=f"{b} ceiling")
        pts = [r for r in rows if r["backend"] == b]
        ax.scatter([r["intensity"] for r in pts], [r["gops"] / 2 for r in pts], color=_color(b),
                   edgecolor="black", zorder=3, label=f"{b} runs")
        for r in pts:
            ax.annotate(r.get("algorithm", ""), (r["intensity"], r["gops"] / 2), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (MACs per byte of compulsory traffic)")
    ax.set_ylabel("achieved GMAC/s (primitive time)")
    ax.set_title("roofline: each algorithm on each backend")
    ax.grid(which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
