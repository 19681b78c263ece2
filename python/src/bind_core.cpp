// Bindings of the core: backends, the registry and the primitives. Each primitive binding takes
// already-validated numpy arrays (outputs allocated by the Python layer), runs the call with the
// GIL released under a fresh ProfileScope, and returns that call's records as a list of dicts.
#include <map>

#include "bindings.hpp"
#include "convert.hpp"
#include "mlcore/backends.hpp"
#include "mlcore/config.hpp"

namespace mlcore::python {

namespace {

MapFn map_fn_from_name(const std::string& name) {
  static const std::map<std::string, MapFn> kNames = {
      {"identity", MapFn::identity},     {"exp", MapFn::exp},   {"log", MapFn::log},
      {"sigmoid", MapFn::sigmoid},       {"tanh", MapFn::tanh}, {"sqrt", MapFn::sqrt},
      {"square", MapFn::square},         {"abs", MapFn::abs},   {"relu", MapFn::relu},
      {"reciprocal", MapFn::reciprocal}, {"pow", MapFn::pow},   {"log1pexp", MapFn::log1pexp}};
  auto it = kNames.find(name);
  if (it == kNames.end()) {
    std::string known;
    for (const auto& kv : kNames) known += (known.empty() ? "" : ", ") + kv.first;
    MLCORE_FAIL("unknown map function '" << name << "'; known: " << known);
  }
  return it->second;
}

Reduce reduce_from_name(const std::string& name) {
  if (name == "sum") return Reduce::sum;
  if (name == "mean") return Reduce::mean;
  if (name == "var") return Reduce::var;
  MLCORE_FAIL("unknown column reduction '" << name << "'; known: sum, mean, var");
}

Trans trans(bool t) { return t ? Trans::yes : Trans::no; }

}  // namespace

void bind_core(py::module_& m) {
  m.attr("__version__") = MLCORE_VERSION;
  m.attr("with_cuda") = bool(MLCORE_WITH_CUDA);

  py::class_<Backend, BackendPtr>(m, "Backend", "A backend instance (use mlcore.backend()).")
      .def_property_readonly("name", &Backend::name)
      .def_property_readonly("description", &Backend::description)
      .def_property_readonly("device", [](const Backend& b) { return device_name(b.device()); })
      .def_property_readonly("capabilities",
                             [](const Backend& b) {
                               const Capabilities c = b.capabilities();
                               py::dict d;
                               d["exact_f32"] = c.exact_f32;
                               d["simulated_time"] = c.simulated_time;
                               d["device_memory"] = b.device() != Device::host;
                               return d;
                             })
      .def_property_readonly("peaks",
                             [](const Backend& b) {
                               const MachinePeaks p = b.peaks();
                               py::dict d;
                               d["macs_per_second"] = p.macs_per_second;
                               d["bytes_per_second"] = p.bytes_per_second;
                               d["source"] = p.source;
                               return d;
                             })
      .def("__repr__",
           [](const Backend& b) { return "<mlcore._core.Backend " + b.description() + ">"; });

  m.def("backend", &backend, py::arg("name"), "The shared default instance of a backend.");
  m.def("first_non_finite", &first_non_finite, py::arg("a").noconvert(),
        "Flat index of the first NaN or infinity in a C-contiguous float32 array, or -1.");
  m.def("make_scalar_backend", &make_scalar_backend);
  m.def("make_avx2_backend", &make_avx2_backend, py::arg("num_threads") = 0);
  m.def("make_avx512_backend", &make_avx512_backend, py::arg("num_threads") = 0);
  m.def(
      "make_amx_backend",
      [](int num_threads, bool emulate_tiles, bool record_quant_error) {
        AmxOptions o;
        o.num_threads = num_threads;
        o.emulate_tiles = emulate_tiles;
        o.record_quant_error = record_quant_error;
        return make_amx_backend(o);
      },
      py::arg("num_threads") = AmxOptions{}.num_threads,
      py::arg("emulate_tiles") = AmxOptions{}.emulate_tiles,
      py::arg("record_quant_error") = AmxOptions{}.record_quant_error);
  m.def("default_backend_name", &default_backend_name,
        "The fastest f32 CPU backend this machine runs: what a backend left unnamed means.");
  m.def("available_backends", &available_backends);
  m.def("cuda_unavailable_reason", &cuda_unavailable_reason);
  m.def("cpu_supports_avx2", &cpu_supports_avx2);
  m.def("cpu_supports_avx512", &cpu_supports_avx512);
  m.def("host_int8_kernel", &host_int8_kernel);
  m.def("amx_unavailable_reason", &amx_unavailable_reason);
  // For the int8 benchmarks (bench/bench_avx512.py): the host's int8 GEMM and the AMX ceiling.
  m.def(
      "host_int8_gemm",
      [](py::array a, py::array b, int num_threads) {
        Tensor A = borrow_array(a, "a"), B = borrow_array(b, "b");
        py::array c = new_array(A.rows(), B.cols(), DType::i32);
        Tensor C = borrow_array(c, "out");
        {
          InterruptibleCall nogil;
          host_int8_gemm(A, B, C, num_threads);
        }
        return c;
      },
      py::arg("a"), py::arg("b"), py::arg("num_threads") = 0);
  m.def(
      "measure_amx_int8_peak",
      [](int num_threads) {
        InterruptibleCall nogil;
        return measure_amx_int8_peak(num_threads);
      },
      py::arg("num_threads") = 0);
  m.def("backend_info", [] {
    py::list out;
    for (const BackendInfo& i : backend_info()) {
      py::dict d;
      d["name"] = i.name;
      d["available"] = i.available;
      d["reason"] = i.reason;
      out.append(d);
    }
    return out;
  });

  m.def("gemm", [](BackendPtr b, bool ta, bool tb, float alpha, py::array a, py::array bm,
                   float beta, py::array c, bool wide_range_b, bool rows_up_to_constant) {
    return profiled([&] {
      DeviceCall call(b);
      Tensor A = call.input(a, "a"), B = call.input(bm, "b"), C = call.output(c, "out");
      GemmHints hints;
      hints.wide_range_b = wide_range_b;
      hints.rows_up_to_constant = rows_up_to_constant;
      {
        InterruptibleCall nogil;
        b->gemm(trans(ta), trans(tb), alpha, A, B, beta, C, hints);
      }
      call.finish();
    });
  });
  py::class_<PyCsr>(m, "Csr",
                    "A CSR matrix over numpy arrays (no copy); make it with mlcore._sparse.as_csr")
      .def(py::init(&make_py_csr), py::arg("rows"), py::arg("cols"), py::arg("indptr"),
           py::arg("indices"), py::arg("data"))
      .def_property_readonly("shape",
                             [](const PyCsr& c) { return py::make_tuple(c.m.rows, c.m.cols); })
      .def_property_readonly("nnz", [](const PyCsr& c) { return c.m.nnz(); });
  m.def("spmm", [](BackendPtr b, bool ta, float alpha, const PyCsr& a, py::array bm, float beta,
                   py::array c) {
    return profiled([&] {
      DeviceCall call(b);
      CsrMatrix A = a.m;
      A.indptr = call.input(a.keep[0].cast<py::array>(), "a.indptr");
      A.indices = call.input(a.keep[1].cast<py::array>(), "a.indices");
      A.data = call.input(a.keep[2].cast<py::array>(), "a.data");
      Tensor B = call.input(bm, "b"), C = call.output(c, "out");
      {
        InterruptibleCall nogil;
        b->spmm(trans(ta), alpha, A, B, beta, C);
      }
      call.finish();
    });
  });
  m.def("gemv",
        [](BackendPtr b, bool ta, float alpha, py::array a, py::array x, float beta, py::array y) {
          return profiled([&] {
            DeviceCall call(b);
            Tensor A = call.input(a, "a"), X = call.input(x, "x"), Y = call.output(y, "out");
            {
              InterruptibleCall nogil;
              b->gemv(trans(ta), alpha, A, X, beta, Y);
            }
            call.finish();
          });
        });
  m.def("sqdist", [](BackendPtr b, py::array a, py::array bm, py::array d) {
    return profiled([&] {
      DeviceCall call(b);
      Tensor A = call.input(a, "a"), B = call.input(bm, "b"), D = call.output(d, "out");
      {
        InterruptibleCall nogil;
        b->sqdist(A, B, D);
      }
      call.finish();
    });
  });
  m.def("minkowski_dist", [](BackendPtr b, py::array a, py::array bm, float p, py::array d) {
    return profiled([&] {
      DeviceCall call(b);
      Tensor A = call.input(a, "a"), B = call.input(bm, "b"), D = call.output(d, "out");
      {
        InterruptibleCall nogil;
        b->minkowski_dist(A, B, p, D);
      }
      call.finish();
    });
  });
  m.def("argmin_rows", [](BackendPtr b, py::array d, py::array index, py::array value) {
    return profiled([&] {
      DeviceCall call(b);
      Tensor D = call.input(d, "d"), I = call.output(index, "index"),
             V = call.output(value, "value");
      {
        InterruptibleCall nogil;
        b->argmin_rows(D, I, V);
      }
      call.finish();
    });
  });
  m.def("topk_rows",
        [](BackendPtr b, py::array d, std::int64_t k, py::array index, py::array value) {
          return profiled([&] {
            DeviceCall call(b);
            Tensor D = call.input(d, "d"), I = call.output(index, "index"),
                   V = call.output(value, "value");
            {
              InterruptibleCall nogil;
              b->topk_rows(D, k, I, V);
            }
            call.finish();
          });
        });
  m.def("map", [](BackendPtr b, const std::string& fn, py::array x, py::array y, float scale,
                  float shift, float exponent) {
    const MapFn f = map_fn_from_name(fn);
    return profiled([&] {
      DeviceCall call(b);
      Tensor X = call.input(x, "x"), Y = call.output(y, "out");
      {
        InterruptibleCall nogil;
        b->map(f, X, Y, MapArgs{scale, shift, exponent});
      }
      call.finish();
    });
  });
  m.def("softmax_rows", [](BackendPtr b, py::array x, py::array y, bool log) {
    return profiled([&] {
      DeviceCall call(b);
      Tensor X = call.input(x, "x"), Y = call.output(y, "out");
      {
        InterruptibleCall nogil;
        b->softmax_rows(X, Y, log);
      }
      call.finish();
    });
  });
  m.def("axpby", [](BackendPtr b, float alpha, py::array x, float beta, py::array y) {
    return profiled([&] {
      DeviceCall call(b);
      Tensor X = call.input(x, "x"), Y = call.output(y, "y");
      {
        InterruptibleCall nogil;
        b->axpby(alpha, X, beta, Y);
      }
      call.finish();
    });
  });
  m.def("multiply", [](BackendPtr b, py::array x, py::array y) {
    return profiled([&] {
      DeviceCall call(b);
      Tensor X = call.input(x, "x"), Y = call.output(y, "y");
      {
        InterruptibleCall nogil;
        b->multiply(X, Y);
      }
      call.finish();
    });
  });
  m.def("add_row_vector", [](BackendPtr b, float alpha, py::array v, py::array y) {
    return profiled([&] {
      DeviceCall call(b);
      Tensor V = call.input(v, "v"), Y = call.output(y, "y");
      {
        InterruptibleCall nogil;
        b->add_row_vector(alpha, V, Y);
      }
      call.finish();
    });
  });
  m.def("scale_rows", [](BackendPtr b, py::array w, py::array y) {
    return profiled([&] {
      DeviceCall call(b);
      Tensor W = call.input(w, "w"), Y = call.output(y, "y");
      {
        InterruptibleCall nogil;
        b->scale_rows(W, Y);
      }
      call.finish();
    });
  });
  m.def("scatter_add", [](BackendPtr b, py::array index, py::array x, py::array out) {
    return profiled([&] {
      DeviceCall call(b);
      Tensor I = call.input(index, "index"), X = call.input(x, "x"), O = call.output(out, "out");
      {
        InterruptibleCall nogil;
        b->scatter_add(I, X, O);
      }
      call.finish();
    });
  });
  m.def("gather_rows", [](BackendPtr b, py::array x, py::array index, py::array y) {
    return profiled([&] {
      DeviceCall call(b);
      Tensor X = call.input(x, "x"), I = call.input(index, "index"), Y = call.output(y, "out");
      {
        InterruptibleCall nogil;
        b->gather_rows(X, I, Y);
      }
      call.finish();
    });
  });
  // codes: n × P int8 (unsigned codes as bytes); offsets: 1 × P int32; rows: m int32; x: n × c
  // float32 or int64; out: B × c of x's dtype, accumulated into (Backend::histogram).
  m.def("histogram", [](BackendPtr b, py::array codes, py::array offsets, py::array rows,
                        py::array x, py::array out) {
    return profiled([&] {
      DeviceCall call(b);
      Tensor C = call.input(codes, "codes"), F = call.input(offsets, "offsets"),
             R = call.input(rows, "rows"), X = call.input(x, "x"), O = call.output(out, "out");
      {
        InterruptibleCall nogil;
        b->histogram(C, F, R, X, O);
      }
      call.finish();
    });
  });
  // y: n float64; raw: n × K float64; weight: n float64 or empty; grad, hess: n × K float64
  // (hess empty for unweighted squared error); ranges: 2 × K float64 (Backend::loss_gradients).
  m.def("loss_gradients", [](BackendPtr b, const std::string& loss, py::array y, py::array raw,
                             py::array weight, py::array grad, py::array hess, py::array ranges) {
    GradientLoss l = GradientLoss::squared_error;
    if (loss == "binary_log_loss") {
      l = GradientLoss::binary_log_loss;
    } else if (loss == "softmax_log_loss") {
      l = GradientLoss::softmax_log_loss;
    } else if (loss == "half_poisson") {
      l = GradientLoss::half_poisson;
    } else if (loss == "half_gamma") {
      l = GradientLoss::half_gamma;
    } else {
      MLCORE_CHECK(loss == "squared_error",
                   "loss must be 'squared_error', 'binary_log_loss', 'softmax_log_loss', "
                   "'half_poisson' or 'half_gamma', got '"
                       << loss << "'");
    }
    return profiled([&] {
      DeviceCall call(b);
      Tensor Y = call.input(y, "y"), R = call.input(raw, "raw"), W = call.input(weight, "weight"),
             G = call.output(grad, "grad"), H = call.output(hess, "hess"),
             Q = call.output(ranges, "ranges");
      {
        InterruptibleCall nogil;
        b->loss_gradients(l, Y, R, W, G, H, Q);
      }
      call.finish();
    });
  });
  // codes: P × n int8 (feature-major unsigned codes); rows: m int32, partitioned in place
  // (Backend::partition_rows). Returns (records, number going left).
  m.def("partition_rows", [](BackendPtr b, py::array codes, py::array rows, std::int32_t feature,
                             std::int32_t bin, std::int32_t missing_code, bool missing_left) {
    std::int64_t n_left = 0;
    py::list records = profiled([&] {
      DeviceCall call(b);
      Tensor C = call.input(codes, "codes"), R = call.output(rows, "rows");
      RowSplit split;
      split.feature = feature;
      split.bin = bin;
      split.missing_code = missing_code;
      split.missing_left = missing_left;
      {
        InterruptibleCall nogil;
        n_left = b->partition_rows(C, split, R);
      }
      call.finish();
    });
    return py::make_tuple(records, n_left);
  });
  // nodes: N × 4 int32 (TreeWalkNode rows); roots: T × 1 int32; x: m × d float32; leaf: m × T
  // int32 (Backend::tree_walk).
  m.def("tree_walk",
        [](BackendPtr b, py::array nodes, py::array roots, py::array x, py::array leaf) {
          return profiled([&] {
            DeviceCall call(b);
            Tensor N = call.input(nodes, "nodes"), R = call.input(roots, "roots"),
                   X = call.input(x, "x"), L = call.output(leaf, "out");
            {
              InterruptibleCall nogil;
              b->tree_walk(N, R, X, L);
            }
            call.finish();
          });
        });
  // values: N × c float32; out: m × c float32 (Backend::tree_walk_sum).
  m.def("tree_walk_sum", [](BackendPtr b, py::array nodes, py::array roots, py::array values,
                            py::array x, double scale, py::array out) {
    return profiled([&] {
      DeviceCall call(b);
      Tensor N = call.input(nodes, "nodes"), R = call.input(roots, "roots"),
             V = call.input(values, "values"), X = call.input(x, "x"), O = call.output(out, "out");
      {
        InterruptibleCall nogil;
        b->tree_walk_sum(N, R, V, X, scale, O);
      }
      call.finish();
    });
  });
  m.def("reduce_cols", [](BackendPtr b, const std::string& op, py::array x, py::array out) {
    const Reduce r = reduce_from_name(op);
    return profiled([&] {
      DeviceCall call(b);
      Tensor X = call.input(x, "x"), O = call.output(out, "out");
      {
        InterruptibleCall nogil;
        b->reduce_cols(r, X, O);
      }
      call.finish();
    });
  });
}

}  // namespace mlcore::python
