#include "mlcore/tensor.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <sstream>

namespace mlcore {

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return 4;
    case DType::i8:
      return 1;
    case DType::i32:
      return 4;
    case DType::i64:
    case DType::f64:
      return 8;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "f32";
    case DType::i8:
      return "i8";
    case DType::i32:
      return "i32";
    case DType::i64:
      return "i64";
    case DType::f64:
      return "f64";
  }
  return "?";
}

const char* device_name(Device device) { return device == Device::host ? "host" : "cuda"; }

namespace {

// 64-byte alignment: one cache line, and enough for any AVX2/AVX-512 load to be aligned when a
// row happens to start at the buffer's beginning.
constexpr std::size_t kHostAlignment = 64;

std::shared_ptr<void> allocate_host(std::size_t bytes) {
  std::size_t rounded = (bytes + kHostAlignment - 1) / kHostAlignment * kHostAlignment;
  if (rounded == 0) rounded = kHostAlignment;
  void* p = std::aligned_alloc(kHostAlignment, rounded);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

void check_dims(std::int64_t rows, std::int64_t cols) {
  MLCORE_CHECK(rows >= 0 && cols >= 0,
               "tensor dimensions must be non-negative, got " << rows << " x " << cols);
}

}  // namespace

Tensor::Tensor(std::int64_t rows, std::int64_t cols, DType dtype)
    : rows_(rows), cols_(cols), dtype_(dtype) {
  check_dims(rows, cols);
  owner_ = allocate_host(size_bytes());
  data_ = owner_.get();
}

Tensor Tensor::zeros(std::int64_t rows, std::int64_t cols, DType dtype) {
  return Tensor(rows, cols, dtype);
}

Tensor Tensor::borrow(void* data, std::int64_t rows, std::int64_t cols, DType dtype,
                      Device device) {
  check_dims(rows, cols);
  MLCORE_CHECK(data != nullptr || rows * cols == 0,
               "cannot borrow a null pointer for a " << rows << " x " << cols << " tensor");
  Tensor t;
  t.data_ = data;
  t.rows_ = rows;
  t.cols_ = cols;
  t.dtype_ = dtype;
  t.device_ = device;
  return t;
}

Tensor Tensor::adopt(std::shared_ptr<void> owner, void* data, std::int64_t rows, std::int64_t cols,
                     DType dtype, Device device) {
  Tensor t = borrow(data, rows, cols, dtype, device);
  t.owner_ = std::move(owner);
  return t;
}

std::string Tensor::describe() const {
  std::ostringstream s;
  s << dtype_name(dtype_) << "[" << rows_ << "x" << cols_ << "]@" << device_name(device_);
  return s.str();
}

void Tensor::check_dtype(DType wanted) const {
  MLCORE_CHECK(dtype_ == wanted, "tensor " << describe() << " accessed as " << dtype_name(wanted));
}

Tensor Tensor::row_slice(std::int64_t begin, std::int64_t end) const {
  MLCORE_CHECK(0 <= begin && begin <= end && end <= rows_,
               "row_slice [" << begin << ", " << end << ") out of range for " << describe());
  Tensor t = *this;
  t.data_ =
      static_cast<char*>(data_) + static_cast<std::size_t>(begin * cols_) * dtype_size(dtype_);
  t.rows_ = end - begin;
  return t;
}

Tensor Tensor::clone() const {
  MLCORE_CHECK(device_ == Device::host,
               "clone() works on host tensors; move " << describe() << " with to_host first");
  Tensor copy(rows_, cols_, dtype_);
  if (size_bytes() > 0) std::memcpy(copy.data_, data_, size_bytes());
  return copy;
}

Tensor Tensor::reshaped(std::int64_t rows, std::int64_t cols) const {
  check_dims(rows, cols);
  MLCORE_CHECK(rows * cols == numel(), "cannot reshape " << describe() << " to " << rows << " x "
                                                         << cols << ": element counts differ");
  Tensor t = *this;
  t.rows_ = rows;
  t.cols_ = cols;
  return t;
}

void check_dtype(const Tensor& t, DType dtype, const char* what) {
  MLCORE_CHECK(t.dtype() == dtype,
               what << " must be " << dtype_name(dtype) << ", got " << t.describe());
}

void check_shape(const Tensor& t, std::int64_t rows, std::int64_t cols, const char* what) {
  MLCORE_CHECK(t.rows() == rows && t.cols() == cols,
               what << " must be " << rows << "x" << cols << ", got " << t.describe());
}

void check_vector(const Tensor& t, std::int64_t n, const char* what) {
  MLCORE_CHECK((t.rows() == 1 || t.cols() == 1) && t.numel() == n,
               what << " must be a vector of length " << n << " (" << n << "x1 or 1x" << n
                    << "), got " << t.describe());
}

}  // namespace mlcore
