"""What every mlcore.dask estimator shares: the client, the row partitions on the workers, the
rounds of communication and the profile that records them.

A distributed fit is a sequence of *rounds*. In each round the client sends the same small
parameters to every partition (a broadcast: centres, weights), every worker runs a function on
its own partition with mlcore primitives on the estimator's backend, and the small partial
results come back and are summed on the client in float64 (a reduction: sums, Gram matrices,
histograms, gradients). The partitions themselves never move: they are computed on the workers
from the dask graph and stay there as futures, so a worker that dies takes only its futures
with it, and dask recomputes them from the graph on another worker.
"""

from __future__ import annotations

import inspect
import pickle
import time

import numpy as np

from .._backends import resolve
from .._estimator import MLCoreEstimatorMixin
from .. import primitives as _primitives
from ..profile import Profile, last_profile

try:
    import dask
    import dask.array as da
    import distributed
except ImportError as e:  # pragma: no cover - the message is the point
    raise ImportError(
        "mlcore.dask needs dask and distributed: pip install 'mlcore[dask]' "
        "(or pip install 'dask[array]' distributed)"
    ) from e


# ---- the client and the inputs ----------------------------------------------------------------


def get_client(client):
    """``client``, or the current distributed client; a clear error when there is none."""
    if client is not None:
        if not isinstance(client, distributed.Client):
            raise TypeError(f"client must be a distributed.Client, got {type(client).__name__}")
        return client
    try:
        return distributed.get_client()
    except ValueError:
        raise ValueError(
            "mlcore.dask estimators run on a dask cluster: start a client first "
            "(distributed.Client(distributed.LocalCluster()) on this machine, or "
            "distributed.Client('tcp://scheduler:8786')), or pass client="
        ) from None


def _type_error(name, value, estimator):
    return TypeError(
        f"{name} must be a dask.array.Array (rows in chunks) or a dask DataFrame / Series, got "
        f"{type(value).__module__}.{type(value).__name__}. Wrap in-memory data with "
        f"dask.array.from_array({name}, chunks=(rows_per_partition, -1)), or fit "
        f"mlcore.{estimator} on one machine."
    )


def as_rows(X, name, estimator, *, ndim=(2,)):
    """X as a dask array with known row chunks and every column in one chunk."""
    if hasattr(X, "to_dask_array") and hasattr(X, "npartitions"):  # dask DataFrame / Series
        X = X.to_dask_array(lengths=True)
    if not isinstance(X, da.Array):
        raise _type_error(name, X, estimator)
    if X.ndim not in ndim:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, ndim))} dimension(s), got shape {X.shape}"
        )
    if any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape})")
    if X.ndim == 2 and X.numblocks[1] > 1:
        X = X.rechunk({1: -1})  # a partition is a block of whole rows
    return X


def align_rows(X, y, name="y"):
    """y re-chunked to X's row chunks (ValueError if their lengths differ)."""
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but {name} has {y.shape[0]}")
    if y.chunks[0] != X.chunks[0]:
        y = y.rechunk({0: X.chunks[0]})
    return y


def check_weights(estimator, X, sample_weight):
    """None, or the dask vector of sample weights checked and chunked as X's rows."""
    if sample_weight is None:
        return None
    sw = as_rows(sample_weight, "sample_weight", type(estimator).__name__, ndim=(1,))
    return align_rows(X, sw, "sample_weight")


def labels_xy(xb, yb, wb=None):
    """A partition's (X, y, w) blocks as the labelled fits take them: X float32 C order,
    y a 1-D label vector, w float32 or None."""
    w = None if wb is None else np.ascontiguousarray(wb, dtype=np.float32).reshape(-1)
    return np.ascontiguousarray(xb, dtype=np.float32), np.asarray(yb).reshape(-1), w


def worker_backend(backend):
    """What to send to the workers: a name, or an mlcore.Backend (it pickles by configuration)."""
    resolve(backend)  # fail here, on the client, if it is unknown
    return backend


# ---- running a function on every partition and recording it -----------------------------------


