"""The same input gets the same kind of outcome on every backend, and an error names what the
user passed and what to do.

Non-finite values reach the MAC primitives from degenerate fits (1/variance of a one-sample
class, overflowed squares); the systolic array, which cannot code them in int8, must give the
NaN / ±inf outputs that IEEE f32 gives on the other backends (issue 17, item 3), never an
error about its internal operands. Values too large for float32 arithmetic are an error naming
X on every backend, not a silently zero model. (The primitives' handling of NaN and ±inf on
the array is tested in tests/cpp/systolic/test_systolic.cpp: the Python primitives reject
non-finite arrays before they reach a backend.)"""

import numpy as np
import pytest
from sklearn.naive_bayes import GaussianNB as SkGaussianNB

import mlcore
from conftest import AVAILABLE


def _one_sample_class(rng):
    X = rng.normal(size=(20, 3))
    y = np.r_[np.zeros(10), np.ones(9), 2].astype(int)
    return X, y


def test_gaussian_nb_zero_variance_class_gives_nan_probabilities_on_every_backend(rng):
    # var_smoothing=0 and a class with one sample: its variance is 0, 1/var is inf, and the
    # probabilities are NaN, as scikit-learn's are (the systolic backend raised about its
    # internal operand "B" here).
    X, y = _one_sample_class(rng)
    with np.errstate(all="ignore"):
        want = SkGaussianNB(var_smoothing=0).fit(X, y).predict_proba(X)
    assert np.isnan(want).any()
    for backend in AVAILABLE:
        got = mlcore.GaussianNB(var_smoothing=0, backend=backend).fit(X, y).predict_proba(X)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=backend)


HUGE_X_ESTIMATORS = [
    lambda b: mlcore.LinearRegression(backend=b),
    lambda b: mlcore.Ridge(backend=b),
    lambda b: mlcore.LogisticRegression(backend=b),
    lambda b: mlcore.GaussianNB(backend=b),
    lambda b: mlcore.PCA(n_components=2, backend=b),
    lambda b: mlcore.LinearSVC(backend=b),  # primal Newton (n >= d)
    lambda b: mlcore.LinearSVC(loss="hinge", backend=b),  # dual coordinate descent
]


@pytest.mark.parametrize(
    "make",
    HUGE_X_ESTIMATORS,
    ids=["linreg", "ridge", "logistic", "gnb", "pca", "linsvc", "linsvc_dual"],
)
def test_values_too_large_for_float32_are_an_error_naming_x_on_every_backend(make, rng):
    # |x| = 1e30: finite in float32, but x² is not. Every backend raised nothing and fitted a
    # zero model (scalar, avx2) or raised about "(X - mean)^2" (systolic).
    X = rng.normal(size=(30, 3)) * 1e30
    y = (X[:, 0] > 0).astype(int)
    for backend in AVAILABLE:
        with pytest.raises(ValueError, match=r"X's values are too large for float32.*Rescale X"):
            make(backend).fit(X, y)


@pytest.mark.parametrize("backend", AVAILABLE)
def test_pca_score_on_singular_data_says_why(backend, rng):
    x = rng.normal(size=(40, 1))
    X = np.hstack([x, 2 * x, -x])  # rank 1: every component kept, noise_variance_ = 0
    pca = mlcore.PCA(backend=backend).fit(X)
    with pytest.raises(ValueError, match="covariance .* is singular.*noise_variance_"):
        pca.score(X)


def test_svc_with_a_gamma_beyond_float32_is_an_error_not_a_crash(rng):
    # Found by the fuzz suite: subnormal X made gamma='scale' = 1/(d·var) ≈ 6e80, inf in the
    # float32 kernel, K(x, x) = NaN, NaN dual coefficients — and a write before the support
    # vectors' array (a crash). Now: an error naming X, on every backend; likewise a gamma
    # given beyond float32's range.
    X = rng.normal(size=(4, 2)) * 1e-40
    y = [0, 1, 0, 1]
    for backend in AVAILABLE:
        with pytest.raises(ValueError, match=r"gamma='scale' .* X's values are too small"):
            mlcore.SVC(backend=backend).fit(X, y)
        with pytest.raises(ValueError, match="gamma must be at most"):
            mlcore.SVC(gamma=1e300, backend=backend).fit(rng.normal(size=(4, 2)), y)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (13, 17), (4096, 1), (3, 4099), (97, 101)])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_the_input_check_names_the_first_non_finite_entry(shape, bad, rng):
    # check_finite's fast path (a vectorised bit test per 4096-element block, _core.
    # first_non_finite) against numpy's own isfinite: the first bad entry in C order, wherever
    # it falls relative to the blocks, and none in an array of finite extremes.
    from mlcore._validation import check_finite

    X = rng.normal(size=shape).astype(np.float32)
    X.flat[0] = np.finfo(np.float32).max
    X.flat[-1] = -np.finfo(np.float32).max
    check_finite(X, "X")
    size = X.size
    for flat in sorted({0, size // 2, size - 1, min(size - 1, 4095), min(size - 1, 4096)}):
        Y = X.copy()
        Y.flat[flat] = bad
        Y.flat[min(size - 1, flat + 1)] = bad  # a later one must not be the one named
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(Y))[0])
        with pytest.raises(
            ValueError,
            match=rf"X contains NaN or infinity \(first at index \({where[0]}, {where[1]}\)",
        ):
            check_finite(Y, "X")
        # A non-contiguous view takes numpy's path and names the same entry of the view.
        Z = np.asfortranarray(Y)
        with pytest.raises(ValueError, match=rf"first at index \({where[0]}, {where[1]}\)"):
            check_finite(Z, "X")
