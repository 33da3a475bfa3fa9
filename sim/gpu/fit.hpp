// Least-squares fitting used by the GPU models (Eigen). All fits minimise *relative*
// error, since measured times span five orders of magnitude.
#pragma once
#include <vector>

#include <Eigen/Dense>

namespace aifsim::gpu {

// Non-negative least squares for a few columns (exact: every subset of columns is
// tried, so keep cols <= 4). Rows are weighted by `weight`.
Eigen::VectorXd nnls_small(const Eigen::MatrixXd& A, const Eigen::VectorXd& b, const Eigen::VectorXd& weight);

// A convex piecewise-linear model t = max_j (theta_j . x_j), each piece j with its own
// features x_j (Magnani & Boyd 2009, "Convex piecewise-linear fitting"): alternate
// between assigning each point to the piece that predicts the most for it and refitting
// each piece (non-negative, relative error) on its points.
struct MaxAffineModel {
  std::vector<Eigen::VectorXd> pieces;  // coefficients per piece
  double predict(const std::vector<Eigen::VectorXd>& features) const;
  int dominant_piece(const std::vector<Eigen::VectorXd>& features) const;
};

// features[point][piece]; `initial` gives starting coefficients (domain knowledge: a
// lower envelope of the data works well). Points whose index is in `skip` are ignored
// (leave-one-out).
MaxAffineModel fit_max_affine(const std::vector<std::vector<Eigen::VectorXd>>& features, const std::vector<double>& t,
                              const std::vector<Eigen::VectorXd>& initial, int skip = -1);

struct ErrorSummary {
  double mean_abs_rel = 0;  // mean |pred - t| / t
  double max_abs_rel = 0;
  int points = 0;
};

}  // namespace aifsim::gpu
