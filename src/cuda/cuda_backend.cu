// The `cuda` backend: every primitive as CUDA kernels on one GPU.
//
// This file is the glue: device discovery and peak figures, the backend class, memory and
// transfers, and one *_impl per primitive that calls the launchers of kernels.hpp. The
// arithmetic lives in the files named for each primitive (sgemm.cu, sqdist.cu, ...).
//
// Execution model. Each backend instance owns one non-blocking CUDA stream and two events.
// Every call (a) takes the instance's mutex, (b) records a start event, (c) enqueues its
// kernels, (d) records a stop event and waits for it, and sets the profile record's seconds to
// the event interval: GPU time, without the host's launch overhead (which stays visible in
// record.wall_seconds). Waiting at the end of every call keeps the library simple and safe —
// results are ready when a call returns, a kernel fault is reported by the call that caused it,
// and memory freed after a call is never still in use — at the cost of a few microseconds of
// synchronisation per call, which only matters for tiny tensors.
#include <algorithm>
#include <climits>
#include <cmath>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "device_memory.hpp"
#include "device_util.cuh"
#include "kernels.hpp"
#include "mlcore/backends.hpp"

namespace mlcore {

namespace {

using cuda::i64;

// ---- device discovery ---------------------------------------------------------------------------

// Dense per-SM, per-clock rates of each architecture (from NVIDIA's architecture whitepapers:
// datasheet TFLOPS ÷ (SMs × boost clock)).
struct SmRates {
  double fp32_lanes;  // FP32 FMA lanes per SM
  double tf32_macs;   // tensor-core TF32 MACs per SM per clock
  double int8_macs;   // tensor-core int8 MACs per SM per clock
};

SmRates sm_rates(int major, int minor) {
  if (major == 8 && minor == 0) return {64, 512, 2048};  // A100: 19.5 / 156 / 624 T at 1.41 GHz
  if (major == 8) return {128, 128, 1024};               // GA10x, AD10x (RTX 30/40, L4, L40)
  if (major == 9) return {128, 1024, 4096};  // H100/H200: 67 / 495 / 1979 T at 1.83 GHz (SXM)
  return {128, 1024, 4096};                  // newer: assume at least Hopper's mma.sync rates
}

// A kernel that does nothing: asking for its attributes tells whether this build holds GPU
// code the device can run (CMAKE_CUDA_ARCHITECTURES vs the device's compute capability).
__global__ void probe_kernel() {}

std::string device_name(int index) {
  cudaDeviceProp properties{};
  MLCORE_CUDA_CHECK(cudaGetDeviceProperties(&properties, index));
  return properties.name;
}

std::string device_problem(int index) {
  int major = 0, minor = 0;
  MLCORE_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, index));
  MLCORE_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, index));
  const std::string name = device_name(index);
  if (major < 8) {
    return "CUDA device " + std::to_string(index) + " (" + name + ") has compute capability " +
           std::to_string(major) + "." + std::to_string(minor) +
           "; the cuda backend needs 8.0 (Ampere) or newer (cp.async, int8 mma.sync)";
  }
  int current = 0;
  MLCORE_CUDA_CHECK(cudaGetDevice(&current));
  MLCORE_CUDA_CHECK(cudaSetDevice(index));
  cudaFuncAttributes attributes{};
  const cudaError_t err = cudaFuncGetAttributes(&attributes, probe_kernel);
  (void)cudaGetLastError();
  (void)cudaSetDevice(current);
  if (err != cudaSuccess) {
    return "this build of mlcore has no GPU code for CUDA device " + std::to_string(index) + " (" +
           name + ", compute capability " + std::to_string(major) + "." + std::to_string(minor) +
           "): " + cudaGetErrorString(err) +
           "; rebuild with that architecture in CMAKE_CUDA_ARCHITECTURES";
  }
  return "";
}

int device_count_or_throw() {
  int count = 0;
  MLCORE_CUDA_CHECK(cudaGetDeviceCount(&count));
  return count;
}

void check_device_index(int index) {
  const int count = device_count_or_throw();
  if (index < 0 || index >= count) {
    throw DeviceError("CUDA device " + std::to_string(index) +
                      " does not exist: " + std::to_string(count) + " device(s) found");
  }
}

