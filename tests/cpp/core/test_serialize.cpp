#include <cstring>
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

// Offsets of the header fields of sample_model() (serialize.hpp): magic 8 bytes, format version
// u32, model type as u64 length + "Toy", model version u32, payload length u64, payload, hash.
constexpr std::size_t kFormatAt = 8, kTypeAt = 20, kModelVersionAt = 23, kPayloadLengthAt = 27,
                      kPayloadAt = 35;

TEST(Serialize, EachHeaderFieldDamagedIsRefusedByName) {
  const std::string good = sample_model();
  ASSERT_EQ(good.substr(kTypeAt, 3), "Toy");
  auto flipped = [&](std::size_t at) {
    std::string bad = good;
    bad[at] ^= 0x5A;
    return bad;
  };
  expect_refused(flipped(2), "Toy", 2, "bad magic");
  expect_refused(flipped(kFormatAt), "Toy", 2, "format version");
  expect_refused(flipped(kTypeAt + 1), "Toy", 2, "not a Toy");
  expect_refused(flipped(kModelVersionAt + 2), "Toy", 2, "is not supported");
  expect_refused(flipped(kPayloadAt), "Toy", 2, "checksum mismatch");
  expect_refused(flipped(good.size() - 1), "Toy", 2, "checksum mismatch");  // the hash itself
  std::string huge = good;  // a length field claiming 2^50 payload bytes
  const std::uint64_t claim = std::uint64_t(1) << 50;
  std::memcpy(&huge[kPayloadLengthAt], &claim, 8);
  expect_refused(huge, "Toy", 2, "payload length");
}

// A model file is refused after any single-bit error and at any truncation: every field is
// either checked against what the reader expects or covered by the payload's hash.
TEST(Serialize, EveryFlippedBitAndEveryTruncationIsRefused) {
  const std::string good = sample_model();
  int refused = 0, tried = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit, ++tried) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      try {
        ModelReader(bad, "Toy", 2);
      } catch (const Error&) {
        ++refused;
      }
    }
  }
  EXPECT_EQ(refused, tried);
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_THROW(ModelReader(good.substr(0, cut), "Toy", 2), Error) << "cut at " << cut;
  }
}

// The hash catches accidents, not a crafted file: a payload with a valid hash whose fields
// claim more than the file holds must still be refused before anything is allocated.
TEST(Serialize, CraftedSizesInsideAValidPayloadAreRefused) {
  ModelWriter w("Toy", 1);
  w.write_u8(static_cast<std::uint8_t>(DType::f32));
  w.write_i64(std::int64_t(1) << 20);  // a 2^20 x 2^20 tensor: 4 TiB
  w.write_i64(std::int64_t(1) << 20);
  ModelReader r(w.finish(), "Toy", 1);
  try {
    r.read_tensor();
    FAIL() << "an impossible tensor shape was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit"), std::string::npos) << e.what();
  }
  ModelWriter w2("Toy", 1);
  w2.write_i64(std::int64_t(1) << 40);  // an array length, then nothing
  ModelReader r2(w2.finish(), "Toy", 1);
  EXPECT_THROW(r2.read_f64s(), Error);
  ModelReader r3(w2.finish(), "Toy", 1);
  EXPECT_THROW(r3.read_string(), Error);
  ModelWriter w3("Toy", 1);
  w3.write_u8(9);  // no such dtype
  ModelReader r4(w3.finish(), "Toy", 1);
  EXPECT_THROW(r4.read_tensor(), Error);
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
