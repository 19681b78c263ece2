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
//
// Estimators do not use ModelWriter / ModelReader directly: each lists its fields once, in a
// `visit(Archive&)` member, and the same list writes the model (SaveArchive) and reads it back
// (LoadArchive), so the two directions cannot drift apart (STYLE.md 19). Estimator::save and
// Estimator::load_model (estimator.hpp) drive it.
#pragma once

#include <cstdint>
#include <functional>
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

// One model's fields, in order, in either direction. A visit function calls a(field) for each
// field; saving writes the field's value, loading reads into it. The stored types are those of
// ModelWriter: bool and enums as one byte, every integer as i64, floating point as f64.
//
//   void KMeans::visit(Archive& a) {
//     a(options_.n_clusters, options_.init, ...);   // the options: always stored
//     if (!a.fitted(fitted_, 2)) return;            // the fitted flag (since model version 2)
//     a(mean_, centers_, ...);                      // the fitted state
//     if (a.loading()) { check shapes; re-derive caches }
//   }
class Archive {
 public:
  virtual ~Archive() = default;

  bool loading() const { return loading_; }
  // The model version of the bytes: the current one when saving, the file's when loading. A
  // visit branches on it only to read fields an older version stored differently.
  std::uint32_t version() const { return version_; }

  void operator()(bool& v);
  void operator()(std::uint8_t& v) { u8(v); }
  void operator()(std::int64_t& v) { i64(v); }
  void operator()(int& v);
  void operator()(std::uint64_t& v);  // stored as its i64 bit pattern (random seeds)
  void operator()(double& v) { f64(v); }
  void operator()(std::string& v) { string(v); }
  void operator()(Tensor& v) { tensor(v); }
  void operator()(std::vector<double>& v) { f64s(v); }
  void operator()(std::vector<std::int64_t>& v) { i64s(v); }
  // Several fields, in order.
  template <class First, class Second, class... Rest>
  void operator()(First& first, Second& second, Rest&... rest) {
    (*this)(first);
    (*this)(second);
    ((*this)(rest), ...);
  }
  // An enum stored as one byte; loading refuses a code above `last`'s.
  template <class E>
  void enumeration(E& e, E last) {
    std::uint8_t code = static_cast<std::uint8_t>(e);
    u8(code);
    check_code(code, static_cast<std::uint8_t>(last));
    e = static_cast<E>(code);
  }

  // The fitted flag, between a model's options and its fitted state: returns whether the
  // fitted fields follow. A model whose files before model version `since` had no flag was
  // only ever saved fitted then, so loading such a file gives fitted = true. When loading,
  // the options are complete at this point: LoadArchive's `on_options` runs here, before any
  // fitted field is read.
  bool fitted(bool& fitted, std::uint32_t since = 1);

 protected:
  Archive(bool loading, std::uint32_t version) : loading_(loading), version_(version) {}
  void set_version(std::uint32_t version) { version_ = version; }  // a LoadArchive's, once read
  virtual void u8(std::uint8_t& v) = 0;
  virtual void i64(std::int64_t& v) = 0;
  virtual void f64(double& v) = 0;
  virtual void string(std::string& v) = 0;
  virtual void tensor(Tensor& v) = 0;
  virtual void f64s(std::vector<double>& v) = 0;
  virtual void i64s(std::vector<std::int64_t>& v) = 0;
  virtual void options_complete() {}

 private:
  void check_code(std::uint8_t code, std::uint8_t last) const;
  bool loading_;
  std::uint32_t version_;
};

// Writes the visited fields; finish() gives the file.
class SaveArchive final : public Archive {
 public:
  SaveArchive(std::string model_type, std::uint32_t model_version)
      : Archive(false, model_version), writer_(std::move(model_type), model_version) {}
  void finish(std::ostream& out) const { writer_.finish(out); }

 private:
  void u8(std::uint8_t& v) override { writer_.write_u8(v); }
  void i64(std::int64_t& v) override { writer_.write_i64(v); }
  void f64(double& v) override { writer_.write_f64(v); }
  void string(std::string& v) override { writer_.write_string(v); }
  void tensor(Tensor& v) override { writer_.write_tensor(v); }
  void f64s(std::vector<double>& v) override { writer_.write_f64s(v); }
  void i64s(std::vector<std::int64_t>& v) override { writer_.write_i64s(v); }
  ModelWriter writer_;
};

// Reads the visited fields from a checked file (ModelReader). `on_options` runs when the visit
// reaches fitted() (the options read, nothing of the fitted state yet): Estimator::load_model
// rebuilds the model from them there, through its constructor's checks. finish() throws unless
// every payload byte was read.
class LoadArchive final : public Archive {
 public:
  LoadArchive(std::istream& in, const std::string& model_type, std::uint32_t max_model_version,
              std::function<void()> on_options);
  void finish() const;

 private:
  void u8(std::uint8_t& v) override { v = reader_.read_u8(); }
  void i64(std::int64_t& v) override { v = reader_.read_i64(); }
  void f64(double& v) override { v = reader_.read_f64(); }
  void string(std::string& v) override { v = reader_.read_string(); }
  void tensor(Tensor& v) override { v = reader_.read_tensor(); }
  void f64s(std::vector<double>& v) override { v = reader_.read_f64s(); }
  void i64s(std::vector<std::int64_t>& v) override { v = reader_.read_i64s(); }
  void options_complete() override;
  ModelReader reader_;
  std::function<void()> on_options_;
  bool options_done_ = false;
};

}  // namespace mlcore
