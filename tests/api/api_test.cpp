// The library API: the statistics against their formulas, api::evaluate against the CLI's
// JSON and across thread counts, the tree metrics on hand cases, and bad requests.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "aimc/api/evaluate.h"
#include "aimc/api/model.h"
#include "aimc/api/trees.h"
#include "aimc/core/error.h"
#include "aimc/report/summary.h"
#include "aimc/runtime/threads.h"
#include "cli/run_aimc.h"

namespace aimc::api {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;

TEST(TrialSummary, MeanAndSampleStdFollowTheFormula) {
  const report::TrialSummary s = report::summarize_trials({0.5, 0.7, 0.9, 0.6});
  const double mean = (0.5 + 0.7 + 0.9 + 0.6) / 4;
  const double var = (std::pow(0.5 - mean, 2) + std::pow(0.7 - mean, 2) + std::pow(0.9 - mean, 2) +
                      std::pow(0.6 - mean, 2)) /
                     3;  // n - 1
  EXPECT_DOUBLE_EQ(s.mean, mean);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(var));
  EXPECT_EQ(s.min, 0.5);
  EXPECT_EQ(s.max, 0.9);
  const report::TrialSummary one = report::summarize_trials({0.3});
  EXPECT_EQ(one.mean, 0.3);
  EXPECT_EQ(one.std, 0.0);
  const report::TrialSummary same = report::summarize_trials({0.1, 0.1, 0.1});
  EXPECT_EQ(same.mean, 0.1);  // exactly, no rounding residue
  EXPECT_EQ(same.std, 0.0);
}

EvalRequest mlp_on_race(const arch::Architecture& arch) {
  EvalRequest request;
  request.model_name = "mlp";
  request.dataset = "fashion-mnist";
  request.limit = 60;
  request.batch = 25;
  request.arch = &arch;
  request.trials = 2;
  request.seed = 7;
  return request;
}

TEST(Evaluate, EqualsTheCliAndDoesNotDependOnThreads) {
  const std::string model = kSource + "/models/mlp-fmnist.onnx";
  const std::string arch_file = kSource + "/presets/race.yaml";
  const arch::Architecture arch = arch::load_architecture(arch_file);
  std::unique_ptr<ir::Graph> graph = load_model(model);
  runtime::set_threads(1);
  const EvalResult one = evaluate(*graph, mlp_on_race(arch));
  runtime::set_threads(2);
  const EvalResult two = evaluate(*graph, mlp_on_race(arch));
  ASSERT_EQ(one.trials.size(), 2u);
  for (size_t t = 0; t < 2; ++t) EXPECT_EQ(one.trials[t].correct, two.trials[t].correct);
  EXPECT_EQ(one.summary.mean, two.summary.mean);
  for (const auto& [name, error] : one.errors) EXPECT_EQ(error.noise, two.errors.at(name).noise);

  test::CliRun cli =
      test::run_aimc("eval " + model + " --dataset fashion-mnist --limit 60 " +
                     "--batch 25 --arch " + arch_file + " --trials 2 --seed 7 --json");
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const nlohmann::json json = nlohmann::json::parse(cli.out);
  EXPECT_EQ(json["digital"]["correct"], one.digital.correct);
  EXPECT_EQ(json["analog"]["accuracy"]["mean"].get<double>(), one.summary.mean);
  EXPECT_EQ(json["analog"]["per_trial"][1]["correct"], one.trials[1].correct);
  ASSERT_EQ(json["layers"].size(), one.layers.size());
  for (size_t i = 0; i < one.layers.size(); ++i) {
    EXPECT_EQ(json["layers"][i]["name"], one.layers[i].name);
    const double db = one.snr_db(one.layers[i].name);
    if (std::isfinite(db)) {
      EXPECT_DOUBLE_EQ(json["layers"][i]["snr_db"].get<double>(), db);
    }
  }
}

TEST(Evaluate, BadRequestsAreBadInput) {
  const arch::Architecture arch = arch::load_architecture(kSource + "/presets/race.yaml");
  std::unique_ptr<ir::Graph> graph = load_model(kSource + "/models/mlp-fmnist.onnx");
  EvalRequest request = mlp_on_race(arch);
  request.trials = 0;
  EXPECT_THROW(evaluate(*graph, request), Error);
  request.trials = 1;
  request.dataset = "no-such-data";
  try {
    evaluate(*graph, request);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("no-such-data"), std::string::npos) << e.what();
  }
}

// A model whose logits hold NaN: the samples are scored as they are, and the caller is told
// once per run which output, how many samples and the first of them.
TEST(Evaluate, NonFiniteOutputsAreCountedAndWarnedAbout) {
  const arch::Architecture arch = arch::load_architecture(kSource + "/presets/race.yaml");
  std::unique_ptr<ir::Graph> graph = load_model(kSource + "/models/mlp-fmnist.onnx");
  ir::Value* bias = nullptr;
  for (const auto& node : graph->nodes())
    if (node->op == "linear" && node->output(0) == graph->outputs[0]) bias = node->input(2);
  ASSERT_NE(bias, nullptr);
  ASSERT_TRUE(bias->is_constant());
  bias->constant.data<float>()[3] = std::nanf("");
  EvalRequest request = mlp_on_race(arch);
  request.limit = 30;
  request.trials = 1;
  std::vector<std::string> warnings;
  request.warn = [&](const std::string& w) { warnings.push_back(w); };
  const EvalResult result = evaluate(*graph, request);
  EXPECT_EQ(result.digital.non_finite, 30);
  EXPECT_EQ(result.digital.first_non_finite, 0);
  EXPECT_EQ(result.trials.at(0).non_finite, 30);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("'" + graph->outputs[0]->name + "'"), std::string::npos)
      << warnings[0];
  EXPECT_NE(warnings[0].find("30 of 30 samples in the digital run (first: sample 0 of the test"),
            std::string::npos)
      << warnings[0];
  EXPECT_NE(warnings[1].find("on chip instance 0"), std::string::npos) << warnings[1];
  // The bundled model as it is: no warning.
  std::unique_ptr<ir::Graph> clean = load_model(kSource + "/models/mlp-fmnist.onnx");
  warnings.clear();
  EXPECT_EQ(evaluate(*clean, request).digital.non_finite, 0);
  EXPECT_TRUE(warnings.empty());
}

TEST(TreeMetric, AccuracyAndRmseByHand) {
  ir::TreeEnsemble binary;
  binary.objective = ir::TreeObjective::kBinaryLogistic;
  // p >= 0.5 is class 1: predictions 0.2, 0.5, 0.9 against labels 0, 0, 1 -> 2 of 3.
  EXPECT_DOUBLE_EQ(tree_metric(binary, {0.2f, 0.5f, 0.9f}, {0.0f, 0.0f, 1.0f}), 2.0 / 3.0);
  ir::TreeEnsemble regression;
  regression.objective = ir::TreeObjective::kRegSquaredError;
  // errors 1 and -3: sqrt((1 + 9) / 2).
  EXPECT_DOUBLE_EQ(tree_metric(regression, {2.0f, 1.0f}, {1.0f, 4.0f}), std::sqrt(5.0));
  EXPECT_STREQ(tree_metric_name(regression), "rmse");
  EXPECT_THROW(check_tree_labels(binary, {0.0f, 0.5f}, "y.csv"), Error);
  EXPECT_NO_THROW(check_tree_labels(binary, {0.0f, 1.0f}, "y.csv"));
}

}  // namespace
}  // namespace aimc::api