CudaDeviceInfo query_device(int index) {
  CudaDeviceInfo info;
  info.index = index;
  auto attribute = [index](cudaDeviceAttr what) {
    int v = 0;
    MLCORE_CUDA_CHECK(cudaDeviceGetAttribute(&v, what, index));
    return v;
  };
  info.name = device_name(index);
  info.compute_capability_major = attribute(cudaDevAttrComputeCapabilityMajor);
  info.compute_capability_minor = attribute(cudaDevAttrComputeCapabilityMinor);
  info.sm_count = attribute(cudaDevAttrMultiProcessorCount);
  info.sm_clock_hz = 1e3 * attribute(cudaDevAttrClockRate);
  info.memory_clock_hz = 1e3 * attribute(cudaDevAttrMemoryClockRate);
  info.memory_bus_width_bits = attribute(cudaDevAttrGlobalMemoryBusWidth);
  info.l2_cache_bytes = attribute(cudaDevAttrL2CacheSize);
  info.shared_memory_per_sm_bytes = attribute(cudaDevAttrMaxSharedMemoryPerMultiprocessor);
  info.shared_memory_per_block_optin_bytes = attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin);
  std::size_t free_bytes = 0, total_bytes = 0;
  int current = 0;
  MLCORE_CUDA_CHECK(cudaGetDevice(&current));
  MLCORE_CUDA_CHECK(cudaSetDevice(index));
  const cudaError_t err = cudaMemGetInfo(&free_bytes, &total_bytes);
  MLCORE_CUDA_CHECK(cudaSetDevice(current));
  MLCORE_CUDA_CHECK(err);
  info.global_memory_bytes = static_cast<std::int64_t>(total_bytes);

  const SmRates r = sm_rates(info.compute_capability_major, info.compute_capability_minor);
  const double sm_hz = info.sm_count * info.sm_clock_hz;
  info.peak_f32_flops = 2.0 * r.fp32_lanes * sm_hz;
  info.peak_tf32_flops = 2.0 * r.tf32_macs * sm_hz;
  info.peak_int8_ops = 2.0 * r.int8_macs * sm_hz;
  // DDR: two transfers per memory clock over the whole bus.
  info.peak_bytes_per_second = 2.0 * info.memory_clock_hz * info.memory_bus_width_bits / 8.0;
  return info;
}

// ---- the backend --------------------------------------------------------------------------------

class CudaBackend final : public Backend {
 public:
  CudaBackend(int device, CudaOptions options) : device_(device), options_(options) {
    const std::string problem = device_problem(device);
    if (!problem.empty()) throw DeviceError(problem);
    info_ = query_device(device);
    MLCORE_CUDA_CHECK(cudaSetDevice(device_));
    MLCORE_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    MLCORE_CUDA_CHECK(cudaEventCreate(&start_));
    MLCORE_CUDA_CHECK(cudaEventCreate(&stop_));
  }

  ~CudaBackend() override {
    // Errors are ignored: at process exit the CUDA runtime may already be shutting down.
    if (start_ != nullptr) (void)cudaEventDestroy(start_);
    if (stop_ != nullptr) (void)cudaEventDestroy(stop_);
    if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
  }

  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  std::string name() const override { return "cuda"; }

  std::string description() const override {
    std::ostringstream s;
    s << "cuda: " << info_.name << ", sm_" << info_.compute_capability_major
      << info_.compute_capability_minor << ", " << info_.sm_count << " SMs, "
      << info_.global_memory_bytes / (std::int64_t(1) << 30) << " GiB"
      << (options_.tf32 ? ", f32 GEMM in TF32" : "");
    return s.str();
  }

  Device device() const override { return Device::cuda; }

  // From the device's attributes, not measured: the f32 FMA rate of every SM at the maximum
  // clock (the TF32 tensor-core rate when that option is on) and the DRAM bandwidth.
  MachinePeaks peaks() const override {
    std::ostringstream s;
    s << "device attributes: " << info_.name << ", " << info_.sm_count << " SMs at "
      << info_.sm_clock_hz / 1e9 << " GHz" << (options_.tf32 ? " (TF32 tensor cores)" : "")
      << "; DRAM " << info_.memory_bus_width_bits << "-bit at " << info_.memory_clock_hz / 1e9
      << " GHz (DDR)";
    const double flops = options_.tf32 ? info_.peak_tf32_flops : info_.peak_f32_flops;
    return {flops / 2.0, info_.peak_bytes_per_second, s.str()};
  }

