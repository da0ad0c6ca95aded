// Tree ensembles on analog CAMs: XGBoost import, compilation to ACAM rows, the ACAM
// simulator and the X-TIME cost model, checked against XGBoost's own predictions, the plain
// reference predictor and hand-computed values.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "aimc/analog/acam_trees.h"
#include "aimc/arch/architecture.h"
#include "aimc/compiler/tree_compiler.h"
#include "aimc/core/error.h"
#include "aimc/core/parallel.h"
#include "aimc/cost/tree_cost.h"
#include "aimc/frontend/csv_matrix.h"
#include "aimc/frontend/xgboost_import.h"

namespace aimc {
namespace {

const std::string kData = std::string(AIMC_SOURCE_DIR) + "/tests/data/trees/";
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr analog::AcamTreeSearch kSearches[] = {analog::AcamTreeSearch::kDescent,
                                                analog::AcamTreeSearch::kSegments,
                                                analog::AcamTreeSearch::kRows};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Reference {
  ir::TreeEnsemble ensemble;
  frontend::CsvMatrix x, xgb;
};

Reference load(const std::string& name) {
  Reference ref;
  ref.ensemble = frontend::load_xgboost(kData + name + ".json");
  ref.x = frontend::read_csv_matrix(kData + name + ".test.csv");
  ref.xgb = frontend::read_csv_matrix(kData + name + ".xgb_pred.csv");
  return ref;
}

// Enough input bits for every feature's codebook to be exact (the tests check `exact`).
compiler::TreeCompileOptions exact_options() {
  compiler::TreeCompileOptions options;
  options.in_bits = 16;
  return options;
}

std::vector<float> reference_predict(const Reference& ref) {
  std::vector<float> out(ref.x.rows * ref.ensemble.num_outputs());
  ir::predict_reference(ref.ensemble, ref.x.values.data(), ref.x.rows, out.data());
  return out;
}

class ReferenceModels : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceModels, ReferencePredictorEqualsXgboost) {
  Reference ref = load(GetParam());
  ASSERT_EQ(ref.x.cols, ref.ensemble.num_feature);
  ASSERT_EQ(ref.xgb.rows, ref.x.rows);
  ASSERT_EQ(ref.xgb.cols, ref.ensemble.num_outputs());
  std::vector<float> got = reference_predict(ref);
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], ref.xgb.values[i], 1e-5) << "output " << i;
}

TEST_P(ReferenceModels, NoiseFreeAcamEqualsReferenceAndXgboost) {
  Reference ref = load(GetParam());
  ir::TreeRows rows = compiler::compile_trees(ref.ensemble, exact_options());
  EXPECT_TRUE(rows.exact);
  std::vector<float> expected = reference_predict(ref);
  for (analog::AcamTreeSearch search : kSearches) {
    analog::AcamTrees acam(rows, {}, 1, 0);
    acam.set_search(search);
    std::vector<float> got(expected.size());
    acam.predict(ref.x.values.data(), ref.x.rows, 0, got.data());
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i], expected[i]) << "output " << i << " search " << static_cast<int>(search);
      ASSERT_NEAR(got[i], ref.xgb.values[i], 1e-5) << "output " << i;
    }
  }
}

// Each tree matches exactly one row, and it is the leaf the float comparisons reach.
TEST_P(ReferenceModels, QuantisationNeverFlipsADecision) {
  Reference ref = load(GetParam());
  ir::TreeRows rows = compiler::compile_trees(ref.ensemble, exact_options());
  analog::AcamTrees acam(rows, {}, 1, 0);
  for (int64_t s = 0; s < ref.x.rows; ++s) {
    const float* x = ref.x.values.data() + s * ref.x.cols;
    std::vector<int64_t> matched = acam.matched_rows(x, s);
    ASSERT_EQ(matched.size(), ref.ensemble.trees.size()) << "sample " << s;
    for (size_t t = 0; t < matched.size(); ++t) {
      ASSERT_EQ(rows.row_tree[matched[t]], static_cast<int32_t>(t));
      const ir::Tree& tree = ref.ensemble.trees[t];
      ASSERT_EQ(rows.leaf[matched[t]], tree.nodes[ir::descend(tree, x)].leaf);
    }
  }
  // The codebook preserves every comparison with every threshold, values on and around the
  // thresholds included.
  for (const ir::Tree& tree : ref.ensemble.trees)
    for (const ir::TreeNode& node : tree.nodes) {
      if (node.is_leaf()) continue;
      const ir::FeatureQuantizer& q = rows.quantizers[node.feature];
      int32_t threshold_code = q.code(node.threshold);
      for (float x : {node.threshold, std::nextafter(node.threshold, -1e30f),
                      std::nextafter(node.threshold, 1e30f), node.threshold - 1, 0.0f}) {
        ASSERT_EQ(x < node.threshold, q.code(x) < threshold_code) << x;
      }
    }
}

