// `aimc eval` on the bundled models: the metric over the whole split equals the model card's
// (accuracy within 0.05 percentage points, bits per character within 0.01), and bad input
// exits with 2.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace aimc {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;

struct EvalRun {
  int exit_code;
  std::string out, err;
};

EvalRun aimc_eval(const std::string& args) {
  static int calls = 0;
  std::string err_file = (std::filesystem::temp_directory_path() /
                          ("aimc_eval_test_" + std::to_string(getpid()) + "_" +
                           std::to_string(calls++)))
                             .string();
  std::string command = std::string(AIMC_BINARY) + " eval " + args + " 2>" + err_file;
  EvalRun run;
  FILE* pipe = popen(command.c_str(), "r");
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) run.out.append(buffer.data(), n);
  int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_file);
  run.err.assign(std::istreambuf_iterator<char>(err), {});
  std::filesystem::remove(err_file);
  return run;
}

nlohmann::json card(const std::string& model) {
  std::ifstream in(kSource + "/models/" + model + ".json");
  return nlohmann::json::parse(in);
}

class FullSplit : public ::testing::TestWithParam<std::string> {};

TEST_P(FullSplit, MetricEqualsTheModelCard) {
  const std::string model = GetParam();
  nlohmann::json expected = card(model);
  EvalRun run = aimc_eval(kSource + "/models/" + model + ".onnx --dataset " +
                      expected["dataset"].get<std::string>() + " --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json got = nlohmann::json::parse(run.out);
  EXPECT_EQ(got["dataset"], expected["dataset"]);
  EXPECT_EQ(got["samples"], expected["samples"]);
  if (expected["metric"] == "accuracy") {
    EXPECT_NEAR(got["digital"]["accuracy"].get<double>() * 100,
                expected["value"].get<double>() * 100, 0.05);
  } else {
    EXPECT_NEAR(got["digital"]["bits_per_char"].get<double>(), expected["value"].get<double>(),
                0.01);
    EXPECT_NEAR(got["digital"]["perplexity"].get<double>(),
                expected["perplexity"].get<double>(), 0.05);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, FullSplit,
                         ::testing::Values("vit-fmnist", "cnn-fmnist", "mlp-fmnist",
                                           "gpt-fortunes"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(Eval, LimitAndBatchDoNotChangeTheCount) {
  EvalRun a = aimc_eval(kSource + "/models/mlp-fmnist.onnx --dataset fashion-mnist --limit 300 "
                    "--batch 7 --json");
  EvalRun b = aimc_eval(kSource + "/models/mlp-fmnist.onnx --dataset fashion-mnist --limit 300 "
                    "--batch 300 --json");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  EXPECT_EQ(ja["samples"], 300);
  EXPECT_EQ(ja["digital"]["correct"], jb["digital"]["correct"]);
  // Text output names the metric.
  EvalRun text = aimc_eval(kSource + "/models/mlp-fmnist.onnx --dataset fashion-mnist --limit 20");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("accuracy"), std::string::npos) << text.out;
}

TEST(Eval, BadInputExitsWithTwo) {
  // The wrong data set for the model: its input does not fit, the message names the input.
  EvalRun r = aimc_eval(kSource + "/models/mlp-fmnist.onnx --dataset fortunes --limit 2");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("image"), std::string::npos) << r.err;
  r = aimc_eval(kSource + "/models/gpt-fortunes.onnx --dataset fashion-mnist --limit 2");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("tokens"), std::string::npos) << r.err;
  r = aimc_eval(kSource + "/models/mlp-fmnist.onnx --dataset cifar10");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = aimc_eval(kSource + "/models/mlp-fmnist.onnx --dataset fashion-mnist --batch 0");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = aimc_eval(kSource + "/models/mlp-fmnist.onnx --dataset fashion-mnist --data-dir /nonexistent");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/t10k-images-idx3-ubyte.gz"), std::string::npos) << r.err;
  r = aimc_eval("/nonexistent.onnx --dataset fashion-mnist");
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace aimc
