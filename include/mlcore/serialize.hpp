// A small versioned binary format for fitted models (C++ save/load, and Python pickling).
//
// File layout (all integers little-endian):
//   magic "MLCOREMD" (8 bytes) | format version u32 | model type (string) | model version u32 |
//   payload length u64 | payload bytes | FNV-1a 64-bit hash of the payload
// A string is u64 length + bytes; a tensor is dtype u8, rows i64, cols i64, then its bytes.
//
// Reading checks everything and throws mlcore::Error with a message that says what is wrong:
// wrong magic (not an mlcore model), another format version, a different model type, a model
// version this build cannot read, a truncated file, a corrupted payload (hash mismatch), or
// trailing bytes. A damaged file is refused; it never yields a silently wrong model.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "mlcore/tensor.hpp"

namespace mlcore {

class ModelWriter {
 public:
  // `model_type` names the estimator ("KMeans"); `model_version` is that estimator's own field
  // layout version, bumped whenever it changes.
  ModelWriter(std::string model_type, std::uint32_t model_version);

  void write_u8(std::uint8_t v);
  void write_i64(std::int64_t v);
  void write_f64(double v);
  void write_string(const std::string& s);
  void write_tensor(const Tensor& t);  // host tensor
  void write_f64s(const std::vector<double>& v);
  void write_i64s(const std::vector<std::int64_t>& v);

  // Writes the whole file (header, payload, hash) to `out`; throws mlcore::Error if the stream
  // fails.
  void finish(std::ostream& out) const;
  std::string finish() const;  // the same bytes, as a string

 private:
  void append(const void* data, std::size_t bytes);
  std::string model_type_;
  std::uint32_t model_version_;
  std::string payload_;
};

class ModelReader {
 public:
  // Reads and checks the whole file. Throws mlcore::Error if it is not a valid mlcore model of
  // type `model_type` with a model version in [1, max_model_version].
  ModelReader(std::istream& in, const std::string& model_type, std::uint32_t max_model_version);
  ModelReader(const std::string& bytes, const std::string& model_type,
              std::uint32_t max_model_version);

  std::uint32_t model_version() const { return model_version_; }

  std::uint8_t read_u8();
  std::int64_t read_i64();
  double read_f64();
  std::string read_string();
  Tensor read_tensor();
  std::vector<double> read_f64s();
  std::vector<std::int64_t> read_i64s();

  // Throws unless every payload byte was read (a reader and writer out of step).
  void finish() const;

 private:
  void parse(const std::string& bytes, const std::string& model_type,
             std::uint32_t max_model_version);
  void take(void* out, std::size_t bytes, const char* what);
  std::string model_type_;
  std::uint32_t model_version_ = 0;
  std::string payload_;
  std::size_t pos_ = 0;
};

}  // namespace mlcore
