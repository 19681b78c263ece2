#include "mlcore/serialize.hpp"

#include <cstring>
#include <istream>
#include <iterator>
#include <limits>
#include <ostream>
#include <sstream>

namespace mlcore {

namespace {

constexpr char kMagic[8] = {'M', 'L', 'C', 'O', 'R', 'E', 'M', 'D'};
constexpr std::uint32_t kFormatVersion = 1;
// A model's payload is bounded so a corrupted length field cannot ask for terabytes.
constexpr std::uint64_t kMaxPayload = std::uint64_t(1) << 40;

static_assert(sizeof(double) == 8, "the format stores IEEE doubles");

// FNV-1a: a simple, well-known 64-bit hash, enough to catch corruption (not tampering).
std::uint64_t fnv1a(const std::string& bytes) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

template <class T>
void put(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));  // x86-64 and aarch64 are little-endian
  out.append(buf, sizeof(T));
}

}  // namespace

ModelWriter::ModelWriter(std::string model_type, std::uint32_t model_version)
    : model_type_(std::move(model_type)), model_version_(model_version) {}

void ModelWriter::append(const void* data, std::size_t bytes) {
  payload_.append(static_cast<const char*>(data), bytes);
}

void ModelWriter::write_u8(std::uint8_t v) { put(payload_, v); }
void ModelWriter::write_i64(std::int64_t v) { put(payload_, v); }
void ModelWriter::write_f64(double v) { put(payload_, v); }

void ModelWriter::write_string(const std::string& s) {
  put<std::uint64_t>(payload_, s.size());
  payload_.append(s);
}

void ModelWriter::write_tensor(const Tensor& t) {
  MLCORE_CHECK(t.device() == Device::host,
               "write_tensor needs a host tensor, got " << t.describe());
  write_u8(static_cast<std::uint8_t>(t.dtype()));
  write_i64(t.rows());
  write_i64(t.cols());
  if (t.size_bytes() > 0) append(t.raw(), t.size_bytes());
}

void ModelWriter::write_f64s(const std::vector<double>& v) {
  write_i64(static_cast<std::int64_t>(v.size()));
  if (!v.empty()) append(v.data(), v.size() * sizeof(double));
}

void ModelWriter::write_i64s(const std::vector<std::int64_t>& v) {
  write_i64(static_cast<std::int64_t>(v.size()));
  if (!v.empty()) append(v.data(), v.size() * sizeof(std::int64_t));
}

std::string ModelWriter::finish() const {
  std::string file(kMagic, sizeof kMagic);
  put(file, kFormatVersion);
  put<std::uint64_t>(file, model_type_.size());
  file.append(model_type_);
  put(file, model_version_);
  put<std::uint64_t>(file, payload_.size());
  file.append(payload_);
  put(file, fnv1a(payload_));
  return file;
}

void ModelWriter::finish(std::ostream& out) const {
  const std::string file = finish();
  out.write(file.data(), static_cast<std::streamsize>(file.size()));
  MLCORE_CHECK(out.good(), "could not write the " << model_type_ << " model (stream error)");
}

ModelReader::ModelReader(std::istream& in, const std::string& model_type,
                         std::uint32_t max_model_version) {
  MLCORE_CHECK(in.good(), "cannot read a " << model_type << " model: the stream is not readable");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  parse(bytes, model_type, max_model_version);
}

ModelReader::ModelReader(const std::string& bytes, const std::string& model_type,
                         std::uint32_t max_model_version) {
  parse(bytes, model_type, max_model_version);
}

void ModelReader::parse(const std::string& bytes, const std::string& model_type,
                        std::uint32_t max_model_version) {
  std::size_t pos = 0;
  auto need = [&](std::size_t n, const char* what) {
    MLCORE_CHECK(bytes.size() - pos >= n, "not a complete mlcore model file: truncated in the "
                                              << what << " (" << bytes.size() << " bytes)");
  };
  auto get_u32 = [&](const char* what) {
    need(4, what);
    std::uint32_t v;
    std::memcpy(&v, bytes.data() + pos, 4);
    pos += 4;
    return v;
  };
  auto get_u64 = [&](const char* what) {
    need(8, what);
    std::uint64_t v;
    std::memcpy(&v, bytes.data() + pos, 8);
    pos += 8;
    return v;
  };
  MLCORE_CHECK(
      bytes.size() >= sizeof kMagic && std::memcmp(bytes.data(), kMagic, sizeof kMagic) == 0,
      "not an mlcore model file (bad magic bytes)");
  pos = sizeof kMagic;
  const std::uint32_t format = get_u32("format version");
  MLCORE_CHECK(format == kFormatVersion, "mlcore model file has format version "
                                             << format << "; this build reads version "
                                             << kFormatVersion);
  const std::uint64_t type_len = get_u64("model type");
  MLCORE_CHECK(type_len <= 256,
               "corrupted mlcore model file (model type length " << type_len << ")");
  need(type_len, "model type");
  model_type_ = bytes.substr(pos, type_len);
  pos += type_len;
  MLCORE_CHECK(model_type_ == model_type,
               "the file holds a " << model_type_ << " model, not a " << model_type);
  model_version_ = get_u32("model version");
  MLCORE_CHECK(model_version_ >= 1 && model_version_ <= max_model_version,
               model_type << " model version " << model_version_
                          << " is not supported (this build reads versions 1 to "
                          << max_model_version << ")");
  const std::uint64_t len = get_u64("payload length");
  MLCORE_CHECK(len <= kMaxPayload, "corrupted mlcore model file (payload length " << len << ")");
  need(len, "payload");
  payload_ = bytes.substr(pos, len);
  pos += len;
  const std::uint64_t hash = get_u64("checksum");
  MLCORE_CHECK(hash == fnv1a(payload_),
               "corrupted " << model_type << " model file: checksum mismatch");
  MLCORE_CHECK(pos == bytes.size(), "corrupted " << model_type
                                                 << " model file: " << bytes.size() - pos
                                                 << " unexpected trailing bytes");
}