class Recorder:
    """The primitives, called on one worker with ``backend``, their records kept.

    ``rec.gemm(a, b, trans_a=True)`` is ``mlcore.gemm(a, b, trans_a=True, backend=backend)``
    with the call's hardware record appended to ``rec.records``.
    """

    def __init__(self, backend):
        self.backend = backend
        self.records = []

    def __getattr__(self, name):
        fn = getattr(_primitives, name)

        def call(*args, **kwargs):
            out = fn(*args, backend=self.backend, **kwargs)
            self.records.extend(last_profile())
            return out

        return call


def _run_on_partition(fn, index, part, backend, *args):
    """A task: fn(rec, part, *args) on a worker → (partial, records, seconds)."""
    rec = Recorder(backend)
    start = time.perf_counter()
    partial = fn(rec, part, *args)
    seconds = time.perf_counter() - start
    try:
        worker = distributed.get_worker().address
    except ValueError:  # run in the client process (not expected, but harmless)
        worker = "client"
    for r in rec.records:
        r["worker"] = worker
        r["partition"] = index
    return partial, rec.records, seconds


def _kept_value(result):
    return result[0][0]


def _without_kept_value(result):
    (_, partial), records, seconds = result
    return partial, records, seconds


def nbytes(obj):
    """Bytes an object takes on the wire (its pickle)."""
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    return len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


class DistributedFit:
    """One fit's partitions on the workers and its rounds of communication.

    ``parts``: one future per row block (whatever ``prepare`` made of the block: the X rows as
    float32, with y, ...). ``round(name, fn, *args)`` runs fn on every partition and returns
    the list of partial results in partition order, recording the broadcast of ``args`` and the
    reduction of the partials.
    """

    def __init__(self, client, backend, arrays, prepare):
        self.client = client
        self.backend = worker_backend(backend)
        blocks = [a.to_delayed().ravel().tolist() for a in arrays]
        tasks = [dask.delayed(prepare, pure=True)(*bs) for bs in zip(*blocks)]
        start = time.perf_counter()
        self.parts = client.compute(tasks)  # futures: the blocks stay on the workers
        try:
            with client.as_current():  # wait() asks for the current client: ours
                distributed.wait(self.parts)
        except _CANCELLED as e:
            self.release()
            raise _lost_partition_error(e) from e
        # Building the partitions (reading or computing the input chunks where they are) is
        # neither the fit's compute nor its communication: it has a record of its own.
        self.records = [
            comm_record(
                "partitions",
                "build the row partitions on the workers",
                0,
                len(self.parts),
                time.perf_counter() - start,
                time.perf_counter() - start,
                0,
            )
        ]
        self.n_rounds = 0

    @property
    def n_partitions(self):
        return len(self.parts)

    def round(self, name, fn, *args, parts=None, keep=False, per_part=None):
        """fn(rec, part, *args) on every partition (or on ``parts``); returns the partials.
        ``per_part``: a list of argument tuples, one per part, instead of the same ``args``.

        With ``keep``, fn returns (kept, partial): the kept values stay on the workers and
        ``round`` returns (partials, futures of the kept values) — state such as a shard's
        logits that the next round reads where it is."""
        parts = self.parts if parts is None else parts
        start = time.perf_counter()
        per_part = per_part if per_part is not None else [args] * len(parts)
        futures = [
            self.client.submit(_run_on_partition, fn, i, p, self.backend, *a, pure=False)
            for i, (p, a) in enumerate(zip(parts, per_part))
        ]
        kept = None
        if keep:
            kept = [self.client.submit(_kept_value, f, pure=False) for f in futures]
            futures = [self.client.submit(_without_kept_value, f, pure=False) for f in futures]
        try:
            results = self.client.gather(futures)
        except _CANCELLED as e:
            self.release()  # a failed fit leaves nothing behind on the workers
            raise _lost_partition_error(e) from e
        except BaseException:
            self.release()
            raise
        wall = time.perf_counter() - start
        self.n_rounds += 1
        partials = [r[0] for r in results]
        compute = max(r[2] for r in results)
        for _, records, _ in results:
            self.records.extend(records)
        sent = sum(nbytes(x) for a in per_part for x in a)
        received = sum(nbytes(p) for p in partials)
        # The round's time less its slowest partition's compute: what the scheduler, the
        # network and the (de)serialisation took, the communication the cost model estimates.
        # It is one measured number per round, shared between the broadcast and the reduction
        # in proportion to their bytes.
        comm = max(wall - compute, 0.0)
        for op, n_bytes in (("broadcast", sent), ("reduce", received)):
            self.records.append(
                comm_record(
                    op,
                    name,
                    n_bytes,
                    len(parts),
                    comm * n_bytes / max(sent + received, 1),
                    wall,
                    self.n_rounds,
                )
            )
        return (partials, kept) if keep else partials

    def profile(self):
        return Profile(self.records)

    def release(self):
        """Let the workers drop this fit's partitions."""
        for f in self.parts:
            f.release()
        self.parts = []