 protected:
  // One primitive call: holds the instance, brackets the call's GPU work with the two events,
  // and owns the call's workspace. finish() waits and sets record.seconds; when a call throws
  // before finish(), the destructor still waits for whatever was enqueued, so the workspace is
  // never freed under a running kernel.
  class Call {
   public:
    Call(CudaBackend& backend, OpRecord& record)
        : lock_(backend.mutex_), backend_(backend), record_(record) {
      MLCORE_CUDA_CHECK(cudaSetDevice(backend_.device_));
      MLCORE_CUDA_CHECK(cudaEventRecord(backend_.start_, backend_.stream_));
    }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

    ~Call() {
      if (!finished_) (void)cudaStreamSynchronize(backend_.stream_);
    }

    cudaStream_t stream() const { return backend_.stream_; }

    void finish() {
      MLCORE_CUDA_CHECK(cudaEventRecord(backend_.stop_, backend_.stream_));
      const cudaError_t err = cudaEventSynchronize(backend_.stop_);
      if (err != cudaSuccess) {
        // A fault inside a kernel surfaces here: name the primitive that launched it.
        (void)cudaStreamSynchronize(backend_.stream_);
        const std::string what = "the kernels of " + record_.op;
        cuda::throw_cuda_error(err, what.c_str(), __FILE__, __LINE__);
      }
      float ms = 0.0f;
      MLCORE_CUDA_CHECK(cudaEventElapsedTime(&ms, backend_.start_, backend_.stop_));
      record_.seconds = 1e-3 * static_cast<double>(ms);
      finished_ = true;
    }

   private:
    std::lock_guard<std::mutex> lock_;
    CudaBackend& backend_;
    OpRecord& record_;
    bool finished_ = false;

   public:
    cuda::Workspace workspace;  // declared last: freed first, after the destructor's wait
  };

