// The walk table (see flat_tree.hpp) and the calls that walk it on a backend.
#include "algorithms/trees/flat_tree.hpp"

#include <cmath>
#include <cstring>

namespace mlcore::detail {

namespace {

// The largest float ≤ t (±inf stay; a finite t beyond the float range gives ±FLT_MAX or −inf).
float float_at_or_below(double t) {
  float f = static_cast<float>(t);
  if (static_cast<double>(f) > t) f = std::nextafter(f, -INFINITY);
  return f;
}

}  // namespace

WalkTable make_walk_table(const std::vector<const Tree*>& trees, const LeafValues& lv) {
  WalkTable table;
  const bool constant = !lv.constant.empty();
  std::int64_t N = constant ? 1 : 0;
  for (const Tree* t : trees) N += static_cast<std::int64_t>(t->nodes.size());
  const std::int64_t T = static_cast<std::int64_t>(trees.size()) + (constant ? 1 : 0);
  table.nodes = Tensor(N, 4, DType::i32);
  table.roots = Tensor(T, 1, DType::i32);
  if (lv.columns > 0) table.values = Tensor(N, lv.columns);  // zero-filled
  auto* nd = reinterpret_cast<TreeWalkNode*>(table.nodes.raw());
  std::int32_t* root = table.roots.data<std::int32_t>();
  std::int32_t row = 0, tree = 0;
  if (constant) {  // a one-leaf tree: every row reaches row 0 and adds the constants
    nd[0] = TreeWalkNode{};
    root[tree++] = 0;
    for (int q = 0; q < lv.columns; ++q) table.values.at<float>(0, q) = float(lv.constant[q]);
    row = 1;
  }
  for (std::size_t t = 0; t < trees.size(); ++t) {
    const Tree& src = *trees[t];
    const int col = lv.column_of_tree.empty() ? 0 : lv.column_of_tree[t];
    table.offset.push_back(row);
    root[tree++] = row;
    for (std::size_t j = 0; j < src.nodes.size(); ++j) {
      const TreeNode& s = src.nodes[j];
      TreeWalkNode& dst = nd[row + j];
      dst = TreeWalkNode{};
      if (!s.is_leaf()) {
        dst.left = row + s.left;
        dst.right = row + s.right;
        dst.feature_and_missing =
            static_cast<std::uint32_t>(s.feature) | (s.missing_left ? 0x80000000u : 0u);
        dst.threshold = float_at_or_below(s.threshold);
      } else if (lv.columns > 0) {
        const double* v = src.value(static_cast<std::int32_t>(j));
        for (int q = 0; q < src.n_outputs; ++q) {
          table.values.at<float>(row + static_cast<std::int64_t>(j), col + q) = float(v[q]);
        }
      }
    }
    row += static_cast<std::int32_t>(src.nodes.size());
  }
  return table;
}

Tensor walk_sum(Backend& backend, const WalkTable& table, const Tensor& X, double scale) {
  const Tensor nodes = backend.to_device(table.nodes), roots = backend.to_device(table.roots);
  const Tensor values = backend.to_device(table.values), x = backend.to_device(X);
  Tensor out = backend.empty(X.rows(), table.values.cols());
  backend.tree_walk_sum(nodes, roots, values, x, scale, out);
  return out;
}

Tensor walk_leaves(Backend& backend, const WalkTable& table, const Tensor& X) {
  const Tensor nodes = backend.to_device(table.nodes), roots = backend.to_device(table.roots);
  const Tensor x = backend.to_device(X);
  Tensor leaf = backend.empty(X.rows(), table.roots.numel(), DType::i32);
  backend.tree_walk(nodes, roots, x, leaf);
  return backend.to_host(leaf);  // one tree at offset 0: its own node ids
}

Tensor labels_of_max(Backend& backend, Tensor& P, const std::vector<double>& classes) {
  const std::int64_t m = P.rows();
  backend.map(MapFn::identity, P, P, {-1.0f, 0.0f});  // first max of P = first min of −P
  Tensor index = backend.empty(m, 1, DType::i32), value = backend.empty(m, 1);
  backend.argmin_rows(P, index, value);
  Tensor labels(static_cast<std::int64_t>(classes.size()), 1);
  for (std::size_t c = 0; c < classes.size(); ++c) {
    labels.data<float>()[c] = static_cast<float>(classes[c]);
  }
  Tensor out = backend.empty(m, 1);
  backend.gather_rows(backend.to_device(labels), index, out);
  return backend.to_host(out);
}

}  // namespace mlcore::detail
