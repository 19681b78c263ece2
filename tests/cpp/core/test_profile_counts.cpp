// Each primitive's record carries the exact MAC and byte counts its documentation defines,
// identically on every backend (the counting lives in Backend, not in the backends).
#include "test_util.hpp"

namespace mlcore::test {
namespace {

class ProfileCounts : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    MLCORE_SKIP_UNLESS_BACKEND(GetParam());
    b = backend(GetParam());
  }
  // Runs `call` under a fresh scope and returns its single record.
  template <class F>
  OpRecord record_of(F&& call) {
    Profile p;
    {
      ProfileScope s(p);
      call();
    }
    EXPECT_EQ(p.size(), 1u);
    return p.size() == 1 ? p.records()[0] : OpRecord{};
  }
  BackendPtr b;
};

TEST_P(ProfileCounts, GemmCountsMacsAndCompulsoryBytes) {
  const std::int64_t m = 7, n = 11, k = 13;
  Tensor A = b->empty(k, m), B = b->empty(k, n), C = b->empty(m, n);
  OpRecord r = record_of([&] { b->gemm(Trans::yes, Trans::no, 1.0f, A, B, 1.0f, C); });
  EXPECT_EQ(r.op, "gemm");
  EXPECT_EQ(r.backend, GetParam());
  EXPECT_EQ(r.dtype, "f32");
  EXPECT_EQ(r.m, m);
  EXPECT_EQ(r.n, n);
  EXPECT_EQ(r.k, k);
  EXPECT_EQ(r.macs, m * n * k);
  EXPECT_EQ(r.bytes_read, 4 * (m * k + k * n + m * n));  // beta ≠ 0 reads C
  EXPECT_EQ(r.bytes_written, 4 * m * n);
  EXPECT_GE(r.seconds, 0.0);
  EXPECT_DOUBLE_EQ(r.intensity(), double(m * n * k) / (4.0 * (m * k + k * n + 2 * m * n)));
  r = record_of([&] { b->gemm(Trans::yes, Trans::no, 1.0f, A, B, 0.0f, C); });
  EXPECT_EQ(r.bytes_read, 4 * (m * k + k * n));  // beta = 0 does not read C
  Tensor Ai = b->empty(m, k, DType::i8), Bi = b->empty(k, n, DType::i8),
         Ci = b->empty(m, n, DType::i32);
  r = record_of([&] { b->gemm(Trans::no, Trans::no, 1.0f, Ai, Bi, 0.0f, Ci); });
  EXPECT_EQ(r.dtype, "i8");
  EXPECT_EQ(r.bytes_read, m * k + k * n);
  EXPECT_EQ(r.bytes_written, 4 * m * n);
}

TEST_P(ProfileCounts, OtherPrimitivesCountTheirDocumentedWork) {
  const std::int64_t m = 9, n = 5, d = 4;
  Tensor A = b->empty(m, d), B = b->empty(n, d), D = b->empty(m, n);
  OpRecord r = record_of([&] { b->sqdist(A, B, D); });
  EXPECT_EQ(r.macs, m * n * d + (m + n) * d);
  EXPECT_EQ(r.bytes_read, 4 * (m * d + n * d));
  EXPECT_EQ(r.bytes_written, 4 * m * n);

  Tensor x = b->empty(d, 1), y = b->empty(m, 1);
  r = record_of([&] { b->gemv(Trans::no, 1.0f, A, x, 0.0f, y); });
  EXPECT_EQ(r.macs, m * d);
  EXPECT_EQ(r.bytes_read, 4 * (m * d + d));

  Tensor idx = b->empty(m, 1, DType::i32), val = b->empty(m, 1);
  r = record_of([&] { b->argmin_rows(D, idx, val); });
  EXPECT_EQ(r.macs, 0);
  EXPECT_EQ(r.bytes_read, 4 * m * n);
  EXPECT_EQ(r.bytes_written, 8 * m);

  Tensor labels = b->empty(m, 2, DType::i32), X = b->empty(m, 3), out = b->empty(4, 3);
  r = record_of([&] { b->scatter_add(labels, X, out); });
  EXPECT_EQ(r.macs, m * 2 * 3);
  EXPECT_EQ(r.bytes_read, 4 * (m * 2 + m * 3 + 4 * 3));
  EXPECT_EQ(r.bytes_written, 4 * 4 * 3);

  Tensor col = b->empty(1, d);
  r = record_of([&] { b->reduce_cols(Reduce::var, A, col); });
  EXPECT_EQ(r.op, "reduce_cols_var");
  EXPECT_EQ(r.macs, 2 * m * d);

  r = record_of([&] { b->map(MapFn::exp, A, A); });
  EXPECT_EQ(r.op, "map_exp");
  EXPECT_EQ(r.bytes_read, 4 * m * d);
  EXPECT_EQ(r.bytes_written, 4 * m * d);
}

TEST_P(ProfileCounts, HostBackendsMoveNoBytesBetweenHostAndDevice) {
  if (b->device() != Device::host) GTEST_SKIP() << GetParam() << " has its own device memory";
  Tensor t(3, 3);
  Profile p;
  {
    ProfileScope s(p);
    Tensor d = b->to_device(t);
    EXPECT_EQ(d.raw(), t.raw()) << "a host backend must not copy";
    b->to_host(d);
  }
  EXPECT_EQ(p.total().host_to_device_bytes, 0);
  EXPECT_EQ(p.total().device_to_host_bytes, 0);
}

INSTANTIATE_TEST_SUITE_P(AllBackends, ProfileCounts, ::testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace mlcore::test