void ModelReader::take(void* out, std::size_t bytes, const char* what) {
  MLCORE_CHECK(payload_.size() - pos_ >= bytes,
               "corrupted " << model_type_ << " model: payload ends inside a " << what);
  std::memcpy(out, payload_.data() + pos_, bytes);
  pos_ += bytes;
}

std::uint8_t ModelReader::read_u8() {
  std::uint8_t v;
  take(&v, 1, "byte");
  return v;
}

std::int64_t ModelReader::read_i64() {
  std::int64_t v;
  take(&v, 8, "integer");
  return v;
}

double ModelReader::read_f64() {
  double v;
  take(&v, 8, "number");
  return v;
}

std::string ModelReader::read_string() {
  std::uint64_t len;
  take(&len, 8, "string length");
  MLCORE_CHECK(len <= payload_.size() - pos_,
               "corrupted " << model_type_ << " model: string length " << len << " past the end");
  std::string s = payload_.substr(pos_, len);
  pos_ += len;
  return s;
}

Tensor ModelReader::read_tensor() {
  const std::uint8_t dtype = read_u8();
  MLCORE_CHECK(dtype <= static_cast<std::uint8_t>(DType::f64),
               "corrupted " << model_type_ << " model: unknown dtype code " << int(dtype));
  const std::int64_t rows = read_i64(), cols = read_i64();
  // The shape must fit in what is left of the payload *before* anything is allocated: the
  // checksum catches accidents, not a crafted file, and a shape of 2^20 x 2^20 must be an
  // error, not a terabyte allocation.
  const std::uint64_t left = payload_.size() - pos_;
  const std::uint64_t elem = dtype_size(static_cast<DType>(dtype));
  MLCORE_CHECK(rows >= 0 && cols >= 0 &&
                   (rows == 0 || std::uint64_t(cols) <= left / elem / std::uint64_t(rows)),
               "corrupted " << model_type_ << " model: a tensor of shape " << rows << "x" << cols
                            << " does not fit in the " << left << " payload bytes left");
  Tensor t(rows, cols, static_cast<DType>(dtype));
  if (t.size_bytes() > 0) take(t.raw(), t.size_bytes(), "tensor");
  return t;
}

std::vector<double> ModelReader::read_f64s() {
  const std::int64_t n = read_i64();
  MLCORE_CHECK(n >= 0 && std::uint64_t(n) <= (payload_.size() - pos_) / 8,
               "corrupted " << model_type_ << " model: array length " << n);
  std::vector<double> v(n);
  if (n > 0) take(v.data(), n * 8, "array");
  return v;
}

std::vector<std::int64_t> ModelReader::read_i64s() {
  const std::int64_t n = read_i64();
  MLCORE_CHECK(n >= 0 && std::uint64_t(n) <= (payload_.size() - pos_) / 8,
               "corrupted " << model_type_ << " model: array length " << n);
  std::vector<std::int64_t> v(n);
  if (n > 0) take(v.data(), n * 8, "array");
  return v;
}

void ModelReader::finish() const {
  MLCORE_CHECK(pos_ == payload_.size(), "corrupted " << model_type_
                                                     << " model: " << payload_.size() - pos_
                                                     << " payload bytes were not read");
}

// ---- Archive ------------------------------------------------------------------------------

void Archive::operator()(bool& v) {
  std::uint8_t b = v ? 1 : 0;
  u8(b);
  v = b != 0;
}

void Archive::operator()(int& v) {
  std::int64_t w = v;
  i64(w);
  MLCORE_CHECK(w >= std::numeric_limits<int>::min() && w <= std::numeric_limits<int>::max(),
               "corrupted model: " << w << " does not fit a 32-bit integer field");
  v = static_cast<int>(w);
}

void Archive::operator()(std::uint64_t& v) {
  std::int64_t w = static_cast<std::int64_t>(v);
  i64(w);
  v = static_cast<std::uint64_t>(w);
}

void Archive::check_code(std::uint8_t code, std::uint8_t last) const {
  MLCORE_CHECK(code <= last,
               "corrupted model: invalid code " << int(code) << " (at most " << int(last) << ")");
}

bool Archive::fitted(bool& fitted, std::uint32_t since) {
  options_complete();
  if (version_ < since) {
    MLCORE_ASSERT(loading_, "saving model version " << version_ << " without its fitted flag");
    fitted = true;
  } else {
    (*this)(fitted);
  }
  return fitted;
}

LoadArchive::LoadArchive(std::istream& in, const std::string& model_type,
                         std::uint32_t max_model_version, std::function<void()> on_options)
    : Archive(true, 0),
      reader_(in, model_type, max_model_version),
      on_options_(std::move(on_options)) {
  set_version(reader_.model_version());
}

void LoadArchive::options_complete() {
  if (options_done_) return;
  options_done_ = true;
  if (on_options_) on_options_();
}

void LoadArchive::finish() const {
  MLCORE_ASSERT(options_done_, "a model's visit never reached Archive::fitted()");
  reader_.finish();
}

}  // namespace mlcore
