// aimc estimate --baseline and --no-replicate: the JSON carries the GPU comparison, whose
// ratios follow from the two estimates; replication off leaves every layer one copy; a bad
// GPU file exits with 2 and names the key.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/run_aimc.h"

namespace aimc {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;
const std::string kVitOnRace =
    kSource + "/models/vit-fmnist.onnx --arch " + kSource + "/presets/race.yaml";

TEST(CliEstimate, GpuBaselineRatiosFollowFromBothEstimates) {
  test::CliRun r = test::run_aimc("estimate " + kVitOnRace + " --baseline gpu --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.contains("baseline"));
  const nlohmann::json& gpu = j["baseline"];
  EXPECT_EQ(gpu["gpu"], "nvidia-a100-80gb-sxm");
  EXPECT_EQ(gpu["tdp_w"].get<double>(), 400.0);
  const double aimc_latency = j["latency_s"], gpu_latency = gpu["latency_s"];
  EXPECT_GT(gpu_latency, 0.0);
  EXPECT_DOUBLE_EQ(gpu["speedup"].get<double>(), gpu_latency / aimc_latency);
  EXPECT_DOUBLE_EQ(
      gpu["throughput_ratio"].get<double>(),
      j["throughput_inf_per_s"].get<double>() / gpu["throughput_inf_per_s"].get<double>());
  EXPECT_DOUBLE_EQ(gpu["energy_ratio"].get<double>(),
                   gpu["energy_j"].get<double>() / j["energy_j"].get<double>());
  // Batch 1: between the idle power (60 W, waiting for launches) and the TDP (400 W, kernels
  // running) over the whole latency, and the mean power times the latency.
  const double gpu_energy = gpu["energy_j"];
  EXPECT_GT(gpu_energy, 60.0 * gpu_latency);
  EXPECT_LT(gpu_energy, 400.0 * gpu_latency);
  EXPECT_NEAR(gpu_energy, gpu["power_w"].get<double>() * gpu_latency, 1e-12 * gpu_energy);
  // The same GPU from its file gives the same numbers.
  test::CliRun file = test::run_aimc("estimate " + kVitOnRace + " --baseline " + kSource +
                                     "/presets/gpu-a100.yaml --json");
  ASSERT_EQ(file.exit_code, 0) << file.err;
  EXPECT_EQ(nlohmann::json::parse(file.out)["baseline"]["latency_s"], gpu["latency_s"]);
  test::CliRun text = test::run_aimc("estimate " + kVitOnRace + " --baseline gpu");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("baseline nvidia-a100-80gb-sxm"), std::string::npos) << text.out;
}

TEST(CliEstimate, NoReplicateKeepsOneCopyPerLayer) {
  test::CliRun on = test::run_aimc("estimate " + kVitOnRace + " --json");
  test::CliRun off = test::run_aimc("estimate " + kVitOnRace + " --no-replicate --json");
  ASSERT_EQ(on.exit_code, 0) << on.err;
  ASSERT_EQ(off.exit_code, 0) << off.err;
  nlohmann::json with = nlohmann::json::parse(on.out), without = nlohmann::json::parse(off.out);
  EXPECT_EQ(without["replicas_added"], 0);
  for (const auto& layer : without["breakdown"]["by_layer"]) EXPECT_EQ(layer["replicas"], 1);
  EXPECT_GT(with["replicas_added"].get<int64_t>(), 0);
  EXPECT_GE(with["arrays"].get<int64_t>(), without["arrays"].get<int64_t>());
  EXPECT_LE(with["latency_s"].get<double>(), without["latency_s"].get<double>());
  EXPECT_GE(with["throughput_inf_per_s"].get<double>(),
            without["throughput_inf_per_s"].get<double>());
}

TEST(CliEstimate, BadGpuFileExitsWithTwoNamingTheKey) {
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / "aimc_cli_bad_gpu.yaml";
  std::ofstream(file) << "peak_flops: 1e12\nmemory_bandwith: 1e12\ntdp: 300\n";
  test::CliRun r = test::run_aimc("estimate " + kVitOnRace + " --baseline " + file.string());
  std::filesystem::remove(file);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("memory_bandwith"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  test::CliRun missing = test::run_aimc("estimate " + kVitOnRace + " --baseline no-such.yaml");
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("no-such.yaml"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace aimc