INSTANTIATE_TEST_SUITE_P(Trees, ReferenceModels,
                         ::testing::Values("breast_cancer", "digits", "diabetes"));

TEST(XgboostImport, ReadsTheModelParameters) {
  ir::TreeEnsemble bc = frontend::load_xgboost(kData + "breast_cancer.json");
  EXPECT_EQ(bc.objective, ir::TreeObjective::kBinaryLogistic);
  EXPECT_EQ(bc.num_feature, 30);
  EXPECT_EQ(bc.num_class, 1);
  EXPECT_EQ(bc.trees.size(), 30u);
  EXPECT_FLOAT_EQ(bc.base_score, 0.5f);
  EXPECT_FLOAT_EQ(bc.base_margin(), 0.0f);
  ir::TreeEnsemble digits = frontend::load_xgboost(kData + "digits.json");
  EXPECT_EQ(digits.num_class, 10);
  EXPECT_EQ(digits.trees.size(), 80u);
  EXPECT_EQ(digits.tree_class[13], 3);
  EXPECT_EQ(frontend::load_xgboost(kData + "diabetes.json").objective,
            ir::TreeObjective::kRegSquaredError);
}

// The error of importing `model` (a modified breast_cancer.json) as "m.json".
std::string import_error(const nlohmann::json& model) {
  try {
    frontend::parse_xgboost(model.dump(), "m.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    return e.what();
  }
  return "(no error)";
}

TEST(XgboostImport, RejectsWhatItCannotRepresent) {
  const nlohmann::json model = nlohmann::json::parse(read_text(kData + "breast_cancer.json"));
  nlohmann::json dart = model;
  dart["learner"]["gradient_booster"]["name"] = "dart";
  EXPECT_NE(import_error(dart).find("m.json: learner.gradient_booster.name: booster \"dart\""),
            std::string::npos)
      << import_error(dart);
  nlohmann::json linear = model;
  linear["learner"]["gradient_booster"] = {{"name", "gblinear"}, {"model", {}}};
  EXPECT_NE(import_error(linear).find("gblinear"), std::string::npos);
  nlohmann::json categorical = model;
  categorical["learner"]["gradient_booster"]["model"]["trees"][2]["split_type"][0] = 1;
  EXPECT_NE(import_error(categorical)
                .find("m.json: learner.gradient_booster.model.trees[2]: "
                      "node 0 is a categorical split"),
            std::string::npos)
      << import_error(categorical);
  nlohmann::json objective = model;
  objective["learner"]["objective"]["name"] = "rank:pairwise";
  EXPECT_NE(import_error(objective).find("rank:pairwise"), std::string::npos);
  nlohmann::json bad_child = model;
  bad_child["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"][0] = 0;
  EXPECT_NE(import_error(bad_child).find("trees[0]: node 0"), std::string::npos);

  try {
    frontend::parse_xgboost("{\"learner\": [1,", "broken.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_EQ(std::string(e.what()).rfind("broken.json: not valid JSON", 0), 0u) << e.what();
  }
  try {  // a number past double's range (issue 20: it escaped as a raw nlohmann exception)
    frontend::parse_xgboost("{\"learner\": {\"x\": 1e999}}", "huge.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_EQ(std::string(e.what()).rfind("huge.json: not valid JSON", 0), 0u) << e.what();
  }
  try {
    frontend::load_xgboost(kData + "no_such_model.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("no_such_model.json"), std::string::npos);
  }
}

// root: x0 < 0.5 (missing: right) ? 1 : (x1 < 2 (missing: left) ? 2 : 3); regression, base 0.5.
ir::TreeEnsemble hand_tree() {
  ir::TreeEnsemble ensemble;
  ensemble.num_feature = 2;
  ensemble.objective = ir::TreeObjective::kRegSquaredError;
  ensemble.base_score = 0.5f;
  ir::Tree tree;
  tree.nodes.resize(5);
  tree.nodes[0] = {0, 0.5f, 1, 2, false, 0};
  tree.nodes[1].leaf = 1;
  tree.nodes[2] = {1, 2.0f, 3, 4, true, 0};
  tree.nodes[3].leaf = 2;
  tree.nodes[4].leaf = 3;
  ensemble.trees.push_back(tree);
  ensemble.tree_class.push_back(0);
  return ensemble;
}

TEST(AcamTrees, MissingValuesTakeTheDefaultDirection) {
  ir::TreeEnsemble ensemble = hand_tree();
  ir::TreeRows rows = compiler::compile_trees(ensemble, {});
  ASSERT_EQ(rows.rows(), 3);
  // Row 2 (x0 >= 0.5, x1 >= 2): a missing x1 goes left, so it must not match.
  EXPECT_FALSE(rows.intervals[rows.row_begin[2] + 1].nan_matches);
  const std::vector<std::pair<std::array<float, 2>, float>> cases = {
      {{kNaN, kNaN}, 2.5f}, {{0.2f, kNaN}, 1.5f}, {{kNaN, 5.0f}, 3.5f},
      {{0.5f, 2.0f}, 3.5f}, {{0.7f, 1.9f}, 2.5f}, {{0.49f, 7.0f}, 1.5f}};
  for (analog::AcamTreeSearch search : kSearches) {
    analog::AcamTrees acam(rows, {}, 0, 0);
    acam.set_search(search);
    for (const auto& [x, expected] : cases) {
      float got = 0, reference = 0;
      acam.predict(x.data(), 1, 0, &got);
      ir::predict_reference(ensemble, x.data(), 1, &reference);
      EXPECT_EQ(got, expected) << x[0] << "," << x[1];
      EXPECT_EQ(reference, expected) << x[0] << "," << x[1];
    }
  }
}

// A chain of 60,000 splits (each leaf on the left, the rest on the right): compiling it must
// not recurse as deep as the tree (issue 20: it overflowed the stack), and the ACAM rows
// still predict what the reference does.
TEST(TreeCompiler, ADeepChainCompilesWithoutRecursion) {
  constexpr int32_t kDepth = 60000;
  ir::TreeEnsemble ensemble;
  ensemble.num_feature = 1;
  ensemble.objective = ir::TreeObjective::kRegSquaredError;
  ir::Tree tree;
  tree.nodes.resize(2 * kDepth + 1);
  for (int32_t d = 0; d < kDepth; ++d) {
    const int32_t split = d == 0 ? 0 : 2 * d;
    tree.nodes[split] = {0, static_cast<float>(d), 2 * d + 1, 2 * d + 2, true, 0};
    tree.nodes[2 * d + 1].leaf = static_cast<float>(d);
  }
  tree.nodes[2 * kDepth].leaf = static_cast<float>(kDepth);
  ensemble.trees.push_back(tree);
  ensemble.tree_class.push_back(0);
  compiler::TreeCompileOptions options;
  options.in_bits = 16;
  ir::TreeRows rows = compiler::compile_trees(ensemble, options);
  EXPECT_EQ(rows.rows(), kDepth + 1);
  analog::AcamTrees acam(rows, {}, 0, 0);
  for (float x : {-1.0f, 0.5f, 123.5f, 59998.5f, 1e9f}) {
    float got = 0, reference = 0;
    acam.predict(&x, 1, 0, &got);
    ir::predict_reference(ensemble, &x, 1, &reference);
    EXPECT_EQ(got, reference) << x;
  }
}

TEST(TreeCompiler, RowsHoldThePathIntervalsAndPackOntoArrays) {
  ir::TreeEnsemble ensemble = hand_tree();
  compiler::TreeCompileOptions options;
  options.rows_per_array = 2;
  options.cols_per_array = 1;
  ir::TreeRows rows = compiler::compile_trees(ensemble, options);
  // Codes: x0 has one threshold (codes 0, 1), x1 one threshold (codes 0, 1).
  ASSERT_EQ(rows.row_begin, (std::vector<int64_t>{0, 1, 3, 5}));
  const ir::RowInterval& left = rows.intervals[0];
  EXPECT_EQ(left.feature, 0);
  EXPECT_TRUE(left.hi_active);
  EXPECT_FALSE(left.lo_active);
  EXPECT_EQ(left.hi, 1);
  EXPECT_FALSE(left.nan_matches);
  const ir::RowInterval& middle_x1 = rows.intervals[2];
  EXPECT_EQ(middle_x1.feature, 1);
  EXPECT_EQ(middle_x1.hi, 1);
  EXPECT_TRUE(middle_x1.nan_matches);
  EXPECT_EQ(rows.leaf, (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(rows.row_blocks, 2);  // 3 rows, 2 per array
  EXPECT_EQ(rows.col_blocks, 2);  // 2 features, 1 per array
  EXPECT_EQ(rows.arrays(), 4);
  EXPECT_EQ(rows.cells_per_threshold, 2);  // 8 bits in 4-bit cells
}

TEST(TreeCompiler, UniformFallbackWhenThresholdsOutnumberCodes) {
  ir::FeatureQuantizer exact = compiler::make_quantizer({3, 1, 2, 2}, 2);
  EXPECT_TRUE(exact.exact);  // 3 distinct thresholds < 4 codes
  EXPECT_EQ(exact.cuts, (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(exact.code(0.5f), 0);
  EXPECT_EQ(exact.code(2.0f), 2);
  EXPECT_EQ(exact.code(9.0f), 3);
  ir::FeatureQuantizer uniform = compiler::make_quantizer({0, 1, 2, 3, 4, 6}, 2);
  EXPECT_FALSE(uniform.exact);
  EXPECT_EQ(uniform.cuts, (std::vector<float>{0, 3, 6}));  // 3 cuts, min to max
  // The breast cancer model at 3 bits: compiles, lossy, and still mostly right.
  Reference ref = load("breast_cancer");
  compiler::TreeCompileOptions options;
  options.in_bits = 3;
  ir::TreeRows rows = compiler::compile_trees(ref.ensemble, options);
  EXPECT_FALSE(rows.exact);
}

// Prediction error of an analog run against the reference: the number of outputs that differ.
int differing(const std::vector<float>& a, const std::vector<float>& b) {
  int count = 0;
  for (size_t i = 0; i < a.size(); ++i) count += a[i] != b[i];
  return count;
}

TEST(AcamTrees, ThresholdNoiseIsDeterministicPerSeedAndTrial) {
  Reference ref = load("breast_cancer");
  compiler::TreeCompileOptions options;
  ir::TreeRows rows = compiler::compile_trees(ref.ensemble, options);
  ASSERT_TRUE(rows.exact);
  auto run = [&](uint64_t seed, uint64_t trial) {
    analog::AcamTrees acam(rows, {0.01, 0.0}, seed, trial);
    std::vector<float> out(ref.x.rows);
    acam.predict(ref.x.values.data(), ref.x.rows, 0, out.data());
    return out;
  };
  std::vector<float> clean = reference_predict(ref);
  std::vector<float> a = run(7, 0), b = run(7, 0), c = run(7, 1), d = run(8, 0);
  EXPECT_EQ(a, b);
  EXPECT_GT(differing(a, clean), 0);
  EXPECT_GT(differing(a, c), 0);
  EXPECT_GT(differing(a, d), 0);
}

TEST(AcamTrees, ResultsDependNeitherOnBatchSizeNorOnThreads) {
  Reference ref = load("digits");
  ir::TreeRows rows = compiler::compile_trees(ref.ensemble, {});
  analog::AcamTrees acam(rows, {0.005, 0.005}, 3, 2);
  const int64_t n = 64, outputs = rows.num_outputs, features = rows.num_feature;
  std::vector<float> whole(n * outputs), pieces(n * outputs), serial(n * outputs);
  set_num_threads(2);
  acam.predict(ref.x.values.data(), n, 0, whole.data());
  for (int64_t s = 0; s < n; s += 5) {
    int64_t count = std::min<int64_t>(5, n - s);
    acam.predict(ref.x.values.data() + s * features, count, s, pieces.data() + s * outputs);
  }
  set_num_threads(1);
  acam.predict(ref.x.values.data(), n, 0, serial.data());
  set_num_threads(0);
  EXPECT_EQ(whole, pieces);
  EXPECT_EQ(whole, serial);
  EXPECT_GT(differing(whole, reference_predict(ref)), 0);  // the noise did act
}

// A random ensemble: `trees` trees over `features` features, up to `depth` levels (some
// leaves early), thresholds from a small pool so that trees share them, random default
// directions; multi:softprob over 3 classes.
ir::TreeEnsemble random_ensemble(int trees, int features, int depth, std::mt19937& rng,
                                 std::vector<float>& pool) {
  std::uniform_real_distribution<float> uniform(-2, 2);
  pool.clear();
  for (int i = 0; i < 12; ++i) pool.push_back(uniform(rng));
  ir::TreeEnsemble ensemble;
  ensemble.num_feature = features;
  ensemble.num_class = 3;
  ensemble.objective = ir::TreeObjective::kMultiSoftprob;
  for (int t = 0; t < trees; ++t) {
    ir::Tree tree;
    // (node, level) to expand.
    std::vector<std::pair<int32_t, int>> open = {{0, 0}};
    tree.nodes.resize(1);
    while (!open.empty()) {
      auto [node, level] = open.back();
      open.pop_back();
      if (level == depth || (level > 1 && rng() % 4 == 0)) {
        tree.nodes[node].leaf = uniform(rng);
        continue;
      }
      const int32_t left = static_cast<int32_t>(tree.nodes.size());
      tree.nodes.resize(tree.nodes.size() + 2);
      ir::TreeNode& split = tree.nodes[node];
      split.feature = static_cast<int32_t>(rng() % features);
      split.threshold = pool[rng() % pool.size()];
      split.left = left;
      split.right = left + 1;
      split.default_left = rng() % 2 == 0;
      open.push_back({left, level + 1});
      open.push_back({left + 1, level + 1});
    }
    ensemble.trees.push_back(tree);
    ensemble.tree_class.push_back(t % 3);
  }
  return ensemble;
}

// Samples whose values are missing, exactly on a threshold, next to one, or anywhere.
std::vector<float> random_samples(int64_t samples, int features, const std::vector<float>& pool,
                                  std::mt19937& rng) {
  std::uniform_real_distribution<float> uniform(-3, 3);
  std::vector<float> x(samples * features);
  for (float& value : x) {
    switch (rng() % 5) {
      case 0:
        value = kNaN;
        break;
      case 1:
        value = pool[rng() % pool.size()];
        break;
      case 2:
        value = std::nextafter(pool[rng() % pool.size()], rng() % 2 ? 1e30f : -1e30f);
        break;
      default:
        value = uniform(rng);
    }
  }
  return x;
}

// The fast searches (segment bitsets; descent without noise) give the row-by-row search's
// outputs bit for bit, with and without noise, exact and lossy quantisers, 1 and 2 threads.
TEST(AcamTrees, FastSearchesEqualRowMatchingOnRandomInputs) {
  std::mt19937 rng(11);
  std::vector<float> pool;
  ir::TreeEnsemble ensemble = random_ensemble(24, 5, 7, rng, pool);
  const int64_t samples = 300;
  std::vector<float> x = random_samples(samples, ensemble.num_feature, pool, rng);
  const std::vector<analog::AcamTreeNoise> noises = {
      {0, 0}, {0.02, 0}, {0, 0.02}, {0.01, 0.01}, {0.3, 0}};
  for (int in_bits : {2, 4, 8, 16}) {
    compiler::TreeCompileOptions options;
    options.in_bits = in_bits;
    options.cell_bits = 3;  // several cells per bound, the last one partly used
    ir::TreeRows rows = compiler::compile_trees(ensemble, options);
    for (const analog::AcamTreeNoise& noise : noises) {
      analog::AcamTrees acam(rows, noise, 5, 1);
      std::vector<float> expected(samples * rows.num_outputs);
      acam.set_search(analog::AcamTreeSearch::kRows);
      acam.predict(x.data(), samples, 0, expected.data());
      for (int variant = 0; variant < 3; ++variant) {
        // Segments with a checkpoint per segment, then every 4 (rows toggled in between),
        // then the descent (noise off; with noise it falls back to segments).
        const analog::AcamTreeSearch search =
            variant < 2 ? analog::AcamTreeSearch::kSegments : analog::AcamTreeSearch::kDescent;
        acam.set_search(search);
        acam.set_segment_spacing(variant == 1 ? 4 : 1);
        for (int threads : {1, 2}) {
          set_num_threads(threads);
          std::vector<float> got(expected.size());
          acam.predict(x.data(), samples, 0, got.data());
          for (size_t i = 0; i < got.size(); ++i)
            ASSERT_EQ(got[i], expected[i])
                << "output " << i << ", in_bits " << in_bits << ", noise " << noise.threshold_sigma
                << "/" << noise.input_sigma << ", search " << static_cast<int>(search)
                << ", threads " << threads;
        }
      }
      set_num_threads(0);
    }
  }
}

// Without noise the descent reaches the reference predictor's leaf on every random sample
// (values on the thresholds and missing ones included), in every batch split.
TEST(AcamTrees, DescentEqualsReferenceInAnyBatchSplit) {
  std::mt19937 rng(12);
  std::vector<float> pool;
  ir::TreeEnsemble ensemble = random_ensemble(10, 4, 5, rng, pool);
  const int64_t samples = 203;  // not a multiple of the lanes or of the blocks
  std::vector<float> x = random_samples(samples, ensemble.num_feature, pool, rng);
  std::vector<float> expected(samples * ensemble.num_outputs());
  ir::predict_reference(ensemble, x.data(), samples, expected.data());
  compiler::TreeCompileOptions options;
  ir::TreeRows rows = compiler::compile_trees(ensemble, options);
  ASSERT_TRUE(rows.exact);
  analog::AcamTrees acam(rows, {}, 0, 0);
  for (int64_t batch : {int64_t{1}, int64_t{7}, int64_t{64}, int64_t{65}, samples}) {
    std::vector<float> got(expected.size());
    for (int64_t s = 0; s < samples; s += batch) {
      const int64_t count = std::min(batch, samples - s);
      acam.predict(x.data() + s * rows.num_feature, count, s, got.data() + s * rows.num_outputs);
    }
    EXPECT_EQ(got, expected) << "batch " << batch;
  }
}

// A row matches under threshold noise exactly when every stored bound admits the code:
// the segment search's matches (through the outputs) follow a hand-made noisy interval.
TEST(AcamTrees, SegmentsFollowNoisyBoundsOnIntegerCodes) {
  ir::TreeEnsemble ensemble = hand_tree();
  ir::TreeRows rows = compiler::compile_trees(ensemble, {});
  for (uint64_t trial = 0; trial < 20; ++trial) {
    analog::AcamTrees acam(rows, {0.002, 0}, 3, trial);
    for (float x0 : {0.2f, 0.5f, 0.7f, kNaN})
      for (float x1 : {1.0f, 2.0f, 3.0f, kNaN}) {
        const std::array<float, 2> x = {x0, x1};
        float expected = rows.base_margin;
        for (int64_t r : acam.matched_rows(x.data(), 0)) expected += rows.leaf[r];
        acam.set_search(analog::AcamTreeSearch::kSegments);
        float got = 0;
        acam.predict(x.data(), 1, 0, &got);
        EXPECT_EQ(got, expected) << trial << ": " << x0 << "," << x1;
      }
  }
}

TEST(CsvMatrix, ParallelParserEqualsTheReferenceParser) {
  const std::vector<std::string> cells = {
      "1",    " 2.5 ",  "+3", "-4e-3", "",       "nan",  "NaN ", "\t7\r", "x",  "1 2",
      "+-5",  "inf",    "1e", "++1",   "nan(1)", "0x10", ".5",   "5.",    "-0", "+",
      "1e40", " nan x", "-",  "1e-50", "3.25",   "NAN",  " ",    "-nan"};
  const std::vector<std::string> good = {"1",     " 2.5 ", "+3", "-4e-3", "",   "nan",   "NaN ",
                                         "\t7\r", "+-5",   ".5", "5.",    "-0", "1e-50", " "};
  std::mt19937 rng(5);
  auto compare = [](const std::string& text) {
    std::string expected_error, got_error;
    frontend::CsvMatrix expected, got;
    try {
      expected = frontend::parse_csv_matrix_reference(text, "t.csv");
    } catch (const Error& e) {
      expected_error = e.what();
    }
    try {
      got = frontend::parse_csv_matrix(text, "t.csv");
    } catch (const Error& e) {
      got_error = e.what();
    }
    ASSERT_EQ(got_error, expected_error) << text;
    ASSERT_EQ(got.rows, expected.rows) << text;
    ASSERT_EQ(got.cols, expected.cols) << text;
    ASSERT_EQ(got.values.size(), expected.values.size()) << text;
    // Bit for bit (NaN included).
    ASSERT_EQ(std::memcmp(got.values.data(), expected.values.data(), got.values.size() * 4), 0)
        << text;
  };
  for (int trial = 0; trial < 3000; ++trial) {
    const bool valid = trial % 2 == 0;
    const std::vector<std::string>& from = valid ? good : cells;
    const int rows = 1 + static_cast<int>(rng() % 4), cols = 1 + static_cast<int>(rng() % 3);
    std::string text;
    for (int r = 0; r < rows; ++r) {
      const int row_cols = rng() % 10 == 0 ? cols + 1 : cols;
      for (int c = 0; c < row_cols; ++c) text += (c ? "," : "") + from[rng() % from.size()];
      text += rng() % 5 == 0 ? "\r\n" : "\n";
    }
    if (rng() % 3 == 0) text += "\n \n";
    compare(text);
  }
  // Several chunks of 1 MiB: valid, then with a fault deep inside.
  std::string big;
  for (int r = 0; big.size() < 3'500'000; ++r)
    big += fmt::format("{},{:.7g},,nan,{}\n", r, r * 0.37f, -r);
  compare(big);
  frontend::CsvMatrix parsed = frontend::parse_csv_matrix(big, "t.csv");
  EXPECT_EQ(parsed.values[5 * 1000 + 1], 1000 * 0.37f);
  big[big.size() * 2 / 3] = 'y';
  compare(big);
}

// The fast number parser returns std::from_chars' float for every decimal: short and long
// mantissas, leading zeros, exponents in and out of the fast range, float halfway points.
TEST(CsvMatrix, NumbersEqualFromChars) {
  std::mt19937 rng(21);
  std::vector<std::string> numbers = {"16777217",
                                      "16777219",
                                      "-16777217",
                                      "33554434",
                                      "0.000000059604644775390625",
                                      "1.00000005960464477539",
                                      "3.4028235e38",
                                      "3.4028236e38",
                                      "1e-38",
                                      "1.17549435e-38",
                                      "1e-45",
                                      "7e-46",
                                      "1e39",
                                      "0.0",
                                      "-0.",
                                      "00012.50",
                                      "1e22",
                                      "1e23",
                                      "123456789012345",
                                      "1234567890123456",
                                      "9007199254740993",
                                      "4.2e-22",
                                      "4.2e-23",
                                      "1E5",
                                      "2e+3"};
  for (int i = 0; i < 20000; ++i) {
    uint32_t bits = static_cast<uint32_t>(rng());
    float value;
    std::memcpy(&value, &bits, 4);
    if (!std::isfinite(value)) continue;
    numbers.push_back(fmt::format("{:.{}g}", value, 1 + rng() % 12));
    std::string digits = std::to_string(rng() % 100000000);
    numbers.push_back(digits.substr(0, 1 + rng() % digits.size()) + "." + digits + "e" +
                      std::to_string(static_cast<int>(rng() % 50) - 25));
  }
  // Out of range for a float: an error (tested above); left out here.
  std::vector<std::string> valid;
  std::vector<float> expected;
  for (const std::string& number : numbers) {
    float value = 0;
    auto result = std::from_chars(number.data(), number.data() + number.size(), value);
    if (result.ec != std::errc() || !std::isfinite(value)) continue;
    ASSERT_EQ(result.ptr, number.data() + number.size()) << number;
    valid.push_back(number);
    expected.push_back(value);
  }
  ASSERT_GT(valid.size(), 30000u);
  std::string text;
  for (const std::string& number : valid) text += number + "\n";
  frontend::CsvMatrix parsed = frontend::parse_csv_matrix(text, "n.csv");
  ASSERT_EQ(parsed.rows, static_cast<int64_t>(valid.size()));
  for (size_t i = 0; i < valid.size(); ++i)
    ASSERT_EQ(std::bit_cast<uint32_t>(parsed.values[i]), std::bit_cast<uint32_t>(expected[i]))
        << valid[i];
}

TEST(CsvMatrix, FormatsAsPrintfG9) {
  std::mt19937 rng(9);
  std::vector<float> values = {0.0f,    -0.0f,        1.0f,
                               0.1f,    123456789.0f, 1e-45f,
                               3.4e38f, -1.5e-7f,     std::numeric_limits<float>::infinity(),
                               kNaN};
  for (int i = 0; i < 20000; ++i) {
    uint32_t bits = static_cast<uint32_t>(rng());
    float value;
    std::memcpy(&value, &bits, 4);
    values.push_back(value);
  }
  std::string expected;
  for (float v : values)
    expected += std::isnan(v) ? std::string("nan\n") : fmt::format("{:.9g}\n", v);
  EXPECT_EQ(frontend::format_csv_matrix(values.data(), static_cast<int64_t>(values.size()), 1),
            expected);
  std::vector<float> table = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(frontend::format_csv_matrix(table.data(), 2, 3), "1,2,3\n4,5,6\n");
}

TEST(TreeCost, FollowsTheXtimePowerModel) {
  ir::TreeEnsemble ensemble = hand_tree();
  arch::Architecture arch;  // acam_array defaults: CAMSHAP's hw.json
  ir::TreeRows rows = compiler::compile_trees(ensemble, compiler::tree_compile_options(arch));
  cost::TreeCost c = cost::estimate_trees(rows, arch);
  EXPECT_EQ(c.rows, 3);
  EXPECT_EQ(c.arrays, 1);
  EXPECT_DOUBLE_EQ(c.search_s, 4e-9);
  EXPECT_DOUBLE_EQ(c.throughput, 2.5e8);
  EXPECT_DOUBLE_EQ(c.latency_s, 4e-9);  // one tree: no reduction
  // Match line: 3 rows x 0.5 (1.9 fF x 128 + 40.95 fF + 50 fF) / 1 ns x 0.6^2, for 4 ns.
  double ml = 3 * 0.5 * (1.9e-15 * 128 + 40.95e-15 + 50e-15) / 1e-9 * 0.36 * 4e-9;
  EXPECT_NEAR(c.energy_match_line_j, ml, 1e-12 * ml);
  // Data line: V_dd^2 / R_out x 128 columns, R_out = 1 ns / (256 x 0.324 fF) - 0.5 x 9.5625 x 255.
  double r_out = 1e-9 / (256 * 0.324e-15) - 0.5 * 9.5625 * 255;
  EXPECT_NEAR(c.energy_data_line_j, 0.25 / r_out * 128 * 4e-9, 1e-9 * c.energy_data_line_j);
  // Register: static for 256 rows, dynamic for the 3 enabled ones.
  EXPECT_NEAR(c.energy_register_j, (256 * 2.3e-7 + 3 * 8.17e-6) * 4e-9, 1e-20);
  // Source line: a don't-care pair per cell (HRS low, LRS high: capped) on most columns.
  double cap = 0.5 * 100e-6 * (0.6 - 0.36) * (0.6 - 0.36);
  double dont_care = 2 * 0.8 * (std::min(0.8 * 1e-8, cap) + std::min(0.8 * 110e-6, cap));
  EXPECT_GT(c.energy_source_line_j, 3 * 126 * dont_care * 4e-9);
  EXPECT_DOUBLE_EQ(c.energy_j, c.energy_data_line_j + c.energy_match_line_j +
                                   c.energy_source_line_j + c.energy_register_j);
  EXPECT_EQ(c.area_m2, 0.0);
}

TEST(CsvMatrix, ParsesMissingValuesAndNamesTheBadCell) {
  frontend::CsvMatrix m = frontend::parse_csv_matrix("1,2.5,nan\n,NaN,-3e2\n\n", "x.csv");
  ASSERT_EQ(m.rows, 2);
  ASSERT_EQ(m.cols, 3);
  EXPECT_EQ(m.values[1], 2.5f);
  EXPECT_TRUE(std::isnan(m.values[2]));
  EXPECT_TRUE(std::isnan(m.values[3]));
  EXPECT_TRUE(std::isnan(m.values[4]));
  EXPECT_EQ(m.values[5], -300.0f);
  try {
    frontend::parse_csv_matrix("1,2\n3,x4\n", "x.csv");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_EQ(std::string(e.what()), "x.csv: line 2, column 2: \"x4\" is not a finite number");
  }
  try {
    frontend::parse_csv_matrix("1,2\n3\n", "x.csv");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "x.csv: line 2: 1 columns, expected 2 (as on line 1)");
  }
  std::vector<float> values = {1.5f, kNaN};
  EXPECT_EQ(frontend::format_csv_matrix(values.data(), 1, 2), "1.5,nan\n");
}

}  // namespace
}  // namespace aimc
