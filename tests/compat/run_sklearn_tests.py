#!/usr/bin/env python3
"""Runs scikit-learn's own test files against mlcore's estimators (issue 19, item 5).

For each of the ten families, one pytest run of scikit-learn's installed test file(s) with
mlcore's class substituted for scikit-learn's (sklearn_substitute.py, loaded as a pytest plugin,
explains how the substitution is made and which tests count: those that construct an instance of
the substituted class). Prints the pass rate per family and the failures grouped by cause, and
with --markdown writes the table to a file (docs/COMPATIBILITY.md keeps the recorded run).

Not part of scripts/test.sh: it runs thousands of tests (minutes to tens of minutes on two
cores). Run it under the build lock on the shared machine:

    flock /tmp/mlcore-build.lock env PYTHONPATH=build/dev/python \\
        python tests/compat/run_sklearn_tests.py --timeout 900 --json /tmp/compat.json

Needs the scikit-learn version whose tests are installed with it (the runner says which).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sklearn

HERE = Path(__file__).resolve().parent
SK = Path(sklearn.__file__).resolve().parent

TEST_FILES = {
    "KMeans": ["cluster/tests/test_k_means.py"],
    "PCA": ["decomposition/tests/test_pca.py"],
    "LogisticRegression": ["linear_model/tests/test_logistic.py"],
    "LinearRegression+Ridge": [
        "linear_model/tests/test_base.py",
        "linear_model/tests/test_ridge.py",
    ],
    "naive Bayes": ["tests/test_naive_bayes.py"],
    "kNN": ["neighbors/tests/test_neighbors.py"],
    "SVC/LinearSVC": ["svm/tests/test_svm.py"],
    "DecisionTree": ["tree/tests/test_tree.py"],
    "RandomForest": ["ensemble/tests/test_forest.py"],
    "GradientBoosting": ["ensemble/_hist_gradient_boosting/tests/test_gradient_boosting.py"],
}

# Failure causes, first match wins: (group, pattern on the failure's message).
CAUSES = [
    ("sparse input (not supported)", r"sparse|csr|csc|Sparse"),
    (
        "parameter or feature refused by mlcore",
        r"not supported by mlcore|mlcore's \w+ (supports|has|takes|solves)|only .* is supported"
        r"|is not supported|whole numbers|Euclidean distances only|the only one mlcore implements"
        r"|mlcore's \w+ computes|a liblinear formulation|Invalid parameter|loss must be",
    ),
    (
        "unknown parameter / missing API",
        r"unexpected keyword|has no attribute|not callable|takes \d+ positional",
    ),
    (
        "error or warning wording / type",
        r"Regex pattern did not match|DID NOT|match=|Expected exactly one warning"
        r"|not an instance|InvalidParameterError",
    ),
    (
        "multi-output y (not supported)",
        r"y should be a 1d array|got an array of shape \(\d+, \d+\)",
    ),
    (
        "numerical difference",
        r"Not equal to tolerance|not almost equal|Arrays are not equal|Mismatched elements"
        r"|AssertionError|^assert ",
    ),
]


def classify(message: str) -> str:
    for group, pattern in CAUSES:
        if re.search(pattern, message):
            return group
    return "other: " + (message.split(":")[0][:60] if message else "no message")


def run_family(family: str, timeout: float) -> dict:
    files = [str(SK / f) for f in TEST_FILES[family]]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as tmp:
        out_path = tmp.name
    # pytest runs outside the repository (so that no conftest of ours is picked up): the
    # PYTHONPATH entries are made absolute, or a relative build/dev/python would silently give
    # the installed mlcore instead of the build under test.
    paths = [str(HERE)] + [
        os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p
    ]
    env = dict(
        os.environ,
        MLCORE_COMPAT_FAMILY=family,
        MLCORE_COMPAT_OUT=out_path,
        PYTHONPATH=os.pathsep.join(paths),
    )
    # scikit-learn's own conftest.py (its fixtures: global_random_seed, ...) must load: the
    # rootdir and the conftest cut-off are the folder holding the sklearn package, and an empty
    # ini keeps any other configuration out.
    ini = Path(tempfile.gettempdir()) / "mlcore_compat_pytest.ini"
    ini.write_text("[pytest]\n")
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-c",
        str(ini),
        "--rootdir",
        str(SK.parent),
        "--confcutdir",
        str(SK.parent),
        "-p",
        "sklearn_substitute",
        "-p",
        "no:cacheprovider",
        "--no-header",
        "-rN",
        "-W",
        "ignore",
        *files,
    ]
    start = time.time()
    try:
        proc = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=tempfile.gettempdir()
        )
        status = f"pytest exit {proc.returncode}"
    except subprocess.TimeoutExpired:
        status = f"timed out after {timeout:.0f} s (results so far)"
    rows = [json.loads(line) for line in Path(out_path).read_text().splitlines() if line]
    os.unlink(out_path)
    counted = [r for r in rows if r["counted"] and r["outcome"] != "skipped"]
    passed = sum(r["outcome"] == "passed" for r in counted)
    causes = collections.Counter(
        classify(r["message"]) for r in counted if r["outcome"] == "failed"
    )
    examples = {}
    for r in counted:
        if r["outcome"] == "failed":
            examples.setdefault(classify(r["message"]), r["message"])
    return {
        "family": family,
        "status": status,
        "seconds": round(time.time() - start, 1),
        "tests_run": len(rows),
        "counted": len(counted),
        "passed": passed,
        "skipped": sum(r["counted"] and r["outcome"] == "skipped" for r in rows),
        "causes": dict(causes.most_common()),
        "examples": examples,
        "failures": [(r["test"], r["message"]) for r in counted if r["outcome"] == "failed"],
    }


def markdown(results: list) -> str:
    total_c = sum(r["counted"] for r in results)
    total_p = sum(r["passed"] for r in results)
    lines = [
        f"scikit-learn {sklearn.__version__}; {total_p} of {total_c} counted tests pass "
        f"({100.0 * total_p / max(total_c, 1):.0f} %).",
        "",
        "| family | test file(s) | counted | pass | rate | failures by cause |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        r["causes"] = dict(collections.Counter(classify(m) for _, m in r["failures"]).most_common())
        causes = "; ".join(f"{n} {g}" for g, n in r["causes"].items())
        files = ", ".join(f"`{f}`" for f in TEST_FILES[r["family"]])
        rate = 100.0 * r["passed"] / max(r["counted"], 1)
        lines.append(
            f"| {r['family']} | {files} | {r['counted']} | {r['passed']} | "
            f"{rate:.0f} % | {causes} |"
        )
    lines += ["", "The most frequent failure messages per family (numbers replaced by N):", ""]
    for r in results:
        messages = collections.Counter(
            re.sub(r"\d+(\.\d+)?(e-?\d+)?", "N", m)[:120] or "(no message)"
            for _, m in r["failures"]
        )
        lines.append(
            f"- **{r['family']}**: "
            + "; ".join(f"{n} × `{m.replace('`', '')}`" for m, n in messages.most_common(6))
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--family",
        action="append",
        choices=list(TEST_FILES),
        help="run only these families (repeatable); default: all ten",
    )
    ap.add_argument("--timeout", type=float, default=900, help="seconds per family")
    ap.add_argument("--json", help="write every result (with each failure) to this file")
    ap.add_argument("--markdown", help="write the summary table to this file")
    ap.add_argument("--from-json", help="no run: print the table of a run kept with --json")
    args = ap.parse_args()
    if args.from_json:
        print(markdown(json.loads(Path(args.from_json).read_text())))
        return 0
    import mlcore  # the package under test, as the runs will import it

    print(
        f"mlcore from {Path(mlcore.__file__).parent}; scikit-learn {sklearn.__version__} from {SK}",
        flush=True,
    )
    results = []
    for family in args.family or list(TEST_FILES):
        r = run_family(family, args.timeout)
        results.append(r)
        print(
            f"{family:24s} {r['passed']:4d}/{r['counted']:<4d} "
            f"({100.0 * r['passed'] / max(r['counted'], 1):3.0f} %)  {r['seconds']:6.1f} s  "
            f"{r['status']}  {r['causes']}",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    table = markdown(results)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
