// Tree ensembles (gradient-boosted trees imported from XGBoost) and their compiled form for
// analog CAMs (X-TIME, docs/trees.md). The ensemble is the digital model with a plain
// reference predictor; TreeRows is what the compiler writes into ACAM arrays: one row per
// root-to-leaf path, one interval of input codes per tested feature.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aimc::ir {

enum class TreeObjective { kBinaryLogistic, kMultiSoftprob, kRegSquaredError };

// "binary:logistic", "multi:softprob", "reg:squarederror".
const char* objective_name(TreeObjective objective);

struct TreeNode {
  int32_t feature = -1;  // -1: a leaf
  float threshold = 0;   // go left when x < threshold (XGBoost's rule)
  int32_t left = -1, right = -1;
  bool default_left = false;  // where a missing (NaN) value goes
  float leaf = 0;             // the leaf's value (leaves only)

  bool is_leaf() const { return feature < 0; }
};

struct Tree {
  std::vector<TreeNode> nodes;  // nodes[0] is the root
};

struct TreeEnsemble {
  std::vector<Tree> trees;
  std::vector<int32_t> tree_class;  // output group of each tree (XGBoost's tree_info)
  int32_t num_feature = 0;
  int32_t num_class = 1;  // output groups: num_class for multi:softprob, else 1
  TreeObjective objective = TreeObjective::kRegSquaredError;
  float base_score = 0.5f;  // as XGBoost stores it (probability for binary:logistic)

  int32_t num_outputs() const { return num_class; }
  // The margin every output starts from: logit(base_score) for binary:logistic, base_score
  // otherwise (XGBoost 1.7 adds 0.5 to every class of multi:softprob; softmax ignores it).
  float base_margin() const;
};

// Leaf index reached by one sample (x: [num_feature], NaN = missing).
int32_t descend(const Tree& tree, const float* x);

// Plain reference predictor. x: [samples, num_feature] row-major, NaN = missing;
// out: [samples, num_outputs]: probabilities (sigmoid / softmax) or the regression value.
// Margins are accumulated in float, tree by tree in order, from base_margin().
void predict_reference(const TreeEnsemble& ensemble, const float* x, int64_t samples, float* out);

// The objective's link function on one sample's margins (in place).
void apply_link(TreeObjective objective, float* margins, int32_t outputs);

// --- Compiled form -------------------------------------------------------------------------

// Maps a feature value to an input code: code = number of cut points <= x (NaN: missing).
// With the cut points equal to the feature's sorted distinct thresholds the map is exact:
// x < t_k  <=>  code(x) < k + 1 = code(t_k), so no decision can flip.
struct FeatureQuantizer {
  std::vector<float> cuts;  // ascending
  bool exact = true;        // cuts are the thresholds themselves (codebook)

  int32_t code(float x) const;  // x must not be NaN
};

// One tested feature of a row: the row matches code c when lo <= c < hi (a bound that the
// path does not set is inactive: don't care). NaN inputs match when nan_matches, i.e. when
// every test of this feature on the path sends missing values the way the path goes.
struct RowInterval {
  int32_t feature = 0;
  int32_t lo = 0, hi = 0;
  bool lo_active = false, hi_active = false;
  bool nan_matches = false;
};

// A tree in code space, for the noise-free fast path: descending it on codes reaches the
// one row of the tree that matches (the rows of a tree partition the code space).
struct CodeNode {
  int32_t feature = -1;  // -1: leaf
  int32_t code = 0;      // go left when code < this
  int32_t left = -1, right = -1;
  bool default_left = false;
  int32_t row = -1;  // leaves: the row of this path
};

struct TreeRows {
  // Model.
  int32_t num_feature = 0;
  int32_t num_outputs = 1;
  TreeObjective objective = TreeObjective::kRegSquaredError;
  float base_margin = 0;
  // Quantisation.
  int32_t in_bits = 8;
  int32_t cell_bits = 4;
  int32_t cells_per_threshold = 2;           // ceil(in_bits / cell_bits)
  bool exact = true;                         // every feature's quantiser is exact
  std::vector<FeatureQuantizer> quantizers;  // [num_feature]
  // Rows, in tree order then leaf order: row r's tested features are
  // intervals[row_begin[r] .. row_begin[r + 1]).
  std::vector<int64_t> row_begin;  // [rows + 1]
  std::vector<RowInterval> intervals;
  std::vector<float> leaf;                        // [rows]
  std::vector<int32_t> row_class;                 // [rows]
  std::vector<int32_t> row_tree;                  // [rows]
  std::vector<std::vector<CodeNode>> code_trees;  // [trees]
  // Packing onto arrays of rows_per_array x cols_per_array (one column per feature):
  // row r sits in row block r / rows_per_array; feature f in column block f / cols_per_array.
  int32_t rows_per_array = 256;
  int32_t cols_per_array = 128;
  int64_t row_blocks = 0;
  int64_t col_blocks = 0;

  int64_t rows() const { return static_cast<int64_t>(leaf.size()); }
  int64_t arrays() const { return row_blocks * col_blocks; }
};

}  // namespace aimc::ir
