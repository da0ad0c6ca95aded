// The `aimc` command as a user runs it: exit codes, messages, files written (or not).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/run_aimc.h"

#include "aimc/core/npy.h"

namespace fs = std::filesystem;

namespace aimc {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;
const std::string kModels = kSource + "/tests/data/models/";
const std::string kSpecial = kSource + "/tests/data/special/";

using Result = test::CliRun;

Result aimc(const std::string& args) {
  return test::run_aimc(args);
}

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("aimc_cli_" + name);
  fs::remove_all(dir);
  return dir;
}

bool empty_or_missing(const fs::path& dir) {
  return !fs::exists(dir) || fs::is_empty(dir);
}

// Evaluates `call` once: the result is bound before any expectation reads it.
#define EXPECT_BAD_INPUT(call, fragment)                                         \
  do {                                                                           \
    const Result bad_input_result = (call);                                      \
    const std::string& bad_input_err = bad_input_result.err;                     \
    EXPECT_EQ(bad_input_result.exit_code, 2) << bad_input_err;                   \
    EXPECT_NE(bad_input_err.find(fragment), std::string::npos) << bad_input_err; \
    EXPECT_EQ(std::count(bad_input_err.begin(), bad_input_err.end(), '\n'), 1)   \
        << "one clear message expected:\n"                                       \
        << bad_input_err;                                                        \
  } while (0)

TEST(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(aimc("").exit_code, 2);
  EXPECT_EQ(aimc("--no-such-flag").exit_code, 2);
  Result r = aimc("inspect " + kModels + "mlp_tiny_op17.onnx --no-such-flag");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--no-such-flag"), std::string::npos) << r.err;
  EXPECT_EQ(aimc("frobnicate").exit_code, 2);
  EXPECT_EQ(aimc("--help").exit_code, 0);
}

TEST(Cli, InspectReportsShapesParametersAndMacs) {
  Result r = aimc("inspect " + kModels + "mlp_tiny_op17.onnx --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["inputs"][0]["name"], "image");
  EXPECT_EQ(j["inputs"][0]["shape"], nlohmann::json::parse(R"(["batch", 1, 28, 28])"));
  // 784·64 + 64·32 + 32·10 weights plus 64 + 32 + 10 biases; the same MACs per sample.
  EXPECT_EQ(j["parameters"], 784 * 64 + 64 * 32 + 32 * 10 + 64 + 32 + 10);
  EXPECT_EQ(j["macs_total"], 784 * 64 + 64 * 32 + 32 * 10);
  EXPECT_EQ(j["ops"]["linear"], 3);
  EXPECT_EQ(j["layers"].size(), 3u);

  Result text = aimc("inspect " + kModels + "vit_tiny_op17.onnx");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("parameters"), std::string::npos);
  EXPECT_NE(text.out.find("linear"), std::string::npos);

  Result ir = aimc("inspect --ir " + kModels + "vit_tiny_op13.onnx");
  ASSERT_EQ(ir.exit_code, 0) << ir.err;
  EXPECT_NE(ir.out.find("= layer_norm("), std::string::npos) << ir.out;
  EXPECT_NE(ir.out.find("= gelu("), std::string::npos) << ir.out;
  EXPECT_NE(ir.out.find("= matmul("), std::string::npos) << ir.out;
  EXPECT_EQ(ir.out.find("= MatMul("), std::string::npos) << ir.out;
}

TEST(Cli, InspectMacsScaleWithBoundDims) {
  Result one = aimc("inspect " + kModels + "cnn_tiny_op17.onnx --json");
  Result four = aimc("inspect " + kModels + "cnn_tiny_op17.onnx --json --dim batch=4");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ASSERT_EQ(four.exit_code, 0) << four.err;
  int64_t m1 = nlohmann::json::parse(one.out)["macs_total"];
  int64_t m4 = nlohmann::json::parse(four.out)["macs_total"];
  EXPECT_GT(m1, 0);
  EXPECT_EQ(m4, 4 * m1);
  EXPECT_EQ(aimc("inspect " + kModels + "cnn_tiny_op17.onnx --dim nosuch=2").exit_code, 2);
}

