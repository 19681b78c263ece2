#include <sstream>

#include "test_util.hpp"

namespace mlcore::test {
namespace {

std::string sample_model() {
  ModelWriter w("Toy", 2);
  w.write_i64(-42);
  w.write_f64(3.5);
  w.write_string("hello");
  Tensor t(2, 3);
  for (int i = 0; i < 6; ++i) t.data<float>()[i] = float(i) / 3;
  w.write_tensor(t);
  w.write_f64s({1.0, 2.0});
  return w.finish();
}

TEST(Serialize, RoundTripsEveryFieldExactly) {
  std::stringstream file;
  file << sample_model();
  ModelReader r(file, "Toy", 2);
  EXPECT_EQ(r.model_version(), 2u);
  EXPECT_EQ(r.read_i64(), -42);
  EXPECT_EQ(r.read_f64(), 3.5);
  EXPECT_EQ(r.read_string(), "hello");
  Tensor t = r.read_tensor();
  ASSERT_EQ(t.rows(), 2);
  ASSERT_EQ(t.cols(), 3);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t.data<float>()[i], float(i) / 3);
  EXPECT_EQ(r.read_f64s(), (std::vector<double>{1.0, 2.0}));
  EXPECT_NO_THROW(r.finish());
}

void expect_refused(const std::string& bytes, const std::string& type, std::uint32_t max_version,
                    const std::string& phrase) {
  try {
    ModelReader r(bytes, type, max_version);
    FAIL() << "a bad file was accepted (expected: " << phrase << ")";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(phrase), std::string::npos) << e.what();
  }
}

TEST(Serialize, RefusesDamagedOrForeignFilesWithClearErrors) {
  const std::string good = sample_model();
  expect_refused("", "Toy", 2, "bad magic");
  expect_refused("hello world, not a model", "Toy", 2, "bad magic");
  expect_refused(good, "KMeans", 2, "holds a Toy model");
  expect_refused(good, "Toy", 1, "version 2 is not supported");
  for (std::size_t cut : {std::size_t(9), std::size_t(20), good.size() / 2, good.size() - 1}) {
    expect_refused(good.substr(0, cut), "Toy", 2, "truncated");
  }
  std::string flipped = good;
  flipped[good.size() - 20] ^= 0x40;  // a payload byte
  expect_refused(flipped, "Toy", 2, "checksum mismatch");
  expect_refused(good + "x", "Toy", 2, "trailing");
  std::string other_format = good;
  other_format[8] = 7;  // format version field
  expect_refused(other_format, "Toy", 2, "format version 7");
}

TEST(Serialize, ReaderThatReadsTooLittleOrTooMuchComplains) {
  ModelReader r(sample_model(), "Toy", 2);
  r.read_i64();
  EXPECT_THROW(r.finish(), Error);
  ModelWriter w("Toy", 1);
  w.write_i64(1);
  ModelReader r2(w.finish(), "Toy", 1);
  r2.read_i64();
  EXPECT_THROW(r2.read_f64(), Error);
}

}  // namespace
}  // namespace mlcore::test
