"""Shared pytest fixtures: the backends a test runs on."""

import numpy as np
import pytest

import mlcore

AVAILABLE = mlcore.available_backends()
# Backends whose f32 arithmetic is IEEE f32 (the systolic array quantizes to int8).
F32_BACKENDS = [b for b in AVAILABLE if b != "systolic"]


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def dask_client():
    """A real Dask cluster on this machine for the mlcore.dask tests: a LocalCluster of two
    worker processes with one thread each (started once, shared by the test_dask_* modules)."""
    import logging

    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=logging.ERROR)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def pytest_report_header(config):
    info = ", ".join(f"{b['name']}={'yes' if b['available'] else 'no'}"
                     for b in mlcore.backend_info())
    return f"mlcore {mlcore.__version__} backends: {info}"