# What Dask raises when a future's data is gone for good (gather: one future; wait: several).
_CANCELLED = (
    distributed.client.FutureCancelledError,
    getattr(distributed.client, "FuturesCancelledError", distributed.client.FutureCancelledError),
)


def _lost_partition_error(e):
    return RuntimeError(
        f"mlcore.dask: a partition of the data was lost with its worker and cannot be "
        f"recomputed ({str(e).strip()}). Data scattered to the workers (client.scatter) has no "
        "recipe to rebuild it: build the dask array from a graph (from_array, from_zarr, "
        "from_npy_stack, read_parquet, ...) so that Dask recomputes lost partitions on the "
        "surviving workers."
    )


def comm_record(op, what, n_bytes, messages, seconds, wall_seconds, round_index):
    """A profile record for one broadcast or reduction (or, op "partitions", the building of
    the partitions), with the fields of a primitive's record where they mean the same (op,
    seconds) and comm_bytes, messages and round for the communication."""
    return {
        "op": op,
        "what": what,
        "backend": "dask",
        "dtype": None,
        "m": None,
        "n": None,
        "k": None,
        "macs": 0,
        "bytes_read": 0,
        "bytes_written": 0,
        "host_to_device_bytes": 0,
        "device_to_host_bytes": 0,
        "seconds": seconds,
        "wall_seconds": wall_seconds,
        "seconds_simulated": False,
        "comm_bytes": int(n_bytes),
        "messages": int(messages),
        "round": int(round_index),
        "worker": "client",
        "partition": None,
    }


# ---- the estimator side -----------------------------------------------------------------------


def init_with_client(local_class, **extra):
    """An ``__init__`` taking the single-machine estimator's parameters, then the keyword
    parameters ``extra`` (name=default), then ``client=None``.

    scikit-learn reads an estimator's parameters from its ``__init__`` signature, so the
    signature is the local one with these added: one list of parameters and defaults, the
    local estimator's.
    """
    local_sig = inspect.signature(local_class.__init__)
    extra = dict(extra, client=None)

    def __init__(self, *args, **kwargs):
        own = {name: kwargs.pop(name, default) for name, default in extra.items()}
        local_class.__init__(self, *args, **kwargs)
        for name, value in own.items():
            setattr(self, name, value)

    params = list(local_sig.parameters.values())
    params += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
        for name, default in extra.items()
    ]
    __init__.__signature__ = local_sig.replace(parameters=params)
    __init__.__doc__ = f"The parameters of mlcore.{local_class.__name__}, plus {', '.join(extra)}."
    return __init__


