#include "algorithms/common/host_math.hpp"

#include <algorithm>
#include <cmath>

#include "mlcore/error.hpp"

namespace mlcore::detail {

Eigen::MatrixXd to_eigen(const Tensor& t) {
  MLCORE_CHECK(t.device() == Device::host && t.dtype() == DType::f32,
               "to_eigen needs a host f32 tensor, got " << t.describe());
  Eigen::MatrixXd m(t.rows(), t.cols());
  const float* p = t.data<float>();
  for (std::int64_t i = 0; i < t.rows(); ++i)
    for (std::int64_t j = 0; j < t.cols(); ++j) m(i, j) = p[i * t.cols() + j];
  return m;
}

Tensor from_eigen(const Eigen::MatrixXd& m) {
  Tensor t(m.rows(), m.cols());
  float* p = t.data<float>();
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) p[i * m.cols() + j] = static_cast<float>(m(i, j));
  return t;
}

SampleWeights check_sample_weight(const Tensor& sample_weight, std::int64_t n,
                                  const char* estimator) {
  SampleWeights sw;
  sw.sum = static_cast<double>(n);
  if (sample_weight.numel() == 0) return sw;
  MLCORE_CHECK(
      sample_weight.device() == Device::host && sample_weight.dtype() == DType::f32,
      estimator << ": sample_weight must be a host f32 tensor, got " << sample_weight.describe());
  MLCORE_CHECK(
      (sample_weight.rows() == 1 || sample_weight.cols() == 1) && sample_weight.numel() == n,
      estimator << ": sample_weight must have one value per sample (" << n << "), got "
                << sample_weight.describe());
  const float* v = sample_weight.data<float>();
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    MLCORE_CHECK(
        std::isfinite(v[i]) && v[i] >= 0.0f,
        estimator << ": sample_weight must be finite and >= 0, got " << v[i] << " at index " << i);
    sum += v[i];
  }
  MLCORE_CHECK(sum > 0.0, estimator << ": sample_weight sums to 0; at least one sample must "
                                       "have a positive weight");
  sw.weighted = true;
  sw.w = sample_weight.clone().reshaped(n, 1);
  sw.sum = sum;
  return sw;
}

NonnegativeSolution solve_by_coordinate_descent(const Eigen::MatrixXd& G, const Eigen::MatrixXd& B,
                                                double alpha, bool nonnegative, double tol,
                                                std::int64_t max_sweeps) {
  const Eigen::Index d = G.rows(), t = B.cols();
  NonnegativeSolution sol;
  sol.W = Eigen::MatrixXd::Zero(d, t);
  sol.sweeps.assign(static_cast<std::size_t>(t), 0);
  Eigen::MatrixXd H = 0.5 * (G + G.transpose());
  H.diagonal().array() += alpha;
  for (Eigen::Index r = 0; r < t; ++r) {
    Eigen::VectorXd w = Eigen::VectorXd::Zero(d);
    Eigen::VectorXd g = -B.col(r);  // the gradient H·w − b, kept up to date
    const auto projected_gradient = [&] {
      double worst = 0.0;
      for (Eigen::Index j = 0; j < d; ++j) {
        const bool free = !nonnegative || w(j) > 0.0;
        worst = std::max(worst, free ? std::abs(g(j)) : std::max(0.0, -g(j)));
      }
      return worst;
    };
    std::int64_t sweeps = 0;
    while (projected_gradient() > tol) {
      if (sweeps == max_sweeps) {
        sol.converged = false;
        break;
      }
      double moved = 0.0;
      for (Eigen::Index j = 0; j < d; ++j) {
        if (!(H(j, j) > 0.0)) continue;  // a constant column (α = 0): no information, wⱼ stays 0
        // The exact minimiser along coordinate j, clipped at 0.
        double wj = w(j) - g(j) / H(j, j);
        if (nonnegative) wj = std::max(0.0, wj);
        const double delta = wj - w(j);
        if (delta != 0.0) {
          g.noalias() += delta * H.col(j);
          w(j) = wj;
          moved = std::max(moved, std::abs(delta));
        }
      }
      ++sweeps;
      // Stalled at double rounding: tol is below what this G can resolve.
      if (moved <= 1e-15 * std::max(w.cwiseAbs().maxCoeff(), 1e-300)) break;
    }
    sol.W.col(r) = w;
    sol.sweeps[static_cast<std::size_t>(r)] = sweeps;
  }
  return sol;
}

