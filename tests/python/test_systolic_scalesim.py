"""The ``scalesim`` convention against SCALE-Sim itself, when SCALE-Sim can run here.

SCALE-Sim is optional (``pip install scalesim``); version 3.0.0 needs numpy < 2.4 (it converts
one-element arrays with int()). bench/scalesim_compare.py runs the larger comparison recorded in
bench/RESULTS.md.
"""

import importlib.util
import os
import sys

import pytest

import mlcore

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))


def _scalesim_problem():
    if importlib.util.find_spec("scalesim") is None:
        return "scalesim is not installed (pip install scalesim)"
    import scalesim_compare

    try:
        scalesim_compare.run_scalesim(4, 4, "ws", 1, 1, 1)
    except Exception as e:  # e.g. numpy >= 2.4: "only 0-dimensional arrays can be converted"
        return f"scalesim cannot run here: {type(e).__name__}: {e}"
    return None


PROBLEM = _scalesim_problem()

CASES = [
    (4, 4, 1, 1, 1),
    (8, 8, 20, 12, 10),
    (4, 8, 7, 13, 5),
    (8, 4, 30, 3, 17),
    (3, 5, 11, 7, 13),
    (16, 16, 5, 40, 33),
]


@pytest.mark.skipif(PROBLEM is not None, reason=PROBLEM or "")
@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
@pytest.mark.parametrize("rows,cols,m,n,k", CASES)
def test_compute_cycles_match_scalesim(dataflow, rows, cols, m, n, k):
    import scalesim_compare

    total, stall, _ = scalesim_compare.run_scalesim(rows, cols, dataflow, m, n, k)
    ours = mlcore.systolic(rows=rows, cols=cols, dataflow=dataflow, convention="scalesim")
    assert ours.cycles(m, n, k)["compute_cycles"] == total - stall