class DaskEstimatorMixin(MLCoreEstimatorMixin):
    """Shared by the mlcore.dask estimators, which subclass their single-machine estimator.

    (It derives from MLCoreEstimatorMixin so that a ``fit`` defined in a shared mixin such as
    the least squares' one is made atomic, with float32 X giving float32 attributes, as every
    mlcore fit is.)

    After ``fit`` the object holds the same fitted C++ model and attributes as the
    single-machine estimator would, so its methods work on numpy arrays unchanged; given a dask
    array they map over its row chunks on the workers. ``to_local()`` returns the plain
    single-machine estimator. ``profile_`` is the distributed fit's profile: every worker's
    primitive records (tagged ``worker`` and ``partition``) and one record per broadcast and
    reduction (``op`` "broadcast" / "reduce", ``comm_bytes``, ``messages``, ``seconds``).
    """

    _local_class = None

    def _fit_context(self, arrays, prepare):
        return DistributedFit(get_client(self.client), self.backend, arrays, prepare)

    def _finish_fit(self, fit, model_bytes):
        """Install the model written from the reduced statistics; keep the fit's profile."""
        self._model = self._core_class.load_bytes(model_bytes, self._core_backend())
        self._dask_profile = fit.profile()
        self.n_partitions_ = fit.n_partitions
        self.n_rounds_ = fit.n_rounds
        fit.release()

    @property
    def profile_(self):
        profile = self.__dict__.get("_dask_profile")
        if profile is None:
            raise AttributeError(f"{type(self).__name__} has no profile_ before fit")
        return profile

    def to_local(self):
        """The fitted single-machine estimator (an ordinary mlcore estimator, no client)."""
        return self._local_copy()

    def _local_copy(self):
        """The single-machine estimator with this one's parameters and fitted state, less
        what only the distributed one has (client, profile, lazy dask attributes)."""
        if "_model" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__} is not fitted: call fit first")
        state = self.__getstate__()
        for key in ("client", "_dask_profile", "n_partitions_", "n_rounds_"):
            state.pop(key, None)
        for key in [k for k, v in state.items() if isinstance(v, da.Array)]:
            del state[key]
        local = self._local_class.__new__(self._local_class)
        local.__setstate__(state)
        return local

    def __getstate__(self):
        state = super().__getstate__()
        state["client"] = None  # a connection does not travel; pickles use the current one
        return state

    def _map_rows(self, method, X, n_cols=None, dtype=np.float64):
        """``method`` of the local estimator over X's row chunks (lazy dask array), or on a
        numpy X directly. n_cols: None for a 1-D result, else the result's column count."""
        if not isinstance(X, da.Array) and not hasattr(X, "to_dask_array"):
            return getattr(super(), method)(X)
        X = as_rows(X, "X", type(self).__name__)
        local = self._local_copy()
        names = getattr(local, "feature_names_in_", None)

        def block(x):
            if names is not None:  # fitted on a DataFrame: give the columns their names
                import pandas as pd

                x = pd.DataFrame(x, columns=names)
            return getattr(local, method)(x)

        if n_cols is None:
            return X.map_blocks(block, drop_axis=1, dtype=dtype, meta=np.empty((0,), dtype))
        return X.map_blocks(
            block, chunks=(X.chunks[0], (n_cols,)), dtype=dtype, meta=np.empty((0, 0), dtype)
        )


def check_fit_inputs(estimator, X, y=None, *, y_ndim=(1,)):
    """The X (and y) of a distributed fit as dask arrays with the same row chunks; sets
    n_features_in_ (and feature_names_in_ for a DataFrame with string columns) as
    scikit-learn's validate_data does."""
    name = type(estimator).__name__
    columns = getattr(X, "columns", None)
    X = as_rows(X, "X", name)
    estimator.n_features_in_ = int(X.shape[1])
    if columns is not None and all(isinstance(c, str) for c in columns):
        estimator.feature_names_in_ = np.asarray(list(columns), dtype=object)
    else:
        estimator.__dict__.pop("feature_names_in_", None)
    if y is None:
        return X, None
    y = as_rows(y, "y", name, ndim=y_ndim)
    return X, align_rows(X, y)


def class_weight_vector(class_weight, classes, counts):
    """Per-class weights from the class counts reduced across partitions, scikit-learn's
    rules: None (all 1), "balanced" (n / (K · count)) or a {label: weight} dict."""
    cw = class_weight
    if cw is None:
        return np.ones(len(classes))
    if isinstance(cw, str) and cw == "balanced":
        return np.divide(
            counts.sum(), len(classes) * counts, out=np.zeros(len(classes)), where=counts > 0
        )
    if isinstance(cw, dict):
        missing = [c for c in cw if c not in set(classes.tolist())]
        if missing:
            raise ValueError(f"The classes, {missing}, are not in class")
        return np.array([float(cw.get(c, 1.0)) for c in classes.tolist()])
    raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {cw!r}")
