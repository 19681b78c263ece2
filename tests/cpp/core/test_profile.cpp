#include <thread>

#include "test_util.hpp"

namespace mlcore::test {
namespace {

TEST(Profile, RecordsOnlyWhileAScopeIsInstalledAndNestedScopesBothSee) {
  BackendPtr b = backend("scalar");
  Tensor A(2, 3), B(3, 4), C(2, 4);
  Profile outer, inner;
  b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C);  // no scope: recorded nowhere
  {
    ProfileScope so(outer);
    b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C);
    {
      ProfileScope si(inner);
      EXPECT_EQ(ProfileScope::current(), &inner);
      b->fill(C, 1.0f);
    }
    EXPECT_EQ(ProfileScope::current(), &outer);
  }
  EXPECT_FALSE(ProfileScope::active());
  ASSERT_EQ(outer.size(), 2u);
  ASSERT_EQ(inner.size(), 1u);
  EXPECT_EQ(outer.records()[0].op, "gemm");
  EXPECT_EQ(outer.records()[1].op, "fill");
  EXPECT_EQ(inner.records()[0].op, "fill");
}

TEST(Profile, ThreadsDoNotMixRecords) {
  BackendPtr b = backend("scalar");
  Profile p1, p2;
  auto work = [&](Profile& p, int calls) {
    ProfileScope s(p);
    Tensor X(10, 10);
    for (int i = 0; i < calls; ++i) b->fill(X, 2.0f);
  };
  std::thread t1(work, std::ref(p1), 3), t2(work, std::ref(p2), 5);
  t1.join();
  t2.join();
  EXPECT_EQ(p1.size(), 3u);
  EXPECT_EQ(p2.size(), 5u);
}

TEST(Profile, TotalsSumPerOpAndClearEmpties) {
  BackendPtr b = backend("scalar");
  Profile p;
  {
    ProfileScope s(p);
    Tensor A(4, 5), B(5, 6), C(4, 6);
    b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C);
    b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C);
    b->fill(C, 0.0f);
  }
  auto by_op = p.totals_by_op();
  EXPECT_EQ(by_op["gemm"].calls, 2);
  EXPECT_EQ(by_op["gemm"].macs, 2 * 4 * 5 * 6);
  EXPECT_EQ(by_op["fill"].calls, 1);
  EXPECT_EQ(p.total().calls, 3);
  EXPECT_EQ(p.total().macs, 2 * 4 * 5 * 6);
  EXPECT_GE(p.total().seconds, 0.0);
  p.clear();
  EXPECT_EQ(p.size(), 0u);
}

TEST(Profile, JsonHasEveryRecordAndNullForMissingCounters) {
  Profile p;
  OpRecord r;
  r.op = "gemm";
  r.backend = "x\"y";  // must be escaped
  r.macs = 12;
  p.add(r);
  OpRecord s = r;
  s.sim = SimCounters{};
  s.sim->compute_cycles = 100;
  s.sim->stall_cycles = 5;
  s.quant_error = 0.25;
  p.add(s);
  const std::string json = p.to_json();
  EXPECT_NE(json.find("\"backend\":\"x\\\"y\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"sim\":null"), std::string::npos) << json;
  EXPECT_NE(json.find("\"cycles\":105"), std::string::npos) << json;
  EXPECT_NE(json.find("\"quant_error\":0.25"), std::string::npos) << json;
  EXPECT_NE(json.find("\"by_op\":{\"gemm\":{\"calls\":2"), std::string::npos) << json;
}

TEST(Profile, MergeAppendsAnotherProfilesRecords) {
  Profile a, b;
  OpRecord r;
  r.op = "x";
  a.add(r);
  b.add(r);
  b.add(r);
  a.merge(b);
  EXPECT_EQ(a.size(), 3u);
  Profile copy = a;
  EXPECT_EQ(copy.size(), 3u);
}

}  // namespace
}  // namespace mlcore::test
