"""mlcore.dask LinearSVC (the single-machine primal Newton method on reduced sums) and SVC (the
cascade SVM).

LinearSVC: the loss, gradient and Hessian are summed per partition (float32 GEMV/GEMM) and then
across partitions, so the iterations are the single machine's (dual=False) and the coefficients
agree to float32 rounding amplified by the Newton solve: 5e-4 of the largest coefficient, the
same number of iterations, the same predictions.
"""

import numpy as np
import pytest
from sklearn.datasets import make_classification

import dask.array as da

import mlcore
import mlcore.dask as md


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_linear_svc_equals_the_single_machine_primal_fit(dask_client, rng, n_classes,
                                                         weighted):
    X, y = make_classification(n_samples=2501, n_features=7, n_informative=5,
                               n_classes=n_classes, random_state=1)
    X = X.astype(np.float32)
    w = rng.random(len(X)) * 2 if weighted else None
    dist = md.LinearSVC(C=0.5, class_weight="balanced").fit(
        da.from_array(X, chunks=(900, 7)), da.from_array(y, chunks=900),
        sample_weight=None if w is None else da.from_array(w, chunks=600))
    one = mlcore.LinearSVC(C=0.5, class_weight="balanced", dual=False).fit(X, y,
                                                                            sample_weight=w)
    assert dist.n_iter_ == one.n_iter_
    scale = np.abs(one.coef_).max()
    np.testing.assert_allclose(dist.coef_, one.coef_, atol=5e-4 * scale)
    np.testing.assert_allclose(dist.intercept_, one.intercept_, atol=5e-4 * scale)
    np.testing.assert_array_equal(dist.class_weight_, one.class_weight_)
    local = dist.to_local()
    assert type(local) is mlcore.LinearSVC
    assert np.mean(local.predict(X) == one.predict(X)) > 0.998
    names = {r["op"] for r in dist.profile_}
    assert {"gemv", "gemm", "reduce", "broadcast"} <= names


def test_linear_svc_refuses_the_dual(dask_client):
    X = da.zeros((10, 2), chunks=5)
    y = da.from_array(np.arange(10) % 2, chunks=5)
    with pytest.raises(ValueError, match="primal.*sequential|does not split"):
        md.LinearSVC(loss="hinge").fit(X, y)
