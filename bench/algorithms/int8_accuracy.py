"""Accuracy of the estimators whose products are most sensitive to int8 quantization, on the
datasets and splits the tests use (tests/python/test_naive_bayes.py, test_svm.py,
test_decomposition.py), on one or more backends, against scikit-learn in float64.

Not a test: a record. Run it before and after a change to the int8 numerics and compare:

    PYTHONPATH=build/dev/python python bench/algorithms/int8_accuracy.py --backends systolic scalar

Per row: the estimator and dataset; for classifiers the test accuracy, scikit-learn's, the share
of test predictions equal to scikit-learn's and the largest |predict_proba − scikit-learn's|
(naive Bayes); for PCA the largest |explained_variance_ratio − scikit-learn's| over the leading
components, the smallest |cos| between the two leading components and scikit-learn's, and the
transform's error relative to its largest value.
"""

import argparse
import warnings

import numpy as np
from sklearn import decomposition as skd
from sklearn import naive_bayes as sknb
from sklearn import svm as sks
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import mlcore

LOADERS = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
}


def split(name, scale=False):
    X, y = LOADERS[name](return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    if scale:
        s = StandardScaler().fit(Xtr)
        Xtr, Xte = s.transform(Xtr), s.transform(Xte)
    return Xtr, Xte, ytr, yte


def classifier_rows(backend):
    cases = []
    for name in LOADERS:
        cases.append(
            ("GaussianNB", name, False, lambda b: mlcore.GaussianNB(backend=b), sknb.GaussianNB)
        )
    cases.append(
        ("GaussianNB", "digits-std", True, lambda b: mlcore.GaussianNB(backend=b), sknb.GaussianNB)
    )
    for name in LOADERS:
        cases.append(
            (
                "MultinomialNB",
                name,
                False,
                lambda b: mlcore.MultinomialNB(backend=b),
                sknb.MultinomialNB,
            )
        )
    for loss, dual in (("squared_hinge", "auto"), ("squared_hinge", True), ("hinge", True)):
        for name in LOADERS:
            cases.append(
                (
                    f"LinearSVC {loss} dual={dual}",
                    name + "-std",
                    True,
                    lambda b, l=loss, d=dual: mlcore.LinearSVC(
                        loss=l, dual=d, random_state=0, backend=b
                    ),
                    lambda l=loss, d=dual: sks.LinearSVC(loss=l, dual=d, random_state=0),
                )
            )
    for est, name, scale, make, make_ref in cases:
        Xtr, Xte, ytr, yte = split(name.replace("-std", ""), scale)
        if est.startswith("LinearSVC"):  # test_svm.py's split: standardized, float32
            Xtr, Xte = Xtr.astype(np.float32), Xte.astype(np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ours = make(backend).fit(Xtr, ytr)
            ref = make_ref().fit(Xtr, ytr)
        agree = float(np.mean(ours.predict(Xte) == ref.predict(Xte)))
        proba = ""
        if hasattr(ref, "predict_proba") and "NB" in est:
            proba = f"{np.abs(ours.predict_proba(Xte) - ref.predict_proba(Xte)).max():.2e}"
        yield (
            f"{est:<34} {name:<14} acc {ours.score(Xte, yte):.4f} (sklearn "
            f"{ref.score(Xte, yte):.4f})  same-as-sklearn {agree:.4f}  max|dproba| {proba}"
        )


def pca_rows(backend):
    for name in LOADERS:
        for scale in (True, False):
            Xtr, Xte, _, _ = split(name, scale)
            ours = mlcore.PCA(backend=backend).fit(Xtr)
            ref = skd.PCA(svd_solver="full").fit(Xtr)
            k = int(np.searchsorted(np.cumsum(ref.explained_variance_ratio_), 0.999) + 1)
            dratio = np.abs(ours.explained_variance_ratio_[:k] - ref.explained_variance_ratio_[:k])
            top = min(k, 2)
            cos = np.abs(np.sum(ours.components_[:top] * ref.components_[:top], axis=1)).min()
            Z, Zr = ours.transform(Xte)[:, :top], ref.transform(Xte)[:, :top]
            zerr = np.abs(np.abs(Z) - np.abs(Zr)).max() / np.abs(Zr).max()
            yield (
                f"{'PCA':<34} {name + ('-std' if scale else ''):<14} max|dratio| "
                f"{dratio.max():.2e}  min|cos| top{top} {cos:.5f}  transform err {zerr:.2e}"
            )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backends", nargs="+", default=["systolic"])
    args = p.parse_args()
    for backend in args.backends:
        print(f"== {backend}")
        for row in classifier_rows(backend):
            print(row, flush=True)
        for row in pca_rows(backend):
            print(row, flush=True)


if __name__ == "__main__":
    main()
