"""mlcore.dask as a library: inputs, errors, the fitted object (to_local, pickle, clone), the
profile's records and the communication cost model, and a real scheduler with two worker
processes started from the command line."""

import os
import pathlib
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.base import clone

import dask.array as da
import dask.dataframe as dd
import pandas as pd

import mlcore
import mlcore.dask as md
from mlcore.dask import cost_model


def _xy(rng, n=1000, d=4):
    X = rng.normal(size=(n, d)).astype(np.float32)
    return X, X @ np.arange(1, d + 1, dtype=np.float32) + 1.0


def test_numpy_input_is_refused_with_what_to_pass(dask_client, rng):
    X, y = _xy(rng)
    with pytest.raises(TypeError, match=r"X must be a dask\.array\.Array.*from_array"):
        md.LinearRegression().fit(X, da.from_array(y))
    with pytest.raises(TypeError, match=r"y must be a dask\.array\.Array"):
        md.LinearRegression().fit(da.from_array(X), list(y))


def test_mismatched_chunks_are_rechunked_and_lengths_checked(dask_client, rng):
    X, y = _xy(rng)
    Xd = da.from_array(X, chunks=(300, 2))  # column chunks too: joined into whole rows
    yd = da.from_array(y, chunks=170)
    est = md.LinearRegression().fit(Xd, yd)
    np.testing.assert_allclose(est.coef_, mlcore.LinearRegression().fit(X, y).coef_, atol=1e-4)
    with pytest.raises(ValueError, match="X has 1000 rows but y has 999"):
        md.LinearRegression().fit(Xd, yd[:-1])
    with pytest.raises(ValueError, match="2 dimension"):
        md.PCA().fit(da.from_array(y, chunks=100))


def test_client_argument(dask_client, rng):
    X, y = _xy(rng, n=200)
    est = md.Ridge(alpha=2.0, client=dask_client).fit(
        da.from_array(X, chunks=(100, 4)), da.from_array(y, chunks=100)
    )
    assert est.client is dask_client
    with pytest.raises(TypeError, match="client must be a distributed.Client"):
        md.Ridge(client="tcp://127.0.0.1:8786").fit(da.from_array(X), da.from_array(y))


def test_dask_dataframe_input(dask_client, rng):
    X, y = _xy(rng, n=600)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    ddf = dd.from_pandas(frame, npartitions=3)
    est = md.LinearRegression().fit(ddf, dd.from_pandas(pd.Series(y), npartitions=3))
    np.testing.assert_array_equal(est.feature_names_in_, ["a", "b", "c", "d"])
    np.testing.assert_allclose(est.predict(frame), est.predict(ddf).compute(), rtol=1e-6)


def test_the_fitted_object_is_a_single_machine_estimator(dask_client, rng):
    X, y = _xy(rng)
    est = md.LogisticRegression(C=0.3).fit(
        da.from_array(X, chunks=(400, 4)), da.from_array(y > 1, chunks=400)
    )
    local = est.to_local()
    assert type(local) is mlcore.LogisticRegression
    assert local.get_params() == {
        k: v for k, v in est.get_params().items() if k not in ("client", "parallel")
    }
    np.testing.assert_array_equal(local.predict(X), est.predict(X))
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(again.predict_proba(X), est.predict_proba(X))
    local.predict(X[:10])  # the local model's own records, on its own backend
    assert local.profile_ and all(r["backend"] == mlcore.default_backend() for r in local.profile_)
    assert {r["m"] for r in local.profile_ if r["op"] in ("gemv", "gemm")} == {10}
    params = clone(est).get_params()
    assert params["C"] == 0.3 and params["parallel"] == "data" and params["client"] is None
    assert "client" in md.KMeans().get_params()