  Tensor alloc_impl(std::int64_t rows, std::int64_t cols, DType dtype) override {
    std::lock_guard<std::mutex> lock(mutex_);
    MLCORE_CUDA_CHECK(cudaSetDevice(device_));
    const std::size_t bytes = static_cast<std::size_t>(rows * cols) * dtype_size(dtype);
    std::shared_ptr<void> memory = cuda::device_allocate(bytes);
    if (bytes > 0) {
      MLCORE_CUDA_CHECK(cudaMemsetAsync(memory.get(), 0, bytes, stream_));  // empty() is zeroed
      MLCORE_CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
    void* data = memory.get();
    return Tensor::adopt(std::move(memory), data, rows, cols, dtype, Device::cuda);
  }

  Tensor to_device_impl(const Tensor& t, OpRecord& record) override {
    // Allocated before the Call so that, should the copy fail, the Call's wait runs before the
    // block goes back to the cache.
    MLCORE_CUDA_CHECK(cudaSetDevice(device_));
    std::shared_ptr<void> memory = cuda::device_allocate(t.size_bytes());
    Call call(*this, record);
    if (t.size_bytes() > 0) {
      MLCORE_CUDA_CHECK(cudaMemcpyAsync(memory.get(), t.raw(), t.size_bytes(),
                                        cudaMemcpyHostToDevice, call.stream()));
    }
    call.finish();
    void* data = memory.get();
    return Tensor::adopt(std::move(memory), data, t.rows(), t.cols(), t.dtype(), Device::cuda);
  }

  Tensor to_host_impl(const Tensor& t, OpRecord& record) override {
    Call call(*this, record);
    Tensor host(t.rows(), t.cols(), t.dtype());
    if (t.size_bytes() > 0) {
      MLCORE_CUDA_CHECK(cudaMemcpyAsync(host.raw(), t.raw(), t.size_bytes(), cudaMemcpyDeviceToHost,
                                        call.stream()));
    }
    call.finish();
    return host;
  }

  void fill_impl(Tensor& Y, float value, OpRecord& record) override {
    Call call(*this, record);
    if (Y.dtype() == DType::f32) {
      cuda::fill(Y.numel(), Y.data<float>(), value, call.stream());
    } else if (Y.dtype() == DType::i64) {
      cuda::fill(Y.numel(), Y.data<std::int64_t>(), static_cast<std::int64_t>(value),
                 call.stream());
    } else {
      cuda::fill(Y.numel(), Y.data<std::int32_t>(), static_cast<std::int32_t>(value),
                 call.stream());
    }
    call.finish();
  }

  void gemm_impl(Trans ta, Trans tb, float alpha, const Tensor& A, const Tensor& B, float beta,
                 Tensor& C, OpRecord& r) override {
    Call call(*this, r);
    const bool tra = ta == Trans::yes, trb = tb == Trans::yes;
    if (A.dtype() == DType::f32) {
      if (options_.tf32) {
        cuda::sgemm_tf32(tra, trb, r.m, r.n, r.k, alpha, A.data<float>(), A.cols(), B.data<float>(),
                         B.cols(), beta, C.data<float>(), C.cols(), call.stream());
      } else {
        cuda::sgemm(cuda::SgemmStep::register_blocked, tra, trb, r.m, r.n, r.k, alpha,
                    A.data<float>(), A.cols(), B.data<float>(), B.cols(), beta, C.data<float>(),
                    C.cols(), call.stream());
      }
    } else {
      cuda::igemm(tra, trb, r.m, r.n, r.k, A.data<std::int8_t>(), A.cols(), B.data<std::int8_t>(),
                  B.cols(), beta != 0.0f, C.data<std::int32_t>(), C.cols(), call.stream(),
                  call.workspace);
    }
    call.finish();
  }

  void gemv_impl(Trans ta, float alpha, const Tensor& A, const Tensor& x, float beta, Tensor& y,
                 OpRecord& record) override {
    Call call(*this, record);
    cuda::gemv(ta == Trans::yes, A.rows(), A.cols(), alpha, A.data<float>(), x.data<float>(), beta,
               y.data<float>(), call.stream(), call.workspace);
    call.finish();
  }

  void sqdist_impl(const Tensor& A, const Tensor& B, Tensor& D, OpRecord& record) override {
    Call call(*this, record);
    cuda::sqdist(A.rows(), B.rows(), A.cols(), A.data<float>(), B.data<float>(), D.data<float>(),
                 call.stream());
    call.finish();
  }

  void minkowski_dist_impl(const Tensor& A, const Tensor& B, float p_exp, Tensor& D,
                           OpRecord& record) override {
    Call call(*this, record);
    cuda::minkowski_dist(A.rows(), B.rows(), A.cols(), A.data<float>(), B.data<float>(), p_exp,
                         D.data<float>(), call.stream());
    call.finish();
  }

  void argmin_rows_impl(const Tensor& D, Tensor& index, Tensor& value, OpRecord& record) override {
    Call call(*this, record);
    cuda::argmin_rows(D.rows(), D.cols(), D.data<float>(), index.data<std::int32_t>(),
                      value.data<float>(), call.stream());
    call.finish();
  }

  void topk_rows_impl(const Tensor& D, std::int64_t k, Tensor& index, Tensor& value,
                      OpRecord& record) override {
    Call call(*this, record);
    cuda::topk_rows(D.rows(), D.cols(), k, D.data<float>(), index.data<std::int32_t>(),
                    value.data<float>(), call.stream(), call.workspace);
    call.finish();
  }

  void map_impl(MapFn fn, const Tensor& X, Tensor& Y, MapArgs args, OpRecord& record) override {
    Call call(*this, record);
    cuda::map(fn, X.numel(), X.data<float>(), Y.data<float>(), args, call.stream());
    call.finish();
  }

  void softmax_rows_impl(const Tensor& X, Tensor& Y, bool log, OpRecord& record) override {
    Call call(*this, record);
    cuda::softmax_rows(X.rows(), X.cols(), X.data<float>(), Y.data<float>(), log, call.stream());
    call.finish();
  }

  void axpby_impl(float alpha, const Tensor& X, float beta, Tensor& Y, OpRecord& record) override {
    Call call(*this, record);
    cuda::axpby(X.numel(), alpha, X.data<float>(), beta, Y.data<float>(), call.stream());
    call.finish();
  }

  void multiply_impl(const Tensor& X, Tensor& Y, OpRecord& record) override {
    Call call(*this, record);
    cuda::multiply(X.numel(), X.data<float>(), Y.data<float>(), call.stream());
    call.finish();
  }

  void add_row_vector_impl(float alpha, const Tensor& v, Tensor& Y, OpRecord& record) override {
    Call call(*this, record);
    cuda::add_row_vector(Y.rows(), Y.cols(), alpha, v.data<float>(), Y.data<float>(),
                         call.stream());
    call.finish();
  }

  void scale_rows_impl(const Tensor& w, Tensor& Y, OpRecord& record) override {
    Call call(*this, record);
    cuda::scale_rows(Y.rows(), Y.cols(), w.data<float>(), Y.data<float>(), call.stream());
    call.finish();
  }

  void scatter_add_impl(const Tensor& index, const Tensor& X, Tensor& out,
                        OpRecord& record) override {
    // Backend checks host indices before the call; device indices are checked by the kernels
    // that do the work (an entry ≥ out's rows is reported in a device word and `out` is left
    // as it was), and the word is read once, at the end, with the host check's message.
    unsigned long long first_bad = ~0ull;
    {
      Call call(*this, record);
      auto* flag = call.workspace.alloc<unsigned long long>(1);
      MLCORE_CUDA_CHECK(cudaMemsetAsync(flag, 0xff, sizeof(*flag), call.stream()));
      cuda::scatter_add(X.rows(), index.cols(), X.cols(), out.rows(), index.data<std::int32_t>(),
                        X.data<float>(), out.data<float>(), flag, call.stream(), call.workspace);
      MLCORE_CUDA_CHECK(cudaMemcpyAsync(&first_bad, flag, sizeof(first_bad), cudaMemcpyDeviceToHost,
                                        call.stream()));
      call.finish();
    }
    if (first_bad != ~0ull) {
      std::int32_t value = 0;
      MLCORE_CUDA_CHECK(cudaMemcpy(&value, index.data<std::int32_t>() + first_bad, sizeof(value),
                                   cudaMemcpyDeviceToHost));
      const i64 position = static_cast<i64>(first_bad);
      MLCORE_FAIL("scatter_add(): index[" << position / index.cols() << ", "
                                          << position % index.cols() << "] = " << value
                                          << " but out has only " << out.rows() << " rows");
    }
  }

  void spmm_impl(Trans ta, float alpha, const CsrMatrix& A, const Tensor& B, float beta, Tensor& C,
                 OpRecord& record) override {
    Call call(*this, record);
    cuda::spmm(ta == Trans::yes, A.rows, C.rows(), B.cols(), A.indptr.data<std::int64_t>(),
               A.indices.raw(), A.indices.dtype() == DType::i64, A.data.data<float>(), alpha,
               B.data<float>(), beta, C.data<float>(), call.stream());
    call.finish();
  }

  void gather_rows_impl(const Tensor& X, const Tensor& index, Tensor& Y,
                        OpRecord& record) override {
    Call call(*this, record);
    const std::int32_t rows = static_cast<std::int32_t>(std::min<i64>(X.rows(), INT32_MAX));
    const cuda::BadIndex bad = cuda::find_bad_index(index.data<std::int32_t>(), index.numel(), 0,
                                                    rows, false, call.stream(), call.workspace);
    MLCORE_CHECK(!bad.found, "gather_rows(): index[" << bad.position << "] = " << bad.value
                                                     << " is outside [0, " << X.rows() << ")");
    cuda::gather_rows(Y.rows(), X.cols() * static_cast<i64>(dtype_size(X.dtype())),
                      index.data<std::int32_t>(), X.raw(), Y.raw(), call.stream());
    call.finish();
  }

  void tree_walk_impl(const Tensor& nodes, const Tensor& roots, const Tensor& X,
                      const Tensor* values, double scale, Tensor& out, OpRecord& record) override {
    Call call(*this, record);
    // The table lives on the device, out of Backend's host checks: checked here first, with
    // the same messages, before any walk can leave it.
    const char* op = values ? "tree_walk_sum()" : "tree_walk()";
    const i64 N = nodes.rows();
    const std::int32_t n32 = static_cast<std::int32_t>(std::min<i64>(N, INT32_MAX));
    const cuda::BadIndex bad_root = cuda::find_bad_index(
        roots.data<std::int32_t>(), roots.numel(), 0, n32, false, call.stream(), call.workspace);
    MLCORE_CHECK(!bad_root.found, op << ": roots[" << bad_root.position << "] = " << bad_root.value
                                     << " is outside [0, " << N << ")");
    const auto* nd = reinterpret_cast<const TreeWalkNode*>(nodes.raw());
    const i64 bad = cuda::find_bad_node(nd, N, X.cols(), call.stream(), call.workspace);
    if (bad >= 0) {
      TreeWalkNode node;
      MLCORE_CUDA_CHECK(cudaMemcpy(&node, nd + bad, sizeof(node), cudaMemcpyDeviceToHost));
      const i64 f = node.feature_and_missing & 0x7fffffffu;
      MLCORE_CHECK(f < X.cols(), op << ": node " << bad << " splits on feature " << f
                                    << " but X has " << X.cols() << " columns");
      MLCORE_FAIL(op << ": node " << bad << "'s children " << node.left << ", " << node.right
                     << " must lie after it and before " << N);
    }
    cuda::tree_walk(X.rows(), X.cols(), roots.numel(), nd, roots.data<std::int32_t>(),
                    X.data<float>(), values ? values->data<float>() : nullptr,
                    values ? values->cols() : 0, scale, out.raw(), call.stream(), call.workspace);
    call.finish();
  }

  void loss_gradients_impl(GradientLoss loss, const Tensor& y, const Tensor& raw,
                           const Tensor& weight, Tensor& grad, Tensor& hess, Tensor& ranges,
                           OpRecord& record) override {
    Call call(*this, record);
    if (is_class_loss(loss)) {
      // The class codes live on the device, out of Backend's host check: checked here on a
      // host copy (an O(n) transfer, recorded in this call's time), with the same message.
      std::vector<double> yv(static_cast<std::size_t>(y.numel()));
      MLCORE_CUDA_CHECK(cudaMemcpyAsync(yv.data(), y.raw(), y.size_bytes(), cudaMemcpyDeviceToHost,
                                        call.stream()));
      MLCORE_CUDA_CHECK(cudaStreamSynchronize(call.stream()));
      const double top = loss == GradientLoss::softmax_log_loss ? double(raw.cols() - 1) : 1.0;
      for (std::size_t i = 0; i < yv.size(); ++i) {
        MLCORE_CHECK(yv[i] >= 0 && yv[i] <= top && yv[i] == std::floor(yv[i]),
                     "loss_gradients(): y[" << i << "] = " << yv[i]
                                            << " is not a class code in [0, "
                                            << static_cast<std::int64_t>(top) << "]");
      }
    }
    cuda::loss_gradients(loss, raw.rows(), raw.cols(), y.data<double>(), raw.data<double>(),
                         weight.numel() > 0 ? weight.data<double>() : nullptr, grad.data<double>(),
                         hess.numel() > 0 ? hess.data<double>() : nullptr, ranges.data<double>(),
                         call.stream());
    call.finish();
  }

  std::int64_t partition_rows_impl(const Tensor& codes, const RowSplit& split, Tensor& rows,
                                   OpRecord& record) override {
    Call call(*this, record);
    // The ids live on the device, out of Backend's host check: checked here, same message.
    const i64 m = rows.numel(), n = codes.cols();
    const std::int32_t n32 = static_cast<std::int32_t>(std::min<i64>(n, INT32_MAX));
    const cuda::BadIndex bad = cuda::find_bad_index(rows.data<std::int32_t>(), m, 0, n32, false,
                                                    call.stream(), call.workspace);
    MLCORE_CHECK(!bad.found, "partition_rows(): rows[" << bad.position << "] = " << bad.value
                                                       << " is outside [0, " << n
                                                       << ") (columns of codes)");
    const auto* code =
        reinterpret_cast<const std::uint8_t*>(codes.raw()) + std::int64_t{split.feature} * n;
    const i64 n_left = cuda::partition_rows(code, split, rows.data<std::int32_t>(), m,
                                            call.stream(), call.workspace);
    call.finish();
    return n_left;
  }

  void histogram_impl(const Tensor& codes, const Tensor& offsets, const Tensor& rows,
                      const Tensor& X, Tensor& out, OpRecord& record) override {
    Call call(*this, record);
    // Backend checks host tensors; device ones are checked here, before `out` is touched,
    // with the messages of the host checks.
    const i64 m = rows.numel(), P = codes.cols();
    const std::int32_t n = static_cast<std::int32_t>(std::min<i64>(X.rows(), INT32_MAX));
    const cuda::BadIndex bad_row = cuda::find_bad_index(rows.data<std::int32_t>(), m, 0, n, false,
                                                        call.stream(), call.workspace);
    MLCORE_CHECK(!bad_row.found, "histogram(): rows[" << bad_row.position << "] = " << bad_row.value
                                                      << " is outside [0, " << X.rows() << ")");
    const auto* code = reinterpret_cast<const std::uint8_t*>(codes.raw());
    const cuda::BadBin bad =
        cuda::find_bad_bin(m, P, code, offsets.data<std::int32_t>(), rows.data<std::int32_t>(),
                           out.rows(), call.stream(), call.workspace);
    MLCORE_CHECK(!bad.found, "histogram(): offsets[" << bad.p << "] + codes[" << bad.row << ", "
                                                     << bad.p << "] = " << bad.offset << " + "
                                                     << int(bad.code) << " but out has only "
                                                     << out.rows() << " rows");
    if (X.dtype() == DType::i64) {
      cuda::histogram(m, P, X.cols(), code, offsets.data<std::int32_t>(), rows.data<std::int32_t>(),
                      X.data<std::int64_t>(), out.data<std::int64_t>(), call.stream());
    } else {
      cuda::histogram(m, P, X.cols(), code, offsets.data<std::int32_t>(), rows.data<std::int32_t>(),
                      X.data<float>(), out.data<float>(), call.stream());
    }
    call.finish();
  }

  void reduce_cols_impl(Reduce op, const Tensor& X, Tensor& out, OpRecord& record) override {
    Call call(*this, record);
    cuda::reduce_cols(op, X.rows(), X.cols(), X.data<float>(), out.data<float>(), call.stream(),
                      call.workspace);
    call.finish();
  }

 private:
  int device_;
  CudaOptions options_;
  CudaDeviceInfo info_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  std::mutex mutex_;
};

}  // namespace

