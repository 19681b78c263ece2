"""The systolic-array simulator as a configurable backend.

``backend="systolic"`` anywhere a backend is taken runs the tpu-v1 preset. :func:`systolic`
builds a configured one::

    >>> import mlcore, numpy as np
    >>> tpu = mlcore.systolic(rows=32, cols=32, dataflow="os")
    >>> c = mlcore.gemm(np.ones((64, 48)), np.ones((48, 16)), backend=tpu)
    >>> mlcore.last_profile()[0]["compute_cycles"] > 0
    True

The backend object prints its full configuration, compares equal to another configured alike,
and survives pickle and deepcopy (estimators holding one are cloned with it). Its
:meth:`SystolicBackend.cycles` gives the analytic count of a GEMM without running it, and
:meth:`SystolicBackend.trace` runs the cycle-stepped model and returns every PE's registers at
every cycle as numpy arrays, for drawing the wavefront. docs/SYSTOLIC.md explains the model.
"""

from __future__ import annotations

from typing import Any, Dict

import numpy as np

from . import _backends, _core

# Keyword arguments of systolic() and what each sets (docs/SYSTOLIC.md, "Configuration").
FIELDS = {
    "rows": "PE rows of the array",
    "cols": "PE columns of the array",
    "clock_hz": "clock frequency",
    "dataflow": '"ws" (weight stationary), "os" (output stationary) or "is" (input stationary)',
    "convention": '"physical" (what the hardware does) or "scalesim" (SCALE-Sim\'s counts)',
    "mode": '"analytic" (closed-form cycle counts) or "stepped" (cycle by cycle)',
    "unified_buffer_bytes": "on-chip buffer for operands and outputs",
    "accumulator_bytes": "int32 accumulators below the array",
    "dram_bytes_per_second": "off-chip bandwidth",
    "vector_lanes": "f32 lanes of the vector unit",
    "mac_int8_pj": "energy of one int8 MAC (pJ)",
    "accumulate_int32_pj": "energy of one int32 accumulate (pJ)",
    "sram_pj_per_byte": "energy per byte of on-chip SRAM traffic (pJ)",
    "dram_pj_per_byte": "energy per byte of DRAM traffic (pJ)",
    "vector_op_pj": "energy of one f32 vector lane-operation (pJ)",
    "record_quant_error": "estimate each f32 MAC call's relative int8 error",
    "num_threads": "host threads for the simulator's int8 arithmetic (0: all)",
}

DEFAULT_PRESET = "tpu-v1"


def presets() -> list:
    """Names of the configuration presets ("tpu-v1", "edge-npu")."""
    return list(_core.systolic_preset_names())


def preset_config(name: str = DEFAULT_PRESET) -> Dict[str, Any]:
    """Every field of a preset, as a dict."""
    return dict(_core.systolic_preset(name))


def _full_config(options: Dict[str, Any]) -> Dict[str, Any]:
    return dict(_core.systolic_config(dict(options)))


class SystolicBackend(_backends.Backend):
    """A configured systolic backend (build one with :func:`mlcore.systolic`)."""

    def __init__(self, **options: Any):
        super().__init__("systolic", **options)

    @property
    def config(self) -> Dict[str, Any]:
        """The full configuration: the preset with the overrides applied."""
        return _full_config(self.options)

    def cycles(self, m: int, n: int, k: int) -> Dict[str, Any]:
        """The analytic counts of the int8 GEMM (m x k) @ (k x n) on this array: folds,
        compute and stall cycles, DRAM and on-chip bytes, utilization, energy."""
        for name, v in (("m", m), ("n", n), ("k", k)):
            if not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"{name} must be a non-negative int, got {v!r}")
        return dict(_core.systolic_gemm_cycles(dict(self.options), int(m), int(n), int(k)))

    def trace(self, a, b) -> Dict[str, Any]:
        """Runs the cycle-stepped model on int8 ``a`` (m x k) and ``b`` (k x n).

        Returns a dict: ``c`` the int32 product; ``left``, ``top`` (int8), ``acc`` (int32) and
        ``busy`` (uint8), each of shape (cycles, rows, cols): the operand each PE passes right,
        the weight it used (ws/is) or the operand it passes down (os), its partial or running
        sum, and whether it did a useful MAC that cycle. Small arrays only (at most 2**26
        entries in all).
        """
        a = np.ascontiguousarray(a)
        b = np.ascontiguousarray(b)
        if a.dtype != np.int8 or b.dtype != np.int8 or a.ndim != 2 or b.ndim != 2:
            raise ValueError(
                f"trace() takes two 2-D int8 arrays, got {a.dtype}{a.shape} and {b.dtype}{b.shape}"
            )
        if a.shape[1] != b.shape[0]:
            raise ValueError(f"inner dimensions differ: a is {a.shape}, b is {b.shape}")
        return dict(_core.systolic_trace(dict(self.options), a, b))

    def __repr__(self) -> str:
        args = [f"{k}={v!r}" for k, v in sorted(self.options.items())]
        return f"mlcore.systolic({', '.join(args)})"

    def __str__(self) -> str:
        return _core.systolic_config_string(dict(self.options))


def systolic(preset: str = DEFAULT_PRESET, **overrides: Any) -> SystolicBackend:
    """A systolic backend: ``preset`` ("tpu-v1" or "edge-npu") with any field overridden.

    Fields: rows, cols, clock_hz, dataflow ("ws", "os", "is"), convention ("physical",
    "scalesim"), mode ("analytic", "stepped"), unified_buffer_bytes, accumulator_bytes,
    dram_bytes_per_second, vector_lanes, the energy figures (mac_int8_pj, accumulate_int32_pj,
    sram_pj_per_byte, dram_pj_per_byte, vector_op_pj), record_quant_error, num_threads.

    Only the settings that differ from the preset are kept, so two backends configured alike
    compare equal however they were written, and ``systolic()`` equals ``backend("systolic")``.
    """
    if not isinstance(preset, str) or preset not in presets():
        raise ValueError(
            f"unknown systolic preset {preset!r}; known presets: {', '.join(presets())}"
        )
    unknown = sorted(set(overrides) - set(FIELDS))
    if unknown:
        raise ValueError(
            f"unknown systolic setting(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}"
        )
    base = preset_config(preset)
    options: Dict[str, Any] = {} if preset == DEFAULT_PRESET else {"preset": preset}
    for key, value in overrides.items():
        if isinstance(value, np.generic):
            value = value.item()
        if value != base[key]:
            options[key] = value
    _full_config(options)  # validate now (ValueError naming the bad value), not on first use
    return SystolicBackend(**options)
