"""Shared pytest fixtures: the backends a test runs on, and what a missing backend means.

A test that needs one backend is marked ``@pytest.mark.backend("avx512")``: where that backend
cannot run it is skipped with the registry's reason (``mlcore.backend_info()``) — unless the
environment variable ``MLCORE_REQUIRE`` (comma-separated names, e.g. ``avx512,cuda``; the older
``MLCORE_REQUIRE_CUDA=1`` means cuda) lists it, and then it fails: on the project's own machines a
silent skip cannot pass. Tests parameterised over ``AVAILABLE`` run on every backend the machine
has, found by asking, never by a list of names.
"""

import os

import numpy as np
import pytest

import mlcore

AVAILABLE = mlcore.available_backends()
# name -> Backend.capabilities: tests ask what a backend is, never compare its name.
CAPABILITIES = {b: mlcore.backend(b).capabilities for b in AVAILABLE}


def quantized(name: str) -> bool:
    """True where f32 operands are quantized to int8 (the systolic array, an int8 matrix engine):
    results carry quantization error and are compared at int8 tolerances."""
    return not CAPABILITIES[name]["exact_f32"]


def simulated(name: str) -> bool:
    """True where the profile's seconds come from a hardware model, not a clock."""
    return CAPABILITIES[name]["simulated_time"]


# Backends whose f32 arithmetic is IEEE f32, for tight comparisons with a float64 reference.
F32_BACKENDS = [b for b in AVAILABLE if not quantized(b)]
# name -> why it cannot run here ("" when it can).
REASONS = {b["name"]: b["reason"] for b in mlcore.backend_info()}


def required_backends() -> list:
    """The backends MLCORE_REQUIRE says this machine must run."""
    names = [n.strip() for n in os.environ.get("MLCORE_REQUIRE", "").split(",") if n.strip()]
    if os.environ.get("MLCORE_REQUIRE_CUDA"):
        names.append("cuda")
    return names


REQUIRED = required_backends()


def unavailable_reason(name: str) -> str:
    """Empty when backend `name` runs here, otherwise why not."""
    return REASONS.get(name, f"unknown backend {name!r}")


def skip_unless_backend(name: str) -> None:
    """Inside a test: skip (with the reason) when `name` cannot run here, or fail when
    MLCORE_REQUIRE lists it."""
    why = unavailable_reason(name)
    if why:
        if name in REQUIRED:
            pytest.fail(f"MLCORE_REQUIRE lists {name} but it cannot run here: {why}", pytrace=False)
        pytest.skip(f"backend {name} is not available: {why}")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "backend(name): the test needs backend `name`; skipped with the reason where "
        "it is absent, failed instead when MLCORE_REQUIRE lists it",
    )


def pytest_runtest_setup(item):
    for mark in item.iter_markers(name="backend"):
        skip_unless_backend(mark.args[0])


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def dask_client():
    """A real Dask cluster on this machine for the mlcore.dask tests: a LocalCluster of two
    worker processes with one thread each (started once, shared by the test_dask_* modules)."""
    import logging

    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def pytest_report_header(config):
    info = ", ".join(
        f"{b['name']}={'yes' if b['available'] else 'no'}" for b in mlcore.backend_info()
    )
    required = f"; MLCORE_REQUIRE: {', '.join(REQUIRED)}" if REQUIRED else ""
    return (
        f"mlcore {mlcore.__version__} backends: {info}; "
        f"default: {mlcore.default_backend()}{required}"
    )
