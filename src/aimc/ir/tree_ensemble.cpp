#include "aimc/ir/tree_ensemble.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "aimc/core/error.h"

namespace aimc::ir {

const char* objective_name(TreeObjective objective) {
  switch (objective) {
    case TreeObjective::kBinaryLogistic:
      return "binary:logistic";
    case TreeObjective::kMultiSoftprob:
      return "multi:softprob";
    case TreeObjective::kRegSquaredError:
      return "reg:squarederror";
  }
  return "?";
}

float TreeEnsemble::base_margin() const {
  if (objective == TreeObjective::kBinaryLogistic) {
    double p = base_score;
    return static_cast<float>(-std::log(1.0 / p - 1.0));
  }
  return base_score;
}

int32_t descend(const Tree& tree, const float* x) {
  int32_t node = 0;
  while (!tree.nodes[node].is_leaf()) {
    const TreeNode& split = tree.nodes[node];
    float value = x[split.feature];
    bool left = std::isnan(value) ? split.default_left : value < split.threshold;
    node = left ? split.left : split.right;
  }
  return node;
}

void apply_link(TreeObjective objective, float* margins, int32_t outputs) {
  switch (objective) {
    case TreeObjective::kBinaryLogistic:
      for (int32_t k = 0; k < outputs; ++k)
        margins[k] = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(margins[k]))));
      return;
    case TreeObjective::kMultiSoftprob: {
      // The exponentials are computed twice rather than stored: no allocation per sample.
      double top = *std::max_element(margins, margins + outputs);
      double sum = 0;
      for (int32_t k = 0; k < outputs; ++k) sum += std::exp(margins[k] - top);
      for (int32_t k = 0; k < outputs; ++k)
        margins[k] = static_cast<float>(std::exp(margins[k] - top) / sum);
      return;
    }
    case TreeObjective::kRegSquaredError:
      return;
  }
}

void predict_reference(const TreeEnsemble& ensemble, const float* x, int64_t samples, float* out) {
  const int32_t outputs = ensemble.num_outputs();
  const float base = ensemble.base_margin();
  for (int64_t s = 0; s < samples; ++s) {
    const float* sample = x + s * ensemble.num_feature;
    float* margins = out + s * outputs;
    std::fill(margins, margins + outputs, base);
    for (size_t t = 0; t < ensemble.trees.size(); ++t) {
      const Tree& tree = ensemble.trees[t];
      margins[ensemble.tree_class[t]] += tree.nodes[descend(tree, sample)].leaf;
    }
    apply_link(ensemble.objective, margins, outputs);
  }
}

int32_t FeatureQuantizer::code(float x) const {
  // Branch-free upper_bound: the comparisons of a search are unpredictable, so conditional
  // moves beat branches. Invariant: every cut before `base` is <= x, the answer lies in
  // [base, base + n].
  size_t n = cuts.size();
  if (n == 0) return 0;
  const float* base = cuts.data();
  while (n > 1) {
    size_t half = n / 2;
    base = base[half] <= x ? base + half : base;
    n -= half;
  }
  return static_cast<int32_t>(base - cuts.data()) + (*base <= x ? 1 : 0);
}

}  // namespace aimc::ir