TEST(Cli, RunWritesOutputsThatMatchPyTorch) {
  fs::path dir = fresh_dir("run_ok");
  Result r = aimc("run " + kModels + "vit_tiny_op17.onnx --input image=" + kModels +
                  "vit_tiny_op17.input.npy --output-dir " + dir.string() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["outputs"][0]["name"], "output");
  Tensor got = read_npy((dir / "output.npy").string());
  Tensor want = read_npy(kModels + "vit_tiny_op17.output.npy");
  ASSERT_EQ(got.shape(), want.shape());
  double max_ref = 0, max_diff = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    max_ref = std::max(max_ref, std::abs(double(want.data<float>()[i])));
    max_diff = std::max(max_diff, std::abs(double(got.data<float>()[i] - want.data<float>()[i])));
  }
  EXPECT_LE(max_diff, 1e-4 * max_ref);
}

TEST(Cli, OutputNamesAreSanitised) {
  fs::path dir = fresh_dir("odd_names");
  fs::create_directories(dir);
  std::string input = (dir / "x.npy").string();
  write_npy(input, Tensor::from_vector<float>({2, 4}, {-1, 2, -3, 4, 5, -6, 7, -8}));
  fs::path out = dir / "out";
  Result r = aimc("run " + kSpecial + "odd_output_name.onnx --input x=" + input + " --output-dir " +
                  out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Tensor y = read_npy((out / "out_put_0.npy").string());
  EXPECT_EQ(y.data<float>()[0], 0.f);
  EXPECT_EQ(y.data<float>()[1], 2.f);
}

TEST(Cli, BadModelsExitWithTwoAndNameTheCulprit) {
  EXPECT_BAD_INPUT(aimc("inspect /nonexistent/model.onnx"), "/nonexistent/model.onnx");

  fs::path dir = fresh_dir("bad_models");
  fs::create_directories(dir);
  std::string whole;
  {
    std::ifstream in(kModels + "vit_tiny_op17.onnx", std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), {});
  }
  fs::path truncated = dir / "truncated.onnx";
  std::ofstream(truncated, std::ios::binary)
      .write(whole.data(), static_cast<long>(whole.size() / 3));
  EXPECT_BAD_INPUT(aimc("inspect " + truncated.string()), "truncated.onnx");
  fs::path corrupt = dir / "corrupt.onnx";
  std::string garbage = whole;
  for (size_t i = 0; i < garbage.size(); i += 7) garbage[i] = static_cast<char>(garbage[i] ^ 0x5a);
  std::ofstream(corrupt, std::ios::binary).write(garbage.data(), static_cast<long>(garbage.size()));
  Result c = aimc("inspect " + corrupt.string());
  EXPECT_EQ(c.exit_code, 2) << c.err;
  EXPECT_NE(c.err.find("corrupt.onnx"), std::string::npos) << c.err;

  Result unsupported = aimc("inspect " + kSpecial + "unsupported_op.onnx");
  EXPECT_BAD_INPUT(unsupported, "Unique");
  EXPECT_NE(unsupported.err.find("mystery_node"), std::string::npos) << unsupported.err;
  EXPECT_NE(unsupported.err.find("opset 17"), std::string::npos) << unsupported.err;
  EXPECT_NE(unsupported.err.find("Supported ONNX ops"), std::string::npos) << unsupported.err;

  Result external = aimc("inspect " + kSpecial + "external_missing.onnx");
  EXPECT_BAD_INPUT(external, "missing_weights.bin");
  EXPECT_NE(external.err.find("'w'"), std::string::npos) << external.err;
}

