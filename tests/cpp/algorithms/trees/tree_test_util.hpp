// Helpers for the tree tests (test_tree.cpp, test_forest.cpp, test_boosting.cpp): small data
// sets and a node-by-node comparison of two fitted trees.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>

#include "mlcore/algorithms/trees/tree.hpp"
#include "test_util.hpp"

namespace mlcore::test {

inline Tensor matrix(std::initializer_list<std::initializer_list<float>> rows) {
  Tensor t(static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(rows.begin()->size()));
  std::int64_t i = 0;
  for (const auto& r : rows) {
    std::int64_t j = 0;
    for (float v : r) t.at<float>(i, j++) = v;
    ++i;
  }
  return t;
}

inline Tensor vec(std::initializer_list<float> v) {
  Tensor t(static_cast<std::int64_t>(v.size()), 1);
  std::int64_t i = 0;
  for (float x : v) t.at<float>(i++, 0) = x;
  return t;
}

// n samples, d features uniform in [0, 1); class = which of `classes` slabs of
// x0 + 0.5·x1 (+ noise in `flip` of the labels) the sample falls in. ~5% NaN when `nan`.
struct Problem {
  Tensor X, y;
};
inline Problem slabs(std::int64_t n, std::int64_t d, int classes, std::uint32_t seed,
                     bool nan = false) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Problem p{Tensor(n, d), Tensor(n, 1)};
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) p.X.at<float>(i, j) = u(rng);
    const float s = (p.X.at<float>(i, 0) + 0.5f * p.X.at<float>(i, 1)) / 1.5f;
    p.y.at<float>(i, 0) = std::min<float>(classes - 1, std::floor(s * classes));
    if (nan && u(rng) < 0.05f) p.X.at<float>(i, 2 % d) = std::nanf("");
  }
  return p;
}
// A smooth regression target with noise.
inline Problem wave(std::int64_t n, std::int64_t d, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  Problem p{Tensor(n, d), Tensor(n, 1)};
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) p.X.at<float>(i, j) = u(rng);
    p.y.at<float>(i, 0) =
        std::sin(6.0f * p.X.at<float>(i, 0)) + 2.0f * p.X.at<float>(i, 1) + noise(rng);
  }
  return p;
}

// Same structure, thresholds, missing directions and values, node by node.
inline void expect_same_tree(const Tree& a, const Tree& b, const std::string& what) {
  ASSERT_EQ(a.nodes.size(), b.nodes.size()) << what;
  ASSERT_EQ(a.values.size(), b.values.size()) << what;
  for (std::size_t k = 0; k < a.nodes.size(); ++k) {
    EXPECT_EQ(a.nodes[k].left, b.nodes[k].left) << what << " node " << k;
    EXPECT_EQ(a.nodes[k].feature, b.nodes[k].feature) << what << " node " << k;
    EXPECT_EQ(a.nodes[k].threshold, b.nodes[k].threshold) << what << " node " << k;
    EXPECT_EQ(a.nodes[k].missing_left, b.nodes[k].missing_left) << what << " node " << k;
    EXPECT_EQ(a.nodes[k].n_samples, b.nodes[k].n_samples) << what << " node " << k;
  }
  for (std::size_t k = 0; k < a.values.size(); ++k) {
    EXPECT_EQ(a.values[k], b.values[k]) << what << " value " << k;
  }
}

inline double accuracy(const Tensor& pred, const Tensor& y) {
  std::int64_t ok = 0;
  for (std::int64_t i = 0; i < y.rows(); ++i) ok += pred.at<float>(i, 0) == y.at<float>(i, 0);
  return double(ok) / double(y.rows());
}

inline double mse(const Tensor& pred, const Tensor& y) {
  double s = 0;
  for (std::int64_t i = 0; i < y.rows(); ++i) {
    const double e = pred.at<float>(i, 0) - y.at<float>(i, 0);
    s += e * e;
  }
  return s / double(y.rows());
}

}  // namespace mlcore::test
