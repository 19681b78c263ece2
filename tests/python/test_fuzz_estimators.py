"""Property-based fuzzing of every estimator's fit / predict with hostile inputs (issue 17,
item 6): shapes 0 / 1 / huge aspect, dtypes (float16 … complex, bool, strings), NaN / ±inf /
subnormal / 1e30 values, non-contiguous, Fortran-ordered and read-only arrays, lists, pandas,
scipy.sparse, string labels, a class per sample, and extreme or ill-typed hyperparameters.

Each example runs in a spawned worker process (fuzz_isolation.py) on every available backend and
must give, on each:
  * a result, or a ValueError / TypeError with a message — never another exception, a crash of
    the process, or a hang (a time limit);
  * its inputs unmodified;
  * the same kind of outcome (result, ValueError or TypeError) as on every other backend.

Hypothesis runs derandomized (a fixed sequence of examples, no example database) with a bounded
number of examples, so the suite is repeatable and takes about a minute on two cores."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import AVAILABLE
from fuzz_isolation import Isolated

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=int(__import__("os").environ.get("MLCORE_FUZZ_EXAMPLES", 60)),
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
TIMEOUT_S = 60  # one example, every backend; the slowest legitimate example takes ~2 s

# Each dimension of an example has benign and hostile choices. An example makes 0 to 3 of its
# dimensions hostile (mostly one), so that most examples get past input validation and fuzz
# the fitting and prediction code itself with one odd thing at a time (examples hostile in
# every dimension would only ever test the first check that fails).
DIMENSIONS = {
    "shape": (
        [(5, 3), (40, 3), (60, 2), (30, 5), (12, 1)],
        [(0, 3), (3, 0), (1, 1), (1, 4), (2, 2), (2, 300), (300, 1)],
    ),
    "values": (
        ["normal", "counts"],
        ["constant", "duplicates", "subnormal", "huge", "mixed_scale", "offset"],
    ),
    "special": ([None], ["nan", "inf", "-inf"]),
    "dtype": (
        ["float64", "float32"],
        ["float16", "int64", "int8", "uint8", "bool", "complex128", "str"],
    ),
    "layout": (["C", "F", "readonly", "list", "pandas", "strided"], ["sparse", "1d", "3d"]),
    "classes": (
        ["binary", "multiclass", "strings"],
        ["one_class", "every_sample_a_class", "float", "wrong_length", "column"],
    ),
    "targets": (["float"], ["binary", "float_nan", "huge", "wrong_length", "column", "strings"]),
    "label_layout": (["ndarray", "list", "pandas", "readonly"], ["ndarray"]),
    "params": ([False], [True]),
}

# Hostile hyperparameter values by the kind of parameter. "count" omits huge values for
# parameters that set an amount of work (n_estimators=10**9 is a legitimately long fit).
REAL = [0.0, -1.0, 1e-300, 1e300, math.nan, math.inf, -math.inf, "x", None, True]
COUNT = [0, -1, 1, 2, 1.5, math.nan, "3", None, True]
WORK = COUNT
CHOICE = ["bogus", None, 3, ""]

# name, kind (classifier / regressor / cluster / transformer), methods called after fit, and
# the hyperparameters fuzzed with their kind of hostile values.
ESTIMATORS = [
    (
        "KNeighborsClassifier",
        "classifier",
        ["predict", "predict_proba"],
        {"n_neighbors": COUNT + [10**9], "weights": CHOICE, "p": REAL, "batch_size": COUNT},
    ),
    (
        "KNeighborsRegressor",
        "regressor",
        ["predict"],
        {"n_neighbors": COUNT + [10**9], "weights": CHOICE, "p": REAL},
    ),
    (
        "KMeans",
        "cluster",
        ["predict", "transform", "score"],
        {
            "n_clusters": COUNT + [10**9],
            "max_iter": WORK,
            "tol": REAL,
            "n_init": WORK,
            "init": CHOICE,
            "random_state": COUNT,
        },
    ),
    (
        "SVC",
        "classifier",
        ["predict", "decision_function"],
        {
            "C": REAL,
            "gamma": REAL + CHOICE,
            "kernel": CHOICE,
            "degree": WORK,
            "tol": REAL,
            "coef0": REAL,
            "max_iter": WORK,
        },
    ),
    (
        "LinearSVC",
        "classifier",
        ["predict", "decision_function"],
        {"C": REAL, "tol": REAL, "max_iter": WORK, "loss": CHOICE, "intercept_scaling": REAL},
    ),
    (
        "DecisionTreeClassifier",
        "classifier",
        ["predict", "predict_proba"],
        {
            "max_depth": COUNT + [10**9],
            "min_samples_split": COUNT + [10**9],
            "min_samples_leaf": COUNT,
            "max_bins": COUNT + [10**9],
            "max_features": COUNT + CHOICE,
            "criterion": CHOICE,
        },
    ),
    (
        "DecisionTreeRegressor",
        "regressor",
        ["predict"],
        {
            "max_depth": COUNT,
            "min_samples_leaf": COUNT + [10**9],
            "max_bins": COUNT,
            "max_leaf_nodes": COUNT,
            "criterion": CHOICE + ["friedman_mse", "poisson"],
        },
    ),
    (
        "RandomForestClassifier",
        "classifier",
        ["predict", "predict_proba"],
        {
            "n_estimators": WORK,
            "max_depth": COUNT,
            "max_features": REAL + CHOICE,
            "bootstrap": CHOICE,
            "random_state": COUNT,
            "max_samples": COUNT + REAL + [10**9],
            "max_leaf_nodes": COUNT,
            "warm_start": CHOICE,
        },
    ),
    (
        "RandomForestRegressor",
        "regressor",
        ["predict"],
        {"n_estimators": WORK, "max_features": REAL, "min_samples_leaf": COUNT},
    ),
    (
        "GradientBoostingClassifier",
        "classifier",
        ["predict", "predict_proba"],
        {
            "max_iter": WORK,
            "learning_rate": REAL,
            "max_leaf_nodes": COUNT,
            "l2_regularization": REAL,
            "max_bins": COUNT,
            "early_stopping": CHOICE,
            "validation_fraction": REAL,
        },
    ),
    (
        "GradientBoostingRegressor",
        "regressor",
        ["predict"],
        {"max_iter": WORK, "learning_rate": REAL, "min_samples_leaf": COUNT, "loss": CHOICE},
    ),
    ("LinearRegression", "regressor", ["predict"], {"fit_intercept": CHOICE}),
    ("Ridge", "regressor", ["predict"], {"alpha": REAL, "fit_intercept": CHOICE}),
    (
        "LogisticRegression",
        "classifier",
        ["predict", "predict_proba"],
        {"C": REAL, "max_iter": WORK, "tol": REAL, "l1_ratio": REAL},
    ),
    ("GaussianNB", "classifier", ["predict", "predict_proba"], {"var_smoothing": REAL}),
    (
        "MultinomialNB",
        "classifier",
        ["predict", "predict_proba"],
        {"alpha": REAL, "fit_prior": CHOICE},
    ),
    (
        "PCA",
        "transformer",
        ["transform"],
        {"n_components": COUNT + REAL + [10**9], "whiten": CHOICE, "svd_solver": CHOICE},
    ),
]


@st.composite
def examples(draw, kind, params):
    hostile = set(draw(st.lists(st.sampled_from(sorted(DIMENSIONS)), max_size=3, unique=True)))
    if not params:
        hostile.discard("params")

    def pick(dimension):
        benign, bad = DIMENSIONS[dimension]
        return draw(st.sampled_from(bad if dimension in hostile else benign))

    seed = draw(st.integers(0, 2**16))
    (rows, cols), layout = pick("shape"), pick("layout")
    X = ("matrix", seed, rows, cols, pick("values"), pick("special"), pick("dtype"), layout)
    n = rows * cols if layout == "1d" else rows
    if kind == "classifier":
        y = ("labels", seed, n, pick("classes"), pick("label_layout"))
    elif kind == "regressor":
        y = ("labels", seed, n, pick("targets"), pick("label_layout"))
    else:
        y = ("none",)
    chosen = {}
    if pick("params"):
        name = draw(st.sampled_from(sorted(params)))
        chosen[name] = draw(st.sampled_from(params[name]))
    return X, y, chosen


@pytest.fixture(scope="module")
def worker():
    w = Isolated()
    yield w
    w.close()


def check_outcomes(results, what):
    kinds = {backend: kind for backend, kind, _, _, _ in results}
    for backend, kind, message, unmodified, _ in results:
        assert not kind.startswith("other:"), f"{what} on {backend}: {message}"
        if kind != "ok":
            assert message.split(":", 1)[1].strip(), f"{what} on {backend}: an empty message"
        assert unmodified, f"{what} on {backend} modified its input"
    assert len(set(kinds.values())) == 1, (
        f"{what}: the outcome differs between backends: "
        + "; ".join(f"{b}: {m or 'ok'}" for b, _, m, _, _ in results)
    )


@pytest.mark.parametrize("name,kind,methods,params", ESTIMATORS, ids=[e[0] for e in ESTIMATORS])
def test_fuzz_estimator(worker, name, kind, methods, params):
    @FUZZ
    @given(example=examples(kind, params))
    def run(example):
        X, y, chosen = example
        results = worker.call(
            "estimator_calls", (name, chosen, X, y, methods, AVAILABLE), TIMEOUT_S
        )
        check_outcomes(results, f"{name}({chosen}).fit(X={X}, y={y})")

    run()


# Combinations left out of the 1000-class test because they are too slow for the suite, not
# wrong (measured on the 2-core dev VM, 2000 × 3 samples, 2026-12-04):
#  * SVC, every backend: predict forms the pair decision values as one dense GEMM of the
#    kernel (n × n_sv) with the pair coefficients (n_sv × 499 500 pairs), 5·10¹¹ MACs, though
#    each pair has only its own few support vectors (> 200 s; fit itself takes seconds).
#  * LogisticRegression and LinearSVC on systolic: the int8 products keep the solvers from
#    meeting their tolerance, so they run long with 1000-column GEMMs (44 s and 43 s; bounded,
#    not a hang; LogisticRegression took 130 s before its line search stopped chasing a noisy
#    curvature condition, 2026-12-06). The test's one 120 s budget covers every backend at once,
#    and amx's int8 LogisticRegression (25 s) already runs in it.
SLOW_WITH_A_THOUSAND_CLASSES = {("SVC", b) for b in AVAILABLE} | {
    ("LogisticRegression", "systolic"),
    ("LinearSVC", "systolic"),
}


@pytest.mark.parametrize(
    "name",
    [
        "KNeighborsClassifier",
        "DecisionTreeClassifier",
        "RandomForestClassifier",
        "GradientBoostingClassifier",
        "LogisticRegression",
        "LinearSVC",
        "GaussianNB",
        "MultinomialNB",
    ],
)
def test_a_thousand_classes(worker, name):
    # 1000 classes of 2 samples each: a result (or a clear error) on every backend, in bounded
    # time, with the same kind of outcome.
    X = ("matrix", 7, 2000, 3, "counts", None, "float64", "C")
    y = ("labels", 7, 2000, "a_thousand_classes", "ndarray")
    params = (
        {"n_estimators": 3}
        if name == "RandomForestClassifier"
        else ({"max_iter": 3} if name == "GradientBoostingClassifier" else {})
    )
    backends = [b for b in AVAILABLE if (name, b) not in SLOW_WITH_A_THOUSAND_CLASSES]
    results = worker.call("estimator_calls", (name, params, X, y, ["predict"], backends), 120)
    check_outcomes(results, f"{name} with 1000 classes")
    assert all(kind == "ok" for _, kind, _, _, _ in results), results
