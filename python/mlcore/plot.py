"""Plots of comparison tables and profiles (matplotlib).

* :func:`compare` — bars of time, energy and score difference per algorithm and backend;
* :func:`roofline` — each run as a point (arithmetic intensity, achieved MAC rate) under its
  backend's compute and bandwidth ceilings;
* :func:`wavefront` — the cycle-stepped trace of a small systolic array, frame by frame.

:func:`compare` and :func:`roofline` take the rows returned by :func:`mlcore.compare.run` or
:func:`mlcore.compare` (a list of dicts, or a pandas DataFrame) and return a matplotlib Figure.
"""

from __future__ import annotations

import numpy as np

BACKEND_COLORS = {
    "scalar": "#7f7f7f",
    "avx2": "#1f77b4",
    "avx512": "#17becf",
    "cuda": "#2ca02c",
    "systolic": "#d62728",
}


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
    titles = {
        "fit_s": "fit time (s, log)",
        "predict_s": "predict time (s, log)",
        "energy_j": "energy estimate (J, log; systolic only)",
        "score_delta": "score − scalar f32 score",
        "gops": "achieved GOP/s (log)",
    }
    log_scale = {"fit_s", "predict_s", "energy_j", "gops"}
    fig, axes = plt.subplots(
        len(metrics), 1, figsize=(max(8, 1.1 * len(algorithms)), 3.2 * len(metrics)), squeeze=False
    )
    width = 0.8 / max(1, len(backends))
    x = np.arange(len(algorithms))
    for ax, metric in zip(axes[:, 0], metrics):
        for j, b in enumerate(backends):
            values = []
            for a in algorithms:
                match = [r for r in rows if r["backend"] == b and r.get("algorithm", "?") == a]
                v = match[0].get(metric) if match else None
                values.append(np.nan if v is None else float(v))
            ax.bar(
                x + (j - (len(backends) - 1) / 2) * width, values, width, label=b, color=_color(b)
            )
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

    rows = [dict(r) for r in _rows(rows) if r.get("intensity") and r.get("gops")]
    for r in rows:
        # The simulator knows the bytes it really moved (int8 operands, tiles re-read from
        # DRAM): place it by that traffic, against its own DRAM ceiling.
        if r.get("dram_bytes"):
            r["intensity"] = r["macs"] / r["dram_bytes"]
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
            ax.plot(
                xs,
                np.minimum(peak, xs * bw) * 1e-9,
                color=_color(b),
                linewidth=1.5,
                alpha=0.7,
                label=f"{b} ceiling",
            )
        pts = [r for r in rows if r["backend"] == b]
        ax.scatter(
            [r["intensity"] for r in pts],
            [r["gops"] / 2 for r in pts],
            color=_color(b),
            edgecolor="black",
            zorder=3,
            label=f"{b} runs",
        )
        for r in pts:
            ax.annotate(
                r.get("algorithm", ""),
                (r["intensity"], r["gops"] / 2),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(
        "arithmetic intensity (MACs per byte: compulsory f32 traffic; DRAM bytes for the simulator)"
    )
    ax.set_ylabel("achieved GMAC/s (primitive time)")
    ax.set_title("roofline: each algorithm on each backend")
    ax.grid(which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


# How the operands move in each dataflow (docs/SYSTOLIC.md, "The array and its three dataflows").
_DATAFLOW_CAPTIONS = {
    "ws": "weight stationary: B sits in the PEs, rows of A move right, partial sums move down",
    "os": "output stationary: A moves right, B moves down, each PE keeps its own sum of C",
    "is": "input stationary: A sits in the PEs, rows of B\u1d40 move right, partial sums move down",
}


def wavefront(
    trace, *, cycles=None, max_frames=24, ncols=6, values=True, animate=False, interval=600
):
    """Draws the trace of :meth:`mlcore.SystolicBackend.trace`: one frame per cycle.

    Each frame is the PE grid at the end of that cycle. A PE that did a useful
    multiply-accumulate is coloured; with ``values`` it shows ``a×b`` (the operand passing
    right times the weight it used, ws/is, or the operand passing down, os) and ``Σ`` its
    partial sum after the MAC. The diagonal band of coloured PEs is the wavefront.

    cycles: which cycles to draw (default: all of them; in the grid at most ``max_frames``,
    evenly spread).
    ncols: frames per row of the grid. animate: return a
    ``matplotlib.animation.FuncAnimation`` (one frame per cycle, ``interval`` ms apart) instead
    of a Figure; in Jupyter, set ``plt.rcParams["animation.html"] = "jshtml"`` and make it a
    cell's last expression to get a player.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    busy = np.asarray(trace["busy"])
    if busy.ndim != 3:
        raise ValueError(f"trace['busy'] must be (cycles, rows, cols), got shape {busy.shape}")
    n_cycles, rows, cols = busy.shape
    left, top, acc = (np.asarray(trace[k]) for k in ("left", "top", "acc"))
    dataflow = trace.get("dataflow", "ws")
    if cycles is None:
        if animate or n_cycles <= max_frames:
            cycles = list(range(n_cycles))
        else:
            cycles = sorted(set(np.linspace(0, n_cycles - 1, max_frames).round().astype(int)))
    cycles = [int(c) for c in cycles]
    bad = [c for c in cycles if not 0 <= c < n_cycles]
    if bad or not cycles:
        raise ValueError(f"cycles must be in [0, {n_cycles}), got {bad or cycles}")
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}")

    cmap = ListedColormap(["#f2f2f2", "#f4a259"])  # idle, multiply-accumulating
    fontsize = max(4.5, 9.0 - 0.6 * max(rows, cols))
    total_macs = int(busy.sum())
    active = np.flatnonzero(busy.reshape(n_cycles, -1).any(axis=1))
    first_busy = int(active[0]) if active.size else n_cycles
    last_busy = int(active[-1]) if active.size else -1

    def draw(ax, t):
        ax.clear()
        ax.imshow(busy[t], cmap=cmap, vmin=0, vmax=1)
        ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
        ax.grid(which="minor", color="white", linewidth=2)
        ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
        done = int(busy[: t + 1].sum())
        if t < first_busy and dataflow in ("ws", "is"):
            state = "stationary tile shifts in"
        elif t > last_busy:
            state = "sums drain out"
        else:
            state = f"{int(busy[t].sum())} PEs busy, {done}/{total_macs} MACs"
        ax.set_title(f"cycle {t}\n{state}", fontsize=7)
        if values:
            for r in range(rows):
                for c in range(cols):
                    if busy[t, r, c]:
                        ax.text(
                            c,
                            r,
                            f"{left[t, r, c]}\u00d7{top[t, r, c]}\n\u03a3{acc[t, r, c]}",
                            ha="center",
                            va="center",
                            fontsize=fontsize,
                        )

    caption = _DATAFLOW_CAPTIONS.get(dataflow, dataflow)
    if animate:
        from matplotlib import animation

        fig, ax = plt.subplots(figsize=(0.8 * cols + 2.0, 0.8 * rows + 1.4))
        fig.suptitle(caption, fontsize=8)
        anim = animation.FuncAnimation(
            fig, lambda i: draw(ax, cycles[i]), frames=len(cycles), interval=interval
        )
        plt.close(fig)  # the animation draws it; do not also show the empty figure
        return anim

    nrows = (len(cycles) + ncols - 1) // ncols
    width = min(ncols, len(cycles))
    cell = max(1.6, 0.45 * max(rows, cols))
    fig, axes = plt.subplots(
        nrows, width, figsize=(cell * width, (cell + 0.3) * nrows + 0.6), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, t in zip(axes.flat, cycles):
        ax.axis("on")
        draw(ax, t)
    fig.suptitle(f"{rows}\u00d7{cols} array, {caption}", fontsize=9)
    fig.tight_layout()
    return fig
