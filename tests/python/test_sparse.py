"""scipy.sparse input (mlcore/_sparse.py, Backend::spmm): each estimator that accepts it fits and
predicts the same on a sparse matrix as on the dense array it stands for, on every backend;
the user's matrix is never modified; estimators that refuse sparse X (as scikit-learn's do)
raise its TypeError; the spmm primitive matches numpy.

Tolerances. f32 backends: the sparse and dense paths sum the same products in another order
(the dense path may also centre or scale X first), so fitted parameters agree to ~1e-5
relative. Systolic: the sparse path's products are int8 (per-row / per-column scales) where the
dense path may use the vector unit (naive Bayes counts) or a scaled copy of X, so parameters
agree to the int8 step (~1e-2 relative) and predicted labels on ≥ 95 % of the samples.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import AVAILABLE, quantized, simulated

import mlcore

FORMATS = ["csr", "csc", "coo"]


def _sparse(n, d, density, seed, fmt="csr", counts=False):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, random_state=rng, format="csr", dtype=np.float64)
    if counts:
        X.data = np.floor(X.data * 5) + 1
    keep = np.ones(n)
    keep[n // 3] = 0  # an empty row
    X = sp.diags(keep) @ X
    X.eliminate_zeros()
    return X.asformat(fmt)


def _close(a, b, backend, rtol_f32=1e-5, rtol_int8=2e-2):
    scale = max(np.abs(b).max(), 1e-12)
    tol = rtol_int8 if quantized(backend) else rtol_f32
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("density", [0.0, 0.01, 0.3, 1.0])
@pytest.mark.parametrize("trans", [False, True])
def test_spmm_primitive_matches_numpy(backend, density, trans):
    A = _sparse(37, 29, density, 1)
    rng = np.random.default_rng(2)
    B = rng.normal(size=(37 if trans else 29, 5)).astype(np.float32)
    C0 = rng.normal(size=(29 if trans else 37, 5)).astype(np.float32)
    got = mlcore.spmm(A, B, trans_a=trans, alpha=1.5, c=C0, beta=0.5, backend=backend)
    dense = A.toarray()
    want = 1.5 * (dense.T if trans else dense) @ B + 0.5 * C0
    _close(got, want, backend)
    record = mlcore.last_profile()[-1]
    assert record["op"] == ("spmm_t" if trans else "spmm")
    assert record["macs"] == A.nnz * 5
    if simulated(backend):  # the systolic array's dense tiles: nnz·n useful MACs and the rest
        assert record["wasted_macs"] >= 0
    else:
        assert record["wasted_macs"] is None


def test_spmm_primitive_refuses_dense_and_bad_shapes():
    with pytest.raises(TypeError, match="scipy.sparse"):
        mlcore.spmm(np.ones((2, 2)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="inner dimensions"):
        mlcore.spmm(sp.eye(3, format="csr"), np.ones((4, 1)))


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("cls", [mlcore.LinearRegression, mlcore.Ridge])
def test_least_squares_sparse_equals_dense(backend, fmt, cls):
    X = _sparse(200, 23, 0.1, 3, fmt)
    rng = np.random.default_rng(4)
    y = X @ rng.normal(size=23) + 0.1 * rng.normal(size=200) + 3.0
    w = rng.uniform(0.5, 2.0, size=200)
    before = X.copy()
    for sample_weight in (None, w):
        s = cls(backend=backend).fit(X, y, sample_weight=sample_weight)
        d = cls(backend=backend).fit(X.toarray(), y, sample_weight=sample_weight)
        _close(s.coef_, d.coef_, backend)
        _close(np.atleast_1d(s.intercept_), np.atleast_1d(d.intercept_), backend)
        _close(s.predict(X), d.predict(X.toarray()), backend)
        # a model fitted on dense X predicts sparse X, and the other way round
        _close(d.predict(X), d.predict(X.toarray()), backend)
    assert (X != before).nnz == 0 and X.format == fmt  # the user's matrix is untouched
    s.fit(X, y)
    assert "spmm_t" in {r["op"] for r in s.profile_}
    # Only stored entries were multiplied: nnz·d for the Gram, nnz for Xᵀy and Xᵀw, n for wᵀy
    # (not the dense Gram's n·d²).
    assert sum(r["macs"] for r in s.profile_) <= X.nnz * (23 + 2) + 200 < 200 * 23 * 23


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("fmt", FORMATS)
def test_multinomial_nb_sparse_equals_dense(backend, fmt):
    X = _sparse(300, 40, 0.05, 5, fmt, counts=True)
    y = np.random.default_rng(6).integers(0, 3, size=300)
    s = mlcore.MultinomialNB(backend=backend).fit(X, y)
    d = mlcore.MultinomialNB(backend=backend).fit(X.toarray(), y)
    _close(s.feature_count_, d.feature_count_, backend)
    if quantized(backend):
        agree = (s.predict(X) == d.predict(X.toarray())).mean()
        assert agree >= 0.95, agree
    else:
        _close(s.predict_joint_log_proba(X), d.predict_joint_log_proba(X.toarray()), backend)
        np.testing.assert_array_equal(s.predict(X), d.predict(X.toarray()))
    assert "spmm_t" in {r["op"] for r in s.fit(X, y).profile_}


def test_multinomial_nb_sparse_negative_values_refused():
    X = sp.csr_matrix(np.array([[1.0, -1.0], [0.0, 2.0]]))
    with pytest.raises(ValueError, match="Negative values"):
        mlcore.MultinomialNB().fit(X, [0, 1])


def test_sparse_nan_is_refused_with_the_argument_named():
    X = sp.csr_matrix(np.array([[1.0, np.nan], [0.0, 2.0]]))
    with pytest.raises(ValueError, match="X"):
        mlcore.Ridge().fit(X, [0.0, 1.0])


def test_unsorted_indices_are_sorted_on_a_copy():
    # Row 0 stores its columns in the order 2, 0: mlcore sorts a copy, the user's stays as is.
    X = sp.csr_matrix(
        (np.array([3.0, 1.0, 2.0]), np.array([2, 0, 1]), np.array([0, 2, 3])), shape=(2, 3)
    )
    assert not X.has_sorted_indices
    indices = X.indices.copy()
    m = mlcore.LinearRegression().fit(X, [1.0, 2.0])
    np.testing.assert_array_equal(X.indices, indices)
    _close(
        m.predict(X),
        mlcore.LinearRegression().fit(X.toarray(), [1.0, 2.0]).predict(X.toarray()),
        "scalar",
    )


def test_gaussian_nb_refuses_sparse_as_scikit_learn():
    X = sp.random(10, 3, density=0.5, format="csr", random_state=0)
    with pytest.raises(TypeError, match="Sparse data was passed for X, but dense data is required"):
        mlcore.GaussianNB().fit(X, np.arange(10) % 2)


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_logistic_regression_sparse_equals_dense(backend, n_classes):
    X = _sparse(300, 30, 0.1, 7)
    rng = np.random.default_rng(8)
    y = rng.integers(0, n_classes, size=300)
    s = mlcore.LogisticRegression(backend=backend).fit(X, y)
    d = mlcore.LogisticRegression(backend=backend).fit(X.toarray(), y)
    # Same objective, same L-BFGS: the weights agree to the solver's tolerance (gtol 1e-4 on
    # a gradient of O(1)) in f32, to the int8 step on the systolic array.
    _close(s.coef_, d.coef_, backend, rtol_f32=1e-3, rtol_int8=5e-2)
    _close(s.predict_proba(X), d.predict_proba(X.toarray()), backend, 1e-3, 5e-2)
    agree = (s.predict(X) == d.predict(X.toarray())).mean()
    assert agree >= (0.95 if quantized(backend) else 0.99), agree
    assert "spmm_t" in {r["op"] for r in s.fit(X, y).profile_}


@pytest.mark.parametrize("backend", AVAILABLE)
def test_pca_sparse_equals_dense_covariance(backend):
    X = _sparse(250, 20, 0.2, 9)
    s = mlcore.PCA(n_components=4, backend=backend).fit(X)
    d = mlcore.PCA(n_components=4, backend=backend).fit(X.toarray())
    _close(s.mean_, d.mean_, backend)
    _close(s.explained_variance_, d.explained_variance_, backend, 1e-4, 5e-2)
    # Components up to sign: |cos| between matching components near 1.
    cos = np.abs(np.sum(s.components_ * d.components_, axis=1))
    assert (cos > (0.95 if quantized(backend) else 0.999)).all(), cos
    zs, zd = np.abs(s.transform(X)), np.abs(d.transform(X.toarray()))
    _close(zs, zd, backend, 1e-3, 5e-2)
    _close(np.abs(s.fit_transform(X)), zs, backend, 1e-5, 5e-2)


def test_pca_sparse_follows_scikit_learns_solver_rules():
    X = _sparse(30, 8, 0.3, 10)
    with pytest.raises(TypeError, match='only support sparse inputs with the "arpack"'):
        mlcore.PCA(svd_solver="full").fit(X)
    # auto / arpack on sparse X keep min(n, d) − 1 components, covariance_eigh all of them
    assert mlcore.PCA().fit(X).n_components_ == 7
    assert mlcore.PCA(svd_solver="covariance_eigh").fit(X).n_components_ == 8


@pytest.mark.parametrize("backend", AVAILABLE)
@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_kmeans_sparse_equals_dense(backend, init):
    # Three groups of rows, each with its nonzeros in its own third of the columns (plus noise
    # everywhere): clusters a sparse k-means finds on every backend.
    X = _sparse(400, 24, 0.05, 11).tolil()
    rng = np.random.default_rng(13)
    for i in range(400):
        g = i % 3
        cols = rng.choice(8, size=3, replace=False) + 8 * g
        X[i, cols] = rng.uniform(1.0, 2.0, size=3)
    X = X.tocsr()
    w = np.random.default_rng(12).uniform(0.5, 2.0, size=400)
    kw = dict(n_clusters=3, init=init, n_init=2, random_state=0, backend=backend)
    s = mlcore.KMeans(**kw).fit(X, sample_weight=w)
    d = mlcore.KMeans(**kw).fit(X.toarray(), sample_weight=w)
    if quantized(backend):
        # int8 distances: k-means++ may draw other seeds from the int8 potentials, so compare
        # the partitions (up to the clusters' order) and their inertias
        from sklearn.metrics import adjusted_rand_score

        assert adjusted_rand_score(s.labels_, d.labels_) >= 0.5
        assert abs(s.inertia_ - d.inertia_) <= 0.05 * d.inertia_
    else:
        # f32: the same seeds, labels and centres (the dense path centres X, the sparse one
        # expands ‖x‖² − 2x·c + ‖c‖² on X as it is: the centres agree to f32 rounding)
        np.testing.assert_array_equal(s.labels_, d.labels_)
        _close(s.cluster_centers_, d.cluster_centers_, backend)
        _close(s.transform(X), d.transform(X.toarray()), backend, rtol_f32=1e-5)
        np.testing.assert_array_equal(s.predict(X), d.predict(X.toarray()))
        assert s.score(X) == pytest.approx(d.score(X.toarray()), rel=1e-5)
    ops = {r["op"] for r in s.fit(X).profile_}
    assert "spmm" in ops and "spmm_t" in ops and "sqdist" not in ops
