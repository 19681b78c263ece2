"""Executes every teaching notebook (notebooks/*.ipynb) in quick mode and fails on any cell error.

Each notebook reads ``MLCORE_QUICK=1`` and shrinks its sizes, so all of them run in a few
minutes on a 2-core machine. The kernel is this interpreter (a kernel spec written into a
temporary folder, so a python3 kernel registered for another Python cannot be picked up), and it
imports the same ``mlcore`` as the tests (its folder is put first on PYTHONPATH).

Notebooks are never skipped: a missing nbclient / nbformat / ipykernel is a collection error,
and a notebook missing from the expected list fails ``test_every_notebook_is_there``.

``test_book_builds`` (last) builds the lessons book with scripts/book.sh from the notebooks that
the tests above executed (or, run alone, executes them itself in quick mode) and checks that it
builds without a Sphinx warning and that every internal link resolves.
"""

import json
import os
import pathlib
import subprocess
import sys
import time

import ipykernel  # noqa: F401  (the kernel the notebooks run in; imported so that a missing one fails here)
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

import mlcore

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = [
    "01_macs_behind_ml.ipynb",
    "02_linear_models.ipynb",
    "03_distance_methods.ipynb",
    "04_trees_and_boosting.ipynb",
    "05_inside_the_systolic_array.ipynb",
    "06_cpu_gpu_tpu.ipynb",
    "07_beyond_one_machine.ipynb",
    "08_cpus_and_gpus.ipynb",
    "09_gpu_stack_and_sharing.ipynb",
]
CELL_TIMEOUT_S = 300
KERNEL_NAME = "mlcore-test-python"


def test_every_notebook_is_there():
    assert [p.name for p in NOTEBOOKS if p.name in EXPECTED] == EXPECTED, (
        f"expected notebooks {EXPECTED} in {NOTEBOOK_DIR}, found {[p.name for p in NOTEBOOKS]}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    with_outputs = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert not with_outputs, f"{path.name}: cells {with_outputs} have outputs; clear them"


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory):
    """A kernel spec that runs ipykernel on this interpreter."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / KERNEL_NAME
    spec.mkdir()
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "mlcore tests",
                "language": "python",
            }
        )
    )
    return root


@pytest.fixture(scope="session")
def executed_dir(tmp_path_factory):
    """Where test_notebook_executes leaves each executed notebook, for test_book_builds."""
    return tmp_path_factory.mktemp("executed")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, kernel_dir, tmp_path, monkeypatch, executed_dir):
    monkeypatch.setenv("MLCORE_QUICK", "1")
    package_parent = str(pathlib.Path(mlcore.__file__).resolve().parents[1])
    monkeypatch.setenv(
        "PYTHONPATH",
        os.pathsep.join(
            [package_parent] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        ),
    )
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend draws figures

    nb = nbformat.read(path, as_version=4)
    km = KernelManager(
        kernel_name=KERNEL_NAME,
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dir)]),
    )
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT_S,
        allow_errors=False,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on an error
    elapsed = time.perf_counter() - start
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    nbformat.write(nb, executed_dir / path.name)
    print(f"{path.name}: {elapsed:.1f} s")


def test_wavefront_plot_draws_the_trace():
    """mlcore.plot.wavefront (drawn by notebook 05): one frame per cycle, or an animation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.animation import FuncAnimation

    import mlcore.plot

    rng = np.random.default_rng(0)
    a = rng.integers(-3, 4, size=(6, 4)).astype(np.int8)
    b = rng.integers(-3, 4, size=(4, 4)).astype(np.int8)
    trace = mlcore.systolic(rows=4, cols=4, dataflow="ws").trace(a, b)
    fig = mlcore.plot.wavefront(trace, ncols=8)
    frames = [ax for ax in fig.axes if ax.axison]
    assert len(frames) == trace["cycles"] == 16  # 2R + M + N - 2 for one ws fold
    # every busy PE is labelled with its operand x weight and partial sum
    assert sum(len(ax.texts) for ax in frames) == int(trace["busy"].sum()) == 6 * 4 * 4
    plt.close(fig)
    anim = mlcore.plot.wavefront(trace, animate=True, cycles=[4, 5])
    assert isinstance(anim, FuncAnimation)
    assert "<script" in anim.to_jshtml()  # renders the two frames, as notebook 05 shows them
    with pytest.raises(ValueError):
        mlcore.plot.wavefront(trace, cycles=[trace["cycles"]])


def test_book_builds(executed_dir, tmp_path):
    """scripts/book.sh builds the HTML book (quick mode), warning-free, with every link resolving."""
    package_parent = str(pathlib.Path(mlcore.__file__).resolve().parents[1])
    env = dict(
        os.environ,
        PYTHON=sys.executable,
        PYTHONPATH=os.pathsep.join(
            [package_parent] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        ),
    )
    command = [str(ROOT / "scripts" / "book.sh"), "--quick", "--out", str(tmp_path / "book")]
    if all((executed_dir / p.name).exists() for p in NOTEBOOKS):
        command += ["--executed", str(executed_dir)]  # render what the tests above executed
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:]
    html = tmp_path / "book" / "html"
    pages = {p.relative_to(html).as_posix() for p in html.rglob("*.html")}
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.stem}.html" in pages, (
            f"{nb.name} is not in the book: {sorted(pages)}"
        )
    for doc in sorted((ROOT / "docs").glob("*.md")):
        assert f"docs/{doc.stem}.html" in pages, f"{doc.name} is not in the book"
    assert "all resolve" in result.stdout
