// `aimc eval` on the bundled models: the metric over the whole split equals the model card's
// (accuracy within 0.05 percentage points, bits per character within 0.01), and bad input
// exits with 2.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/run_aimc.h"
#include "common/bundled_models.h"

namespace aimc {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;

using EvalRun = test::CliRun;

EvalRun aimc_eval(const std::string& args) {
  return test::run_aimc("eval " + args);
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
    EXPECT_NEAR(got["digital"]["perplexity"].get<double>(), expected["perplexity"].get<double>(),
                0.05);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, FullSplit,
                         ::testing::Values("vit-fmnist", "cnn-fmnist", "mlp-fmnist",
                                           "gpt-fortunes"),
                         test::BundledModelName());

TEST(Eval, LimitAndBatchDoNotChangeTheCount) {
  EvalRun a = aimc_eval(kSource +
                        "/models/mlp-fmnist.onnx --dataset fashion-mnist --limit 300 "
                        "--batch 7 --json");
  EvalRun b = aimc_eval(kSource +
                        "/models/mlp-fmnist.onnx --dataset fashion-mnist --limit 300 "
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
  r = aimc_eval(kSource +
                "/models/mlp-fmnist.onnx --dataset fashion-mnist --data-dir /nonexistent");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/t10k-images-idx3-ubyte.gz"), std::string::npos) << r.err;
  r = aimc_eval("/nonexistent.onnx --dataset fashion-mnist");
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace aimc

namespace aimc {
namespace {

TEST(EvalAnalog, JsonHoldsDigitalAnalogAndLayers) {
  EvalRun r = aimc_eval(kSource +
                        "/models/mlp-fmnist.onnx --dataset fashion-mnist --limit 200 "
                        "--arch " +
                        kSource + "/presets/isaac.yaml --trials 3 --seed 5 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["samples"], 200);
  const auto& acc = j["analog"]["accuracy"];
  for (const char* key : {"mean", "std", "min", "max"}) EXPECT_TRUE(acc.contains(key)) << key;
  EXPECT_LE(acc["min"].get<double>(), acc["mean"].get<double>());
  EXPECT_LE(acc["mean"].get<double>(), acc["max"].get<double>());
  EXPECT_EQ(j["analog"]["trials"], 3);
  EXPECT_EQ(j["analog"]["per_trial"].size(), 3u);
  ASSERT_EQ(j["layers"].size(), 3u);  // the MLP's three linear layers
  for (const auto& layer : j["layers"]) {
    EXPECT_TRUE(layer.contains("name"));
    EXPECT_TRUE(layer.contains("snr_db"));
    EXPECT_EQ(layer["placement"], "crossbar");
    EXPECT_GT(layer["arrays"].get<int>(), 0);
  }
  // The same seed gives the same numbers; the text output prints the analog line.
  EvalRun again = aimc_eval(kSource +
                            "/models/mlp-fmnist.onnx --dataset fashion-mnist "
                            "--limit 200 --arch " +
                            kSource +
                            "/presets/isaac.yaml --trials 3 "
                            "--seed 5 --json");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["analog"]["per_trial"], j["analog"]["per_trial"]);
  EvalRun text = aimc_eval(kSource +
                           "/models/mlp-fmnist.onnx --dataset fashion-mnist "
                           "--limit 50 --arch " +
                           kSource + "/presets/isaac.yaml");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("analog   accuracy"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("SNR"), std::string::npos) << text.out;
}

TEST(EvalAnalog, BadArchitectureExitsWithTwoAndNamesTheKey) {
  EvalRun r = aimc_eval(kSource +
                        "/models/mlp-fmnist.onnx --dataset fashion-mnist --limit 10 "
                        "--arch " +
                        kSource + "/presets/isaac.yaml --set adc.bitz=3");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("adc.bitz"), std::string::npos) << r.err;
  r = aimc_eval(kSource +
                "/models/mlp-fmnist.onnx --dataset fashion-mnist --limit 10 "
                "--arch /nonexistent.yaml");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("/nonexistent.yaml"), std::string::npos) << r.err;
  r = aimc_eval(kSource + "/models/mlp-fmnist.onnx --dataset fashion-mnist --trials 3");
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace aimc

namespace aimc {
namespace {

// aimc run --arch: one analog inference of one chip instance; --trial picks the instance.
TEST(RunAnalog, WritesOutputsOfTheChosenChipInstance) {
  namespace fs = std::filesystem;
  const std::string model = kSource + "/models/mlp-fmnist.onnx";
  const std::string input = "image=" + kSource + "/models/mlp-fmnist.ref-input.npy";
  const std::string arch = kSource + "/presets/isaac.yaml";
  auto run = [&](const std::string& extra, const std::string& dir) {
    fs::remove_all(dir);
    std::string cmd = std::string(AIMC_BINARY) + " run " + model + " --input " + input +
                      " --output-dir " + dir + " " + extra + " > /dev/null 2>&1";
    int status = std::system(cmd.c_str());
    std::ifstream f(dir + "/logits.npy", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), {});
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, bytes);
  };
  const std::string tmp =
      fs::temp_directory_path() / ("aimc_run_analog_" + std::to_string(getpid()));
  auto digital = run("", tmp + "_d");
  auto t0 = run("--arch " + arch + " --trial 0", tmp + "_0");
  auto t0_again = run("--arch " + arch + " --trial 0", tmp + "_0b");
  auto t1 = run("--arch " + arch + " --trial 1", tmp + "_1");
  ASSERT_EQ(digital.first, 0);
  ASSERT_EQ(t0.first, 0);
  ASSERT_EQ(t1.first, 0);
  EXPECT_FALSE(t0.second.empty());
  EXPECT_EQ(t0.second, t0_again.second);
  EXPECT_NE(t0.second, t1.second);
  EXPECT_NE(t0.second, digital.second);
  auto bad = run("--arch " + arch + " --set array.rowz=5", tmp + "_bad");
  EXPECT_EQ(bad.first, 2);
  EXPECT_TRUE(bad.second.empty());
  EXPECT_FALSE(fs::exists(tmp + "_bad/logits.npy"));
  for (const char* s : {"_d", "_0", "_0b", "_1", "_bad"}) fs::remove_all(tmp + s);
}

}  // namespace
}  // namespace aimc
