// `aimc trees`: predict writes one CSV row per sample equal to XGBoost's predictions (digital
// reference and noise-free ACAM), eval and estimate report JSON, bad input exits with 2 and
// writes no output file.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include <sstream>
#include <vector>
#include "cli/run_aimc.h"

namespace aimc {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;
const std::string kData = kSource + "/tests/data/trees/";

using TreesRun = test::CliRun;

TreesRun aimc_trees(const std::string& args) {
  return test::run_aimc("trees " + args);
}

std::vector<std::vector<double>> read_csv(const std::string& path) {
  std::vector<std::vector<double>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::stringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  return rows;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("aimc_trees_" + std::to_string(getpid()) + "_" + name))
      .string();
}

class TreesPredict : public ::testing::TestWithParam<std::string> {};

TEST_P(TreesPredict, CsvRoundTripEqualsXgboost) {
  const std::string model = GetParam();
  std::vector<std::vector<double>> expected = read_csv(kData + model + ".xgb_pred.csv");
  for (std::string arch :
       {std::string(""), " --arch " + kSource + "/presets/xtime.yaml" + " --set acam.in_bits=16"}) {
    std::string out = temp_path(model + ".csv");
    TreesRun run = aimc_trees("predict " + kData + model + ".json --data " + kData + model +
                              ".test.csv -o " + out + arch);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    std::vector<std::vector<double>> got = read_csv(out);
    std::filesystem::remove(out);
    ASSERT_EQ(got.size(), expected.size()) << arch;
    for (size_t s = 0; s < got.size(); ++s) {
      ASSERT_EQ(got[s].size(), expected[s].size());
      for (size_t k = 0; k < got[s].size(); ++k)
        ASSERT_NEAR(got[s][k], expected[s][k], 1e-5) << "sample " << s << arch;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Trees, TreesPredict,
                         ::testing::Values("breast_cancer", "digits", "diabetes"));

TEST(TreesCli, BadInputExitsWithTwoAndWritesNothing) {
  std::string bad_csv = temp_path("bad.csv");
  { std::ofstream(bad_csv) << "1,2\n3,oops\n"; }
  std::string out = temp_path("never.csv");
  TreesRun run = aimc_trees("predict " + kData + "diabetes.json --data " + bad_csv + " -o " + out);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find(bad_csv + ": line 2, column 2"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(out));

  // Wrong number of features.
  run = aimc_trees("predict " + kData + "diabetes.json --data " + kData +
                   "breast_cancer.test.csv -o " + out);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("columns, but the model has 10 features"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(out));

  // Not a model.
  run = aimc_trees("predict " + bad_csv + " --data " + bad_csv + " -o " + out);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find(bad_csv + ": not valid JSON"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  std::filesystem::remove(bad_csv);

  // Missing required option.
  EXPECT_EQ(aimc_trees("predict " + kData + "diabetes.json -o " + out).exit_code, 2);
}

TEST(TreesCli, EvalReportsDigitalAndAcamMetrics) {
  TreesRun run = aimc_trees("eval " + kData + "breast_cancer.json --data " + kData +
                            "breast_cancer.test.csv --labels " + kData +
                            "breast_cancer.labels.csv --arch " + kSource +
                            "/presets/xtime.yaml --set acam.threshold_sigma=0.01 --trials 3 "
                            "--json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json result = nlohmann::json::parse(run.out);
  EXPECT_EQ(result["metric"], "accuracy");
  EXPECT_EQ(result["samples"], 143);
  EXPECT_GT(result["digital"].get<double>(), 0.9);
  EXPECT_EQ(result["acam"]["trials"].size(), 3u);
  EXPECT_LE(result["acam"]["min"].get<double>(), result["acam"]["max"].get<double>());

  run = aimc_trees("eval " + kData + "diabetes.json --data " + kData +
                   "diabetes.test.csv --labels " + kData + "diabetes.labels.csv --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  result = nlohmann::json::parse(run.out);
  EXPECT_EQ(result["metric"], "rmse");
  EXPECT_DOUBLE_EQ(result["digital"].get<double>(), result["acam"]["mean"].get<double>());
}

TEST(TreesCli, EstimateCountsRowsAndArrays) {
  TreesRun run = aimc_trees("estimate " + kData + "digits.json --arch " + kSource +
                            "/presets/xtime.yaml --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json result = nlohmann::json::parse(run.out);
  EXPECT_EQ(result["trees"], 80);
  int64_t rows = result["rows"].get<int64_t>();
  EXPECT_EQ(result["arrays"], (rows + 255) / 256);  // 64 features fit one column block
  EXPECT_DOUBLE_EQ(result["throughput_samples_per_s"].get<double>(), 2.5e8);
  EXPECT_GT(result["energy_per_sample_j"].get<double>(), 0);
  EXPECT_EQ(aimc_trees("estimate " + kData + "digits.json").exit_code, 2);  // --arch required
}

}  // namespace
}  // namespace aimc