TEST(Cli, BadInputsExitWithTwoAndWriteNothing) {
  fs::path dir = fresh_dir("bad_inputs");
  fs::create_directories(dir);
  const std::string model = kModels + "vit_tiny_op17.onnx";
  fs::path out = dir / "out";

  std::string wrong_shape = (dir / "wrong_shape.npy").string();
  write_npy(wrong_shape, Tensor(DType::kF32, {2, 1, 27, 28}));
  EXPECT_BAD_INPUT(
      aimc("run " + model + " --input image=" + wrong_shape + " --output-dir " + out.string()),
      "[batch, 1, 28, 28]");
  std::string wrong_dtype = (dir / "wrong_dtype.npy").string();
  write_npy(wrong_dtype, Tensor(DType::kI64, {2, 1, 28, 28}));
  EXPECT_BAD_INPUT(
      aimc("run " + model + " --input image=" + wrong_dtype + " --output-dir " + out.string()),
      "dtype");
  std::string malformed = (dir / "malformed.npy").string();
  std::ofstream(malformed) << "\x93NUMPY this is not a header";
  EXPECT_BAD_INPUT(
      aimc("run " + model + " --input image=" + malformed + " --output-dir " + out.string()),
      "malformed.npy");
  EXPECT_BAD_INPUT(
      aimc("run " + model + " --input nosuch=" + wrong_shape + " --output-dir " + out.string()),
      "nosuch");
  Result missing = aimc("run " + model + " --output-dir " + out.string());
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(empty_or_missing(out)) << "a failed run left files in " << out;
}

}  // namespace
}  // namespace aimc

namespace aimc {
namespace {

TEST(Cli, ArchDescribesKeysAndValidatesFiles) {
  Result describe = aimc("arch --describe");
  ASSERT_EQ(describe.exit_code, 0) << describe.err;
  for (const char* key : {"array.rows", "adc.bits", "device.programming", "acam.encoding",
                          "dmmul.mode", "proportional", "power_law"})
    EXPECT_NE(describe.out.find(key), std::string::npos) << key;
  Result json = aimc("arch " + kSource + "/presets/race.yaml --set adc.bits=6 --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["adc"]["bits"], 6);
  EXPECT_BAD_INPUT(aimc("arch " + kSource + "/presets/race.yaml --set adc.bits=0"), "adc.bits");
  EXPECT_BAD_INPUT(aimc("arch " + kSource + "/presets/race.yaml --set aray.rows=3"), "array");
  EXPECT_BAD_INPUT(aimc("arch /nonexistent/arch.yaml"), "/nonexistent/arch.yaml");
  EXPECT_EQ(aimc("arch").exit_code, 2);
}

}  // namespace
}  // namespace aimc

namespace aimc {
namespace {

TEST(Cli, EstimateReportsCostWithBreakdowns) {
  Result r = aimc("estimate " + kSource + "/models/vit-fmnist.onnx --arch " + kSource +
                  "/presets/race.yaml --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  for (const char* key :
       {"latency_s", "throughput_inf_per_s", "energy_j", "area_m2", "power_w", "breakdown"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_GT(j["energy_j"].get<double>(), 0.0);
  double by_component = 0;
  for (const auto& [name, c] : j["breakdown"]["by_component"].items())
    by_component += c.is_object() ? c.value("energy_j", 0.0) : c.get<double>();
  EXPECT_GT(by_component, 0.0);
  EXPECT_FALSE(j["breakdown"]["by_layer"].empty());
  Result peak = aimc("estimate --peak --arch " + kSource + "/presets/isaac.yaml --json");
  ASSERT_EQ(peak.exit_code, 0) << peak.err;
  nlohmann::json p = nlohmann::json::parse(peak.out);
  for (const char* key : {"gops", "gops_per_mm2", "gops_per_w"})
    EXPECT_GT(p[key].get<double>(), 0.0) << key;
  EXPECT_BAD_INPUT(aimc("estimate " + kSource + "/models/vit-fmnist.onnx --arch " + kSource +
                        "/presets/race.yaml --set chip.tilez=2"),
                   "chip.tilez");
}

}  // namespace
}  // namespace aimc
