#include "aimc/compiler/tree_compiler.h"

#include <algorithm>
#include <map>

#include "aimc/core/error.h"

namespace aimc::compiler {

namespace {

// The bounds a path has set so far on one feature.
struct PathBounds {
  ir::RowInterval interval;
};

class PathWalker {
 public:
  PathWalker(const ir::Tree& tree, int32_t tree_id, int32_t class_id, ir::TreeRows& rows)
      : tree_(tree), tree_id_(tree_id), class_id_(class_id), rows_(rows) {}

  // Walks every root-to-leaf path (left first) and returns the code-space tree. The walk keeps
  // its own stack: a tree's depth comes from the input file and must not overflow the
  // call stack (a chain of 50,000 splits is a valid XGBoost model).
  std::vector<ir::CodeNode> walk() {
    code_tree_.resize(tree_.nodes.size());
    struct Frame {
      int32_t node;
      int stage;  // 0: not entered; 1: left child done; 2: right child done
      std::map<int32_t, PathBounds> saved;
    };
    std::vector<Frame> stack;
    stack.push_back({0, 0, {}});
    while (!stack.empty()) {
      Frame& frame = stack.back();
      const ir::TreeNode& node = tree_.nodes[frame.node];
      if (frame.stage == 0) {
        if (node.is_leaf()) {
          add_leaf_row(frame.node);
          stack.pop_back();
          continue;
        }
        enter_split(frame.node);
        frame.saved = bounds_;
      } else {
        bounds_ = frame.saved;  // back from a child: the bounds before the split
      }
      if (frame.stage == 2) {
        stack.pop_back();
        continue;
      }
      const bool go_left = frame.stage == 0;
      ++frame.stage;
      narrow(node, go_left);
      const int32_t child = go_left ? node.left : node.right;
      stack.push_back({child, 0, {}});  // `frame` is not used after this
    }
    return std::move(code_tree_);
  }

 private:
  void add_leaf_row(int32_t node_id) {
    const ir::TreeNode& node = tree_.nodes[node_id];
    code_tree_[node_id].row = static_cast<int32_t>(rows_.rows());
    for (const auto& [feature, bounds] : bounds_) rows_.intervals.push_back(bounds.interval);
    rows_.row_begin.push_back(static_cast<int64_t>(rows_.intervals.size()));
    rows_.leaf.push_back(node.leaf);
    rows_.row_class.push_back(class_id_);
    rows_.row_tree.push_back(tree_id_);
  }

  void enter_split(int32_t node_id) {
    const ir::TreeNode& node = tree_.nodes[node_id];
    ir::CodeNode& code_node = code_tree_[node_id];
    code_node.feature = node.feature;
    code_node.code = rows_.quantizers[node.feature].code(node.threshold);
    code_node.left = node.left;
    code_node.right = node.right;
    code_node.default_left = node.default_left;
  }

  // The bounds of the path that goes left (or right) at `node`.
  void narrow(const ir::TreeNode& node, bool go_left) {
    const int32_t code = rows_.quantizers[node.feature].code(node.threshold);
    auto [it, inserted] = bounds_.try_emplace(node.feature);
    ir::RowInterval& interval = it->second.interval;
    if (inserted) {
      interval.feature = node.feature;
      interval.nan_matches = true;
    }
    if (go_left) {
      interval.hi = interval.hi_active ? std::min(interval.hi, code) : code;
      interval.hi_active = true;
    } else {
      interval.lo = interval.lo_active ? std::max(interval.lo, code) : code;
      interval.lo_active = true;
    }
    // A missing value follows this path only if every test of the feature on it sends
    // missing values the way the path goes.
    interval.nan_matches = interval.nan_matches && (node.default_left == go_left);
  }

  const ir::Tree& tree_;
  int32_t tree_id_, class_id_;
  ir::TreeRows& rows_;
  std::map<int32_t, PathBounds> bounds_;  // ordered by feature
  std::vector<ir::CodeNode> code_tree_;
};

}  // namespace

TreeCompileOptions tree_compile_options(const arch::Architecture& arch) {
  TreeCompileOptions options;
  options.in_bits = arch.acam.in_bits;
  options.cell_bits = arch.acam_array.cell_bits;
  options.rows_per_array = arch.acam_array.rows;
  options.cols_per_array = arch.acam_array.cols;
  return options;
}

ir::FeatureQuantizer make_quantizer(std::vector<float> thresholds, int in_bits) {
  AIMC_ASSERT(in_bits >= 1 && in_bits <= 24, "in_bits {} out of range", in_bits);
  std::sort(thresholds.begin(), thresholds.end());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  ir::FeatureQuantizer quantizer;
  const int64_t codes = int64_t{1} << in_bits;
  if (static_cast<int64_t>(thresholds.size()) < codes) {
    quantizer.cuts = std::move(thresholds);
    quantizer.exact = true;
    return quantizer;
  }
  // Fallback: codes - 1 cut points, uniform from the smallest to the largest threshold.
  quantizer.exact = false;
  const double low = thresholds.front(), high = thresholds.back();
  const int64_t cuts = codes - 1;
  for (int64_t i = 0; i < cuts; ++i) {
    double t = cuts == 1 ? low : low + (high - low) * static_cast<double>(i) / (cuts - 1);
    quantizer.cuts.push_back(static_cast<float>(t));
  }
  quantizer.cuts.erase(std::unique(quantizer.cuts.begin(), quantizer.cuts.end()),
                       quantizer.cuts.end());
  return quantizer;
}

ir::TreeRows compile_trees(const ir::TreeEnsemble& ensemble, const TreeCompileOptions& options) {
  AIMC_ASSERT(options.cell_bits >= 1 && options.rows_per_array >= 1 && options.cols_per_array >= 1,
              "bad tree compile options");
  ir::TreeRows rows;
  rows.num_feature = ensemble.num_feature;
  rows.num_outputs = ensemble.num_outputs();
  rows.objective = ensemble.objective;
  rows.base_margin = ensemble.base_margin();
  rows.in_bits = options.in_bits;
  rows.cell_bits = options.cell_bits;
  rows.cells_per_threshold = (options.in_bits + options.cell_bits - 1) / options.cell_bits;

  std::vector<std::vector<float>> thresholds(ensemble.num_feature);
  for (const ir::Tree& tree : ensemble.trees)
    for (const ir::TreeNode& node : tree.nodes)
      if (!node.is_leaf()) thresholds[node.feature].push_back(node.threshold);
  for (auto& feature_thresholds : thresholds) {
    rows.quantizers.push_back(make_quantizer(std::move(feature_thresholds), options.in_bits));
    rows.exact = rows.exact && rows.quantizers.back().exact;
  }

  rows.row_begin.push_back(0);
  for (size_t t = 0; t < ensemble.trees.size(); ++t) {
    PathWalker walker(ensemble.trees[t], static_cast<int32_t>(t), ensemble.tree_class[t], rows);
    rows.code_trees.push_back(walker.walk());
  }

  rows.rows_per_array = options.rows_per_array;
  rows.cols_per_array = options.cols_per_array;
  rows.row_blocks = (rows.rows() + options.rows_per_array - 1) / options.rows_per_array;
  rows.col_blocks =
      (int64_t{rows.num_feature} + options.cols_per_array - 1) / options.cols_per_array;
  return rows;
}

}  // namespace aimc::compiler