std::string cuda_unavailable_reason() {
  // Asked often (every available_backends()), answered once: devices do not come and go.
  static const std::string reason = []() -> std::string {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      // cudaErrorNoDevice: no GPU; cudaErrorInsufficientDriver: no (or too old a) driver.
      return std::string("cudaGetDeviceCount failed with ") + cudaGetErrorName(err) + " (" +
             cudaGetErrorString(err) + "): no NVIDIA GPU with a recent enough driver is usable";
    }
    if (count == 0) return "no CUDA device found";
    try {
      return device_problem(0);
    } catch (const DeviceError& e) {
      return std::string("CUDA device 0 is not usable: ") + e.what();
    }
  }();
  return reason;
}

BackendPtr make_cuda_backend(int device_index) { return make_cuda_backend(device_index, {}); }

BackendPtr make_cuda_backend(int device_index, const CudaOptions& options) {
  const std::string reason = cuda_unavailable_reason();
  if (!reason.empty()) throw DeviceError("backend 'cuda' is not available: " + reason);
  check_device_index(device_index);
  return std::make_shared<CudaBackend>(device_index, options);
}

CudaDeviceInfo cuda_device_info(int device_index) {
  const std::string reason = cuda_unavailable_reason();
  if (!reason.empty()) throw DeviceError("no CUDA device information: " + reason);
  check_device_index(device_index);
  return query_device(device_index);
}

}  // namespace mlcore