def test_profile_has_worker_records_and_rounds(dask_client, rng):
    X, y = _xy(rng, n=1200)
    est = md.LinearRegression().fit(da.from_array(X, chunks=(300, 4)), da.from_array(y, chunks=300))
    workers = {
        r["worker"] for r in est.profile_ if r["op"] not in ("broadcast", "reduce", "partitions")
    }
    assert len(workers) == 2 and all(w.startswith("tcp://") for w in workers)
    assert {r["partition"] for r in est.profile_ if r["op"] == "gemm"} == {0, 1, 2, 3}
    reduce = [r for r in est.profile_ if r["op"] == "reduce"]
    assert len(reduce) == 1 and reduce[0]["messages"] == 4
    # One partition's partial: weight, 5 means and the 5 × 5 scatter matrix in float64.
    assert 4 * (1 + 5 + 25) * 8 <= reduce[0]["comm_bytes"] < 4 * (1 + 5 + 25) * 8 + 4 * 400
    s = cost_model.summary(est.profile_)
    assert s["rounds"] == est.n_rounds_ == 1 and s["bytes_reduced"] == reduce[0]["comm_bytes"]
    assert set(s["compute_seconds_per_worker"]) == workers
    assert s["comm_seconds"] >= 0 and s["compute_seconds"] > 0


def test_ring_allreduce_cost_model():
    link = cost_model.Link("test", 1e9, 1e-6, "none")
    # p = 4: 6 steps, each worker sends 2·3/4 of the message.
    assert cost_model.ring_allreduce_seconds(1e9, 4, link) == pytest.approx(6e-6 + 1.5)
    assert cost_model.ring_allreduce_seconds(123, 1, link) == 0.0
    big = [{"op": "reduce", "comm_bytes": 8 * 2**20 * 4, "messages": 4, "seconds": 0.1, "round": 1}]
    est = {e["link"]: e["estimated_seconds"] for e in cost_model.estimate(big, 4)}
    names = [
        cost_model.LINKS[k].name
        for k in ("nvlink4", "pcie5_x16", "infiniband_ndr", "ethernet_100g")
    ]
    times = [est[n] for n in names]
    assert times == sorted(times)  # NVLink < PCIe 5 < NDR InfiniBand < 100 GbE for 8 MiB
    assert all(link.source for link in cost_model.LINKS.values())
    with pytest.raises(ValueError):
        cost_model.ring_allreduce_seconds(1, 0, "nvlink4")


@pytest.fixture
def cli_cluster(tmp_path):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, always cleaned up."""
    env = dict(os.environ)
    package_parent = str(pathlib.Path(mlcore.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(
        [package_parent] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    file = tmp_path / "scheduler.json"
    procs = []

    def start(*args):
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "dask", *args],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )

    try:
        start(
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(file),
        )
        deadline = time.monotonic() + 60
        while not file.exists():
            assert time.monotonic() < deadline, "the dask scheduler did not start in 60 s"
            assert procs[0].poll() is None, "the dask scheduler exited"
            time.sleep(0.2)
        for _ in range(2):
            start(
                "worker",
                "--scheduler-file",
                str(file),
                "--nthreads",
                "1",
                "--nworkers",
                "1",
                "--host",
                "127.0.0.1",
                "--no-dashboard",
            )
        yield file
    finally:
        # Each process leads its own session (a worker's nanny has a child process): stop the
        # whole group, politely first, and make sure nothing of it is left.
        for p in reversed(procs):
            _signal_group(p, signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            _signal_group(p, signal.SIGKILL)
            p.wait(timeout=10)


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def test_real_scheduler_and_workers_by_address(cli_cluster, rng):
    import json

    from distributed import Client

    address = json.loads(cli_cluster.read_text())["address"]
    assert address.startswith("tcp://127.0.0.1:")
    with Client(address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)
        X, y = _xy(rng, n=900)
        est = md.LinearRegression(client=client).fit(
            da.from_array(X, chunks=(300, 4)), da.from_array(y, chunks=300)
        )
        np.testing.assert_allclose(est.coef_, mlcore.LinearRegression().fit(X, y).coef_, atol=1e-4)
        workers = {r["worker"] for r in est.profile_ if r["op"] == "gemm"}
        assert len(workers) == 2
