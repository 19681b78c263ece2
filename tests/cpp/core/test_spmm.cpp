// Backend::spmm (sparse CSR × dense, and its transpose) on every backend against a float64
// reference computed here from the dense matrix, on random sparse inputs: densities 0, 0.01,
// 0.3 and 1, sizes 1 and primes, rows left empty, both index dtypes; bad CSR input raising an
// error that names the argument; the profile's MACs (nnz·n) and the systolic array's wasted MACs.
#include <algorithm>
#include <limits>

#include "test_util.hpp"

namespace mlcore::test {
namespace {

// A rows × cols random CSR matrix of the given density (each entry kept with that probability),
// every third row forced empty when `empty_rows`; i32 or i64 indices.
CsrMatrix random_csr(std::int64_t rows, std::int64_t cols, double density, bool empty_rows,
                     bool i64_indices, std::mt19937& rng) {
  Tensor dense(rows, cols);
  std::bernoulli_distribution keep(density);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < cols; ++j) {
      const bool on = keep(rng) && !(empty_rows && i % 3 == 1);
      dense.at<float>(i, j) = on ? value(rng) : 0.0f;
    }
  }
  CsrMatrix A = csr_from_dense(dense);
  if (i64_indices) {
    Tensor wide(A.nnz(), 1, DType::i64);
    for (std::int64_t p = 0; p < A.nnz(); ++p) {
      wide.data<std::int64_t>()[p] = A.indices.data<std::int32_t>()[p];
    }
    A.indices = wide;
  }
  return A;
}

CsrMatrix on_device(OnBackend& on, const CsrMatrix& A) {
  CsrMatrix d = A;
  d.indptr = on.dev(A.indptr);
  d.indices = on.dev(A.indices);
  d.data = on.dev(A.data);
  return d;
}

class Spmm : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    MLCORE_SKIP_UNLESS_BACKEND(GetParam());
    on.b = backend(GetParam());
  }
  OnBackend on;
  std::mt19937 rng{2024};
};

struct Shape {
  std::int64_t rows, cols, n;  // A: rows × cols; B has n columns
};
// 1, primes, strips of 32 columns ± 1 (the avx2 kernel's register strip), and a size that spans
// two systolic tiles of 256.
const Shape kShapes[] = {{1, 1, 1},    {1, 7, 3},     {13, 1, 17},  {37, 41, 29},
                         {97, 61, 33}, {53, 300, 31}, {301, 19, 64}};

TEST_P(Spmm, MatchesFloat64ForBothProductsDensitiesAndIndexTypes) {
  const bool int8 = quantized(GetParam());
  const std::pair<float, float> scalings[] = {{1.0f, 0.0f}, {-1.5f, 0.5f}};
  for (const Shape& s : kShapes) {
    for (double density : {0.0, 0.01, 0.3, 1.0}) {
      for (bool empty_rows : {false, true}) {
        const bool i64_indices = empty_rows;  // both dtypes, without doubling the loop
        const CsrMatrix A = random_csr(s.rows, s.cols, density, empty_rows, i64_indices, rng);
        const Tensor dense = csr_to_dense(A);
        for (bool trans : {false, true}) {
          for (auto [alpha, beta] : scalings) {
            const std::int64_t m = trans ? s.cols : s.rows, k = trans ? s.rows : s.cols;
            const Tensor B = random_tensor(k, s.n, rng);
            Tensor C0 = random_tensor(m, s.n, rng);
            if (beta == 0.0f) {  // β = 0 ignores C, NaN included
              std::fill_n(C0.data<float>(), C0.numel(), std::numeric_limits<float>::quiet_NaN());
            }
            // The largest |x| of each row of op(A) and column of B: an int8 backend quantizes
            // them to 127 codes each (|x − x̂| ≤ half a step of max|x| / 127).
            std::vector<double> amax(m, 0.0), bmax(s.n, 0.0);
            for (std::int64_t p = 0; p < k; ++p) {
              for (std::int64_t i = 0; i < m; ++i) {
                amax[i] = std::max(amax[i], std::fabs(op_at(dense, trans, i, p)));
              }
              for (std::int64_t j = 0; j < s.n; ++j) {
                bmax[j] = std::max(bmax[j], std::fabs(double(B.at<float>(p, j))));
              }
            }
            std::vector<double> ref(m * s.n), scale(m * s.n);
            for (std::int64_t i = 0; i < m; ++i) {
              for (std::int64_t j = 0; j < s.n; ++j) {
                double sum = 0, mag = 0, bound = 0;
                for (std::int64_t p = 0; p < k; ++p) {
                  const double a = op_at(dense, trans, i, p), b = B.at<float>(p, j);
                  sum += a * b;
                  mag += std::fabs(a * b);
                  // |âb̂ − ab| ≤ |a|·|b − b̂| + |b̂|·|a − â|, for the entries op(A) stores
                  const double hb = bmax[j] / 254.0, ha = amax[i] / 254.0;
                  if (a != 0.0) bound += std::fabs(a) * hb + (std::fabs(b) + hb) * ha;
                }
                const double c = beta == 0.0f ? 0.0 : beta * C0.at<float>(i, j);
                ref[i * s.n + j] = alpha * sum + c;
                // f32: a sum of at most k products, (k + 2)·eps of Σ|a·b| (as gemm's test).
                // int8: the quantization bound above, plus f32 rounding of the result.
                scale[i * s.n + j] = int8
                                         ? std::fabs(alpha) * bound +
                                               4 * kEpsF32 * (std::fabs(alpha * sum) + std::fabs(c))
                                         : static_cast<double>(k + 2) * kEpsF32 *
                                               (std::fabs(alpha) * mag + std::fabs(c));
              }
            }
            Tensor C = on.dev(C0.clone());
            on.b->spmm(trans ? Trans::yes : Trans::no, alpha, on_device(on, A), on.dev(B), beta, C);
            expect_close(on.host(C), ref, scale, 1.0, 1e-6,
                         "spmm " + A.describe() + " density " + std::to_string(density) +
                             " n=" + std::to_string(s.n) + " trans=" + std::to_string(trans) +
                             " beta=" + std::to_string(beta));
          }
        }
      }
    }
  }
}

