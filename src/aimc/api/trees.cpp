#include "aimc/api/trees.h"

#include <algorithm>
#include <cmath>

#include "aimc/analog/acam_trees.h"
#include "aimc/compiler/tree_compiler.h"
#include "aimc/core/error.h"

namespace aimc::api {

double tree_metric(const ir::TreeEnsemble& ensemble, const std::vector<float>& predictions,
                   const std::vector<float>& labels) {
  const int64_t outputs = ensemble.num_outputs(), samples = static_cast<int64_t>(labels.size());
  if (ensemble.objective == ir::TreeObjective::kRegSquaredError) {
    double sum = 0;
    for (int64_t s = 0; s < samples; ++s)
      sum += (predictions[s] - labels[s]) * static_cast<double>(predictions[s] - labels[s]);
    return std::sqrt(sum / static_cast<double>(samples));
  }
  int64_t correct = 0;
  for (int64_t s = 0; s < samples; ++s) {
    int64_t predicted;
    if (ensemble.objective == ir::TreeObjective::kBinaryLogistic) {
      predicted = predictions[s] >= 0.5f ? 1 : 0;
    } else {
      const float* p = predictions.data() + s * outputs;
      predicted = std::max_element(p, p + outputs) - p;
    }
    correct += predicted == static_cast<int64_t>(labels[s]);
  }
  return static_cast<double>(correct) / static_cast<double>(samples);
}

const char* tree_metric_name(const ir::TreeEnsemble& ensemble) {
  return ensemble.objective == ir::TreeObjective::kRegSquaredError ? "rmse" : "accuracy";
}

void check_tree_labels(const ir::TreeEnsemble& ensemble, const std::vector<float>& labels,
                       const std::string& labels_file) {
  for (size_t s = 0; s < labels.size(); ++s) {
    const float label = labels[s];
    bool valid = std::isfinite(label);
    if (valid && ensemble.objective != ir::TreeObjective::kRegSquaredError)
      valid = label == std::floor(label) && label >= 0 && label < std::max(2, ensemble.num_class);
    if (!valid) throw_bad_input("{}: line {}: label {} is not valid", labels_file, s + 1, label);
  }
}

TreeEvalResult evaluate_trees(const ir::TreeEnsemble& ensemble, const std::vector<float>& features,
                              const std::vector<float>& labels, const arch::Architecture& arch,
                              int64_t trials, uint64_t seed) {
  if (trials < 1) throw_bad_input("--trials {}: must be at least 1", trials);
  const int64_t samples = static_cast<int64_t>(labels.size());
  std::vector<float> predictions(samples * ensemble.num_outputs());
  TreeEvalResult result;
  ir::predict_reference(ensemble, features.data(), samples, predictions.data());
  result.digital = tree_metric(ensemble, predictions, labels);
  const ir::TreeRows rows = compiler::compile_trees(ensemble, compiler::tree_compile_options(arch));
  result.in_bits = rows.in_bits;
  result.exact = rows.exact;
  const analog::AcamTreeNoise noise{arch.acam.threshold_sigma, arch.acam.input_sigma};
  for (int64_t trial = 0; trial < trials; ++trial) {
    analog::AcamTrees acam(rows, noise, seed, static_cast<uint64_t>(trial));
    acam.predict(features.data(), samples, 0, predictions.data());
    result.per_trial.push_back(tree_metric(ensemble, predictions, labels));
  }
  result.summary = report::summarize_trials(result.per_trial);
  return result;
}

std::vector<float> predict_trees(const ir::TreeEnsemble& ensemble, const float* features,
                                 int64_t samples, const arch::Architecture* arch, uint64_t seed,
                                 uint64_t trial) {
  std::vector<float> out(samples * ensemble.num_outputs());
  if (!arch) {
    ir::predict_reference(ensemble, features, samples, out.data());
    return out;
  }
  const ir::TreeRows rows =
      compiler::compile_trees(ensemble, compiler::tree_compile_options(*arch));
  analog::AcamTrees acam(rows, {arch->acam.threshold_sigma, arch->acam.input_sigma}, seed, trial);
  acam.predict(features, samples, 0, out.data());
  return out;
}

TreeEstimateResult estimate_trees(const ir::TreeEnsemble& ensemble,
                                  const arch::Architecture& arch) {
  TreeEstimateResult result;
  result.rows = compiler::compile_trees(ensemble, compiler::tree_compile_options(arch));
  result.cost = cost::estimate_trees(result.rows, arch);
  return result;
}

}  // namespace aimc::api
