// Tensor: the one data type every primitive takes.
//
// A Tensor is a 2-D, dense, row-major array (rows × cols) of f32, i8 or i32 that lives on one
// device (the host, or a CUDA GPU). Element (i, j) is at data[i * cols + j]; there is no stride,
// so a block of whole rows is itself a Tensor (row_slice) and a C-contiguous numpy array can be
// borrowed without a copy. Vectors are tensors with one column (n × 1) or one row (1 × n).
//
// A Tensor is a handle: copying it shares the storage (like a numpy view or a torch tensor);
// clone() makes a deep copy. A borrowed tensor points at memory the caller owns and must keep
// alive for as long as the tensor is used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "mlcore/error.hpp"

namespace mlcore {

// i64 exists for exact integer sums (a histogram tree's packed statistics, see
// Backend::histogram), f64 for boosting's gradients (Backend::loss_gradients), which must be
// the same bits on every backend; the arithmetic primitives take f32 (and i8 → i32 for the
// int8 GEMM).
enum class DType : std::uint8_t { f32, i8, i32, i64, f64 };

// Bytes per element: 4, 1, 4, 8, 8.
std::size_t dtype_size(DType dtype);
// "f32", "i8", "i32", "i64", "f64".
const char* dtype_name(DType dtype);

// Where a tensor's bytes are. The systolic simulator keeps its tensors on the host (its "DRAM"
// is modelled, not separate memory).
enum class Device : std::uint8_t { host, cuda };
const char* device_name(Device device);

// Maps a C++ element type to its DType (for the checked data<T>() accessor).
template <class T>
struct dtype_of;
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::f32;
};
template <>
struct dtype_of<std::int8_t> {
  static constexpr DType value = DType::i8;
};
template <>
struct dtype_of<std::int32_t> {
  static constexpr DType value = DType::i32;
};
template <>
struct dtype_of<std::int64_t> {
  static constexpr DType value = DType::i64;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::f64;
};

class Tensor {
 public:
  // An empty 0 × 0 f32 host tensor.
  Tensor() = default;

  // An owning host tensor, zero-filled. rows, cols ≥ 0.
  Tensor(std::int64_t rows, std::int64_t cols, DType dtype = DType::f32);

  // An owning host tensor, zero-filled (same as the constructor, reads better at call sites).
  static Tensor zeros(std::int64_t rows, std::int64_t cols, DType dtype = DType::f32);

  // A tensor over memory the caller owns (no copy). `data` must hold rows*cols elements of
  // `dtype` on `device` and outlive every use of the tensor.
  static Tensor borrow(void* data, std::int64_t rows, std::int64_t cols, DType dtype,
                       Device device = Device::host);

  // A tensor over memory kept alive by `owner` (used by backends that allocate device memory,
  // and by the Python layer to tie a tensor to a numpy array).
  static Tensor adopt(std::shared_ptr<void> owner, void* data, std::int64_t rows, std::int64_t cols,
                      DType dtype, Device device);

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  std::int64_t numel() const { return rows_ * cols_; }
  std::size_t size_bytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  bool empty() const { return numel() == 0; }
  // True when the tensor keeps its storage alive (owning or adopted), false when borrowed.
  bool owns_storage() const { return owner_ != nullptr; }
  // "f32[3×4]@host": used in error messages.
  std::string describe() const;

  void* raw() { return data_; }
  const void* raw() const { return data_; }

  // Typed access; throws mlcore::Error when T does not match dtype().
  template <class T>
  T* data() {
    check_dtype(dtype_of<T>::value);
    return static_cast<T*>(data_);
  }
  template <class T>
  const T* data() const {
    check_dtype(dtype_of<T>::value);
    return static_cast<const T*>(data_);
  }

  // Element access for host tensors (no bounds check in release builds; for tests and glue).
  template <class T>
  T& at(std::int64_t i, std::int64_t j) {
    return data<T>()[i * cols_ + j];
  }
  template <class T>
  const T& at(std::int64_t i, std::int64_t j) const {
    return data<T>()[i * cols_ + j];
  }

  // Rows [begin, end) as a tensor sharing this one's storage.
  Tensor row_slice(std::int64_t begin, std::int64_t end) const;

  // A deep copy on the host. Only for host tensors (use Backend::to_host for device ones).
  Tensor clone() const;

  // Same storage seen with another shape of the same element count (e.g. n×1 ↔ 1×n).
  Tensor reshaped(std::int64_t rows, std::int64_t cols) const;

 private:
  void check_dtype(DType wanted) const;

  std::shared_ptr<void> owner_;  // null for borrowed tensors
  void* data_ = nullptr;
  std::int64_t rows_ = 0;
  std::int64_t cols_ = 0;
  DType dtype_ = DType::f32;
  Device device_ = Device::host;
};

// Throws mlcore::Error unless t has dtype `dtype`; `what` names the argument ("A", "index").
void check_dtype(const Tensor& t, DType dtype, const char* what);
// Throws mlcore::Error unless t is rows × cols.
void check_shape(const Tensor& t, std::int64_t rows, std::int64_t cols, const char* what);
// Throws unless t is a vector (n × 1 or 1 × n) of length n.
void check_vector(const Tensor& t, std::int64_t n, const char* what);

}  // namespace mlcore