TEST_P(Spmm, RecordsNnzTimesNMacsAndItsBytes) {
  const CsrMatrix A = random_csr(40, 23, 0.3, true, false, rng);
  const Tensor B = random_tensor(23, 5, rng);
  Tensor C = on.b->empty(40, 5);
  Profile p;
  {
    ProfileScope scope(p);
    on.b->spmm(Trans::no, 1.0f, on_device(on, A), on.dev(B), 0.0f, C);
  }
  const std::vector<OpRecord> records = p.records();  // a copy: keep it while rec points in
  const OpRecord* rec = nullptr;
  for (const OpRecord& r : records) {
    if (r.op == "spmm") rec = &r;
  }
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->macs, A.nnz() * 5);
  EXPECT_EQ(rec->m, 40);
  EXPECT_EQ(rec->n, 5);
  EXPECT_EQ(rec->k, 23);
  EXPECT_EQ(rec->bytes_read, 8 * 41 + 4 * A.nnz() + 4 * A.nnz() + 4 * 23 * 5);
  EXPECT_EQ(rec->bytes_written, 4 * 40 * 5);
}

// The same bad matrix raises the same error, naming the argument, on every backend.
TEST_P(Spmm, BadCsrInputNamesTheArgument) {
  const CsrMatrix good = random_csr(4, 6, 1.0, false, false, rng);  // 24 entries, 6 per row
  const Tensor B = random_tensor(6, 2, rng);
  auto expect_error = [&](const CsrMatrix& A, const Tensor& Bm, const std::string& needle) {
    Tensor C = on.b->empty(A.rows, Bm.cols());
    try {
      on.b->spmm(Trans::no, 1.0f, on_device(on, A), on.dev(Bm), 0.0f, C);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  CsrMatrix unsorted = good;
  unsorted.indices = good.indices.clone();
  std::swap(unsorted.indices.data<std::int32_t>()[1], unsorted.indices.data<std::int32_t>()[2]);
  expect_error(unsorted, B, "spmm(): A: indices of row 0 must be sorted");
  CsrMatrix out_of_range = good;
  out_of_range.indices = good.indices.clone();
  out_of_range.indices.data<std::int32_t>()[7] = 6;
  expect_error(out_of_range, B, "spmm(): A: indices[7] = 6 (row 1) is outside [0, 6)");
  CsrMatrix negative = good;
  negative.indices = good.indices.clone();
  negative.indices.data<std::int32_t>()[0] = -1;
  expect_error(negative, B, "indices[0] = -1");
  CsrMatrix short_ptr = good;
  short_ptr.indptr = good.indptr.row_slice(0, 4);
  expect_error(short_ptr, B, "spmm(): A: indptr must hold rows + 1 = 5 entries");
  CsrMatrix wrong_end = good;
  wrong_end.indptr = good.indptr.clone();
  wrong_end.indptr.data<std::int64_t>()[4] = 23;
  expect_error(wrong_end, B, "spmm(): A: indptr[4] = 23 must equal nnz = 24");
  CsrMatrix decreasing = good;
  decreasing.indptr = good.indptr.clone();
  decreasing.indptr.data<std::int64_t>()[2] = 3;
  expect_error(decreasing, B, "indptr must be non-decreasing");
  expect_error(good, random_tensor(5, 2, rng), "spmm(): B needs 6 rows");
}

INSTANTIATE_TEST_SUITE_P(AllBackends, Spmm, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace mlcore::test