namespace {

// Z = Σ_{λᵢ > τλ_max} vᵢ·(vᵢᵀR)/(λᵢ + shift) for a symmetric A = VΛVᵀ (τ = kRankTolerance): the
// pseudo-inverse of A + shift·I restricted to A's numerical range. rank: the λᵢ kept.
Eigen::MatrixXd eigen_solve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& R, double shift,
                            std::int64_t& rank) {
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(A);
  const Eigen::VectorXd& lambda = es.eigenvalues();
  const Eigen::MatrixXd& V = es.eigenvectors();
  const double lambda_max = std::max(lambda.maxCoeff(), 0.0);
  Eigen::MatrixXd Z = Eigen::MatrixXd::Zero(A.rows(), R.cols());
  rank = 0;
  if (!(lambda_max > 0.0)) return Z;
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    if (lambda(i) > kRankTolerance * lambda_max) {
      Z.noalias() += V.col(i) * ((V.col(i).transpose() * R) / (lambda(i) + shift));
      ++rank;
    }
  }
  return Z;
}

}  // namespace

NormalEquationsSolution solve_by_eigen(const Eigen::MatrixXd& G, const Eigen::MatrixXd& B,
                                       double alpha) {
  NormalEquationsSolution sol;
  sol.used_pseudo_inverse = true;
  sol.W = Eigen::MatrixXd::Zero(G.rows(), B.cols());
  if (G.rows() == 0) return sol;
  // The f32 GEMM may leave G asymmetric in the last bit: use the symmetric part. A centred X
  // of 0 (one sample) keeps no eigenvalue: w = 0.
  sol.W = eigen_solve(0.5 * (G + G.transpose()), B, alpha, sol.rank);
  return sol;
}

NormalEquationsSolution solve_normal_equations(const Eigen::MatrixXd& G, const Eigen::MatrixXd& B,
                                               double alpha) {
  const Eigen::Index d = G.rows();
  NormalEquationsSolution sol;
  sol.W = Eigen::MatrixXd::Zero(d, B.cols());
  if (d == 0) return sol;

  // A = D⁻¹(G + αI)D⁻¹ with unit diagonal (where the diagonal is not 0), R = D⁻¹B.
  // The f32 GEMM may leave G asymmetric in the last bit: use the symmetric part.
  Eigen::MatrixXd A = 0.5 * (G + G.transpose());
  A.diagonal().array() += alpha;
  Eigen::VectorXd s(d);
  for (Eigen::Index j = 0; j < d; ++j) s(j) = A(j, j) > 0.0 ? std::sqrt(A(j, j)) : 1.0;
  const Eigen::VectorXd inv_s = s.cwiseInverse();
  A = inv_s.asDiagonal() * A * inv_s.asDiagonal();
  const Eigen::MatrixXd R = inv_s.asDiagonal() * B;

  // Cholesky A = LLᵀ. Its pivots L_jj² are bounded below by A's smallest eigenvalue: a pivot
  // near 0 means the system is (numerically) singular and the triangular solve would amplify
  // rounding noise, so we take the eigen path instead.
  Eigen::LLT<Eigen::MatrixXd> llt(A);
  bool ok = llt.info() == Eigen::Success;
  if (ok) {
    const Eigen::VectorXd pivots = llt.matrixLLT().diagonal().array().square();
    ok = pivots.minCoeff() > kRankTolerance * std::max(pivots.maxCoeff(), 1e-300);
  }
  if (ok) {
    sol.W = inv_s.asDiagonal() * llt.solve(R);
    sol.rank = d;
    return sol;
  }

  // Pseudo-inverse: A = VΛVᵀ, z = Σ_{λᵢ > τλ_max} vᵢ (vᵢᵀR) / λᵢ — the minimum-norm solution
  // (in the scaled coordinates) of the least-squares problem.
  sol.used_pseudo_inverse = true;
  sol.W = inv_s.asDiagonal() * eigen_solve(A, R, 0.0, sol.rank);
  return sol;
}

Eigen::VectorXd singular_values_from_gram(const Eigen::MatrixXd& G) {
  const Eigen::MatrixXd S = 0.5 * (G + G.transpose());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(S, Eigen::EigenvaluesOnly);
  Eigen::VectorXd ev = es.eigenvalues().reverse();  // ascending → descending
  for (Eigen::Index i = 0; i < ev.size(); ++i) ev(i) = std::sqrt(std::max(ev(i), 0.0));
  return ev;
}

SymmetricEigen symmetric_eigen_descending(const Eigen::MatrixXd& A) {
  const Eigen::MatrixXd S = 0.5 * (A + A.transpose());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(S);
  SymmetricEigen out;
  out.values = es.eigenvalues().reverse();
  out.vectors = es.eigenvectors().rowwise().reverse();
  return out;
}

}  // namespace mlcore::detail
