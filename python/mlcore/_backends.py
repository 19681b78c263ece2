"""Backends as Python values.

A backend can be named by a string ("scalar", "avx2", "avx512", "cuda", "amx", "systolic"), given as a
:class:`Backend` object, or left as ``None``: the default, the fastest f32 CPU backend this
machine runs (:func:`default_backend`, chosen in one place, the C++ registry). A
:class:`Backend` object which records a backend's name and configuration. Backend objects
print their configuration, compare equal when configured alike, and pickle by configuration
(the C++ instance is rebuilt on first use after unpickling), so estimators holding one can be
cloned, copied and saved.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

from . import _core

# name -> function(options) building a configured C++ backend (the default instance, with no
# options, comes from the registry). Every backend that takes options has its line here.
_FACTORIES: Dict[str, Callable[[Dict[str, Any]], Any]] = {
    "scalar": lambda options: _core.make_scalar_backend(),
    "systolic": lambda options: _core.make_systolic_backend(dict(options)),  # see systolic.py
    "avx2": lambda options: _core.make_avx2_backend(int(options.get("num_threads", 0) or 0)),
    "avx512": lambda options: _core.make_avx512_backend(int(options.get("num_threads", 0) or 0)),
    # Options not given keep the C++ defaults (AmxOptions).
    "amx": lambda options: _core.make_amx_backend(**options),
}


class Backend:
    """A backend and its configuration.

    Parameters
    ----------
    name : str
        The backend's registry name, one of :func:`mlcore.available_backends` on this machine.
    **options
        Backend-specific settings (``num_threads`` for avx2, avx512 and amx; ``emulate_tiles`` and
        ``record_quant_error`` for amx; the array shape, dataflow, ... for systolic). With no
        options the shared default instance is used.
    """

    def __init__(self, name: str, **options: Any):
        if not isinstance(name, str):
            raise TypeError(f"backend name must be a str, got {type(name).__name__}")
        known = [info["name"] for info in _core.backend_info()]
        if name not in known:
            raise ValueError(f"unknown backend {name!r}; known backends: {', '.join(known)}")
        self.name = name
        self.options = dict(options)
        self._instance = None

    # The C++ object, built on first use (so unpickling needs no hardware until it runs).
    def _get(self):
        if self._instance is None:
            if not self.options:
                self._instance = _core.backend(self.name)
            else:
                factory = _FACTORIES.get(self.name)
                if factory is None:
                    raise ValueError(f"backend {self.name!r} takes no options, got {self.options}")
                self._instance = factory(self.options)
        return self._instance

    @property
    def description(self) -> str:
        """One line describing the backend instance and its configuration."""
        return self._get().description

    @property
    def capabilities(self) -> dict:
        """What the backend's arithmetic and clock are: ``exact_f32`` (f32 GEMMs in f32 arithmetic;
        False where f32 operands are quantized to int8, as on the systolic array),
        ``simulated_time`` (profile seconds from a hardware model, not a clock) and
        ``device_memory`` (tensors live in the backend's own memory). Ask this rather than
        comparing names, so that a new backend is treated by what it is."""
        return dict(self._get().capabilities)

    @property
    def peaks(self) -> dict:
        """The machine's ceilings: ``macs_per_second``, ``bytes_per_second`` and ``source``
        (how they were obtained). Measured once per process on CPU backends."""
        return dict(self._get().peaks)

    def __repr__(self) -> str:
        args = [repr(self.name)] + [f"{k}={v!r}" for k, v in sorted(self.options.items())]
        return f"mlcore.Backend({', '.join(args)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Backend):
            return NotImplemented
        return self.name == other.name and self.options == other.options

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted((k, repr(v)) for k, v in self.options.items()))))

    def __getstate__(self):
        return {"name": self.name, "options": self.options}

    def __setstate__(self, state):
        self.name = state["name"]
        self.options = dict(state["options"])
        self._instance = None


def default_backend() -> str:
    """The name of the backend used when none is given (``backend=None``): the fastest f32 CPU
    backend this machine runs, avx512 > avx2 > scalar (CPUID and the OS decide; see
    :func:`backend_info` for why a faster one is absent)."""
    return _core.default_backend_name()


def backend(spec: "str | Backend | None" = None, **options: Any) -> Backend:
    """A :class:`Backend` from a name (with optional options), an existing Backend, or None
    (:func:`default_backend`)."""
    if spec is None:
        spec = default_backend()
    if isinstance(spec, Backend):
        if options:
            return Backend(spec.name, **{**spec.options, **options})
        return spec
    if isinstance(spec, str):
        return Backend(spec, **options)
    raise TypeError(f"backend must be a name (str) or an mlcore.Backend, got {type(spec).__name__}")


def resolve(spec: "str | Backend | None"):
    """The C++ backend instance for a name, a Backend or None (the default; raises if it cannot
    run here)."""
    return backend(spec)._get()


def available_backends() -> list:
    """Names of the backends that can run on this machine (scalar, avx2, avx512, cuda, amx,
    systolic)."""
    return list(_core.available_backends())


def backend_info() -> list:
    """Every backend mlcore knows, as dicts: ``name``, ``available``, ``reason`` (why not, e.g.
    "the CPU lacks AVX512_VNNI") and ``default`` (the one used when none is named)."""
    default = default_backend()
    return [{**info, "default": info["name"] == default} for info in _core.backend_info()]


def cpu_info() -> dict:
    """What this CPU's vector and matrix units offer mlcore, asked at run time (CPUID, XCR0, the
    OS): ``avx2`` and ``avx512`` (the backends can run), ``amx`` (True when the AMX tile unit runs
    mlcore's int8 GEMM), ``amx_reason`` (why not, "" when it does) and ``int8_kernel`` (the host's
    exact int8 GEMM: "amx", "avx512_vnni", "avx2" or "scalar")."""
    amx_reason = _core.amx_unavailable_reason()
    return {
        "avx2": _core.cpu_supports_avx2(),
        "avx512": _core.cpu_supports_avx512(),
        "amx": amx_reason == "",
        "amx_reason": amx_reason,
        "int8_kernel": _core.host_int8_kernel(),
    }


def cuda_available() -> bool:
    """True when the cuda backend was built and a GPU is present."""
    return _core.cuda_unavailable_reason() == ""


def _threaded(name: str, num_threads: int) -> Backend:
    if not isinstance(num_threads, int) or num_threads < 0:
        raise ValueError(f"num_threads must be a non-negative int, got {num_threads!r}")
    return Backend(name, num_threads=num_threads) if num_threads else Backend(name)


def avx2(num_threads: int = 0) -> Backend:
    """The avx2 backend on ``num_threads`` threads (0: ``num_threads()``, read at each call)."""
    return _threaded("avx2", num_threads)


def avx512(num_threads: int = 0) -> Backend:
    """The avx512 backend on ``num_threads`` threads (0: ``num_threads()``, read at each call)."""
    return _threaded("avx512", num_threads)


def amx(num_threads: int = 0, *, emulate_tiles: bool = False) -> Backend:
    """The amx backend: the CPU's AMX tile unit. int8 GEMMs run on the tiles exactly; f32 GEMMs
    are quantized to int8 exactly as on the systolic backend (the same codes and scales, so the
    simulator's functional result, bit for bit, with its ``quant_error`` in the profile) and run
    on the tiles; every other primitive is the avx512 backend's. ``num_threads`` as for
    :func:`avx512`. ``emulate_tiles=True`` runs the tiles on a plain-C++ model (identical results,
    much slower; needs only AVX-512): for tests on machines without AMX. Where AMX cannot run,
    :func:`backend_info` says why."""
    if not isinstance(num_threads, int) or isinstance(num_threads, bool) or num_threads < 0:
        raise ValueError(f"num_threads must be a non-negative int, got {num_threads!r}")
    if not isinstance(emulate_tiles, bool):
        raise ValueError(f"emulate_tiles must be a bool, got {emulate_tiles!r}")
    options = {}
    if num_threads:
        options["num_threads"] = num_threads
    if emulate_tiles:
        options["emulate_tiles"] = True
    return Backend("amx", **options)


def num_threads() -> int:
    """Threads a call uses when its backend was not given a count (``avx2(0)``, the tree
    learners, the simulator's host arithmetic): ``set_num_threads(n)`` if set, else
    ``MLCORE_NUM_THREADS`` or ``OMP_NUM_THREADS``, else the CPUs this process may run on."""
    return _core.num_threads()


def set_num_threads(n: int) -> None:
    """Sets the default thread count for every backend and estimator; 0 restores the default."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"set_num_threads: n must be a non-negative int, got {n!r}")
    _core.set_num_threads(n)
