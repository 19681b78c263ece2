"""The backend comparison: the command line, the table it prints and writes, compare()."""

import csv
import json

import numpy as np
import pytest

import mlcore
import mlcore.compare as cmp
from conftest import AVAILABLE, simulated

# The cheapest families that exist in this build (every family is expected to exist).
PRESENT = [a for a in cmp.ALGORITHMS if hasattr(mlcore, a.estimator)]


def test_every_algorithm_family_is_in_the_package():
    missing = [a.estimator for a in cmp.ALGORITHMS if not hasattr(mlcore, a.estimator)]
    assert not missing, f"the comparison names estimators mlcore lacks: {missing}"


def test_command_line_prints_the_table_and_writes_csv_json_png(tmp_path, capsys):
    spec = PRESENT[0]
    rc = cmp.main(
        ["--algorithms", spec.key, "--backends", *AVAILABLE, "--quiet", "--out", str(tmp_path)]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert spec.title in out and "vs scalar" in out
    for b in AVAILABLE:
        assert b in out
    with open(tmp_path / "comparison.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["backend"] for r in rows] == AVAILABLE
    data = json.loads((tmp_path / "comparison.json").read_text())
    assert len(data) == len(AVAILABLE)
    for r in data:
        assert r["macs"] > 0 and r["bytes"] > 0 and r["fit_s"] > 0
        assert r["time_is"] == ("simulated" if simulated(r["backend"]) else "measured")
        if r["backend"] == "scalar":
            assert r["score_delta"] == 0.0
    assert (tmp_path / "comparison.png").stat().st_size > 10_000
    assert (tmp_path / "roofline.png").stat().st_size > 10_000


def test_compare_function_runs_one_estimator_on_each_backend():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    spec = next(a for a in PRESENT if a.task == "classification")
    table = mlcore.compare(
        getattr(mlcore, spec.estimator)(**spec.params), X, y, backends=["scalar"]
    )
    rows = table.to_dict("records") if hasattr(table, "to_dict") else table
    assert len(rows) == 1
    assert rows[0]["backend"] == "scalar" and 0.5 < rows[0]["score"] <= 1.0
    assert rows[0]["profile"]["fit"], "the fit's primitive records are kept"


def test_bad_arguments_are_refused_with_a_message(capsys):
    with pytest.raises(SystemExit):
        cmp.main(["--backends", "tpu9000"])
    assert "not available here" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cmp.main(["--algorithms", "nope"])
    with pytest.raises(ValueError, match="unknown algorithm"):
        cmp.run(["nope"])


def test_synthetic_data_has_the_requested_size():
    X_train, X_test, y_train, y_test = cmp.load_data("classification", n_samples=400)
    assert len(X_train) + len(X_test) == 400
    assert X_train.dtype == np.float32
