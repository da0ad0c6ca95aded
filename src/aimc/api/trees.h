// `aimc trees eval` as a library call: an XGBoost ensemble's metric digitally and on `trials`
// chip instances of its ACAM mapping (docs/trees.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aimc/arch/architecture.h"
#include "aimc/cost/tree_cost.h"
#include "aimc/ir/tree_ensemble.h"
#include "aimc/report/summary.h"

namespace aimc::api {

// Accuracy (classification; binary: p >= 0.5) or RMSE (regression) of predictions
// [samples, outputs] against labels [samples].
double tree_metric(const ir::TreeEnsemble& ensemble, const std::vector<float>& predictions,
                   const std::vector<float>& labels);
const char* tree_metric_name(const ir::TreeEnsemble& ensemble);  // accuracy | rmse

// Error(kBadInput) naming `labels_file` and the line of the first label the objective cannot
// take (non-finite; for classification not a class index).
void check_tree_labels(const ir::TreeEnsemble& ensemble, const std::vector<float>& labels,
                       const std::string& labels_file);

struct TreeEvalResult {
  double digital = 0;
  std::vector<double> per_trial;
  report::TrialSummary summary;
  int in_bits = 0;     // threshold codes of the ACAM mapping
  bool exact = false;  // every threshold exactly representable in in_bits
};

// features: [samples, num_feature] row-major; trials >= 1 chip instances from `seed`.
TreeEvalResult evaluate_trees(const ir::TreeEnsemble& ensemble, const std::vector<float>& features,
                              const std::vector<float>& labels, const arch::Architecture& arch,
                              int64_t trials, uint64_t seed);

// Predictions [samples, outputs] of features [samples, num_feature] row-major (`aimc trees
// predict`): the digital reference without `arch`, else chip instance (seed, trial) of the
// ensemble's ACAM mapping on `arch`.
std::vector<float> predict_trees(const ir::TreeEnsemble& ensemble, const float* features,
                                 int64_t samples, const arch::Architecture* arch, uint64_t seed,
                                 uint64_t trial);

// `aimc trees estimate`: the ensemble compiled onto the ACAM arrays of `arch`, and its cost.
struct TreeEstimateResult {
  ir::TreeRows rows;
  cost::TreeCost cost;
};
TreeEstimateResult estimate_trees(const ir::TreeEnsemble& ensemble, const arch::Architecture& arch);

}  // namespace aimc::api
