#include "gpu/fit.hpp"

#include <cmath>
#include <limits>

namespace aifsim::gpu {

Eigen::VectorXd nnls_small(const Eigen::MatrixXd& A, const Eigen::VectorXd& b, const Eigen::VectorXd& weight) {
  const int cols = static_cast<int>(A.cols());
  Eigen::MatrixXd Aw = weight.asDiagonal() * A;
  Eigen::VectorXd bw = weight.cwiseProduct(b);
  Eigen::VectorXd best = Eigen::VectorXd::Zero(cols);
  double best_residual = bw.squaredNorm();
  for (unsigned mask = 1; mask < (1u << cols); ++mask) {
    std::vector<int> active;
    for (int c = 0; c < cols; ++c)
      if (mask & (1u << c)) active.push_back(c);
    if (static_cast<int>(active.size()) > A.rows()) continue;
    Eigen::MatrixXd sub(Aw.rows(), static_cast<Eigen::Index>(active.size()));
    for (std::size_t i = 0; i < active.size(); ++i) sub.col(static_cast<Eigen::Index>(i)) = Aw.col(active[i]);
    Eigen::VectorXd x = sub.colPivHouseholderQr().solve(bw);
    if ((x.array() < 0).any() || !x.allFinite()) continue;
    double residual = (sub * x - bw).squaredNorm();
    if (residual < best_residual) {
      best_residual = residual;
      best.setZero();
      for (std::size_t i = 0; i < active.size(); ++i) best(active[i]) = x(static_cast<Eigen::Index>(i));
    }
  }
  return best;
}

double MaxAffineModel::predict(const std::vector<Eigen::VectorXd>& features) const {
  double best = -std::numeric_limits<double>::infinity();
  for (std::size_t j = 0; j < pieces.size(); ++j) best = std::max(best, pieces[j].dot(features[j]));
  return best;
}

int MaxAffineModel::dominant_piece(const std::vector<Eigen::VectorXd>& features) const {
  int arg = 0;
  double best = -std::numeric_limits<double>::infinity();
  for (std::size_t j = 0; j < pieces.size(); ++j) {
    double v = pieces[j].dot(features[j]);
    if (v > best) best = v, arg = static_cast<int>(j);
  }
  return arg;
}

MaxAffineModel fit_max_affine(const std::vector<std::vector<Eigen::VectorXd>>& features, const std::vector<double>& t,
                              const std::vector<Eigen::VectorXd>& initial, int skip) {
  MaxAffineModel model{initial};
  const std::size_t n = t.size();
  std::vector<int> assignment(n, -1);
  for (int iteration = 0; iteration < 100; ++iteration) {
    bool changed = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (static_cast<int>(i) == skip) continue;
      int piece = model.dominant_piece(features[i]);
      changed = changed || piece != assignment[i];
      assignment[i] = piece;
    }
    if (!changed && iteration > 0) break;
    for (std::size_t j = 0; j < model.pieces.size(); ++j) {
      std::vector<std::size_t> members;
      for (std::size_t i = 0; i < n; ++i)
        if (assignment[i] == static_cast<int>(j) && static_cast<int>(i) != skip) members.push_back(i);
      const auto cols = model.pieces[j].size();
      if (members.size() < static_cast<std::size_t>(cols)) continue;  // too few points: keep it
      Eigen::MatrixXd A(static_cast<Eigen::Index>(members.size()), cols);
      Eigen::VectorXd b(static_cast<Eigen::Index>(members.size())), w(static_cast<Eigen::Index>(members.size()));
      for (std::size_t r = 0; r < members.size(); ++r) {
        A.row(static_cast<Eigen::Index>(r)) = features[members[r]][j].transpose();
        b(static_cast<Eigen::Index>(r)) = t[members[r]];
        w(static_cast<Eigen::Index>(r)) = 1.0 / t[members[r]];
      }
      model.pieces[j] = nnls_small(A, b, w);
    }
  }
  return model;
}

}  // namespace aifsim::gpu
