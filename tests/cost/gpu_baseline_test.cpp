// The GPU roofline baseline: one layer by hand (memory- and compute-bound), the GPU file's
// validation, and the bundled preset equal to the built-in numbers.
#include "aimc/cost/gpu_baseline.h"

#include <gtest/gtest.h>

#include "aimc/arch/architecture.h"
#include "aimc/core/error.h"

namespace aimc {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;

// A linear layer y[4, 200] = x[4, 256] W[256, 200], as the mapping would count it.
compiler::Mapping one_linear_layer() {
  compiler::Mapping mapping;
  compiler::LayerMapping layer;
  layer.node = "fc";
  layer.op = "linear";
  layer.input_elements = 4 * 256;
  layer.output_elements = 4 * 200;
  layer.macs_per_inference = 4 * 200 * 256;
  layer.weight_elements = 256 * 200;
  mapping.layers.push_back(layer);
  compiler::LayerMapping gelu;
  gelu.node = "act";
  gelu.op = "gelu";
  gelu.input_elements = 4 * 200;
  gelu.output_elements = 4 * 200;
  mapping.layers.push_back(gelu);
  return mapping;
}

std::string spec_text(const std::string& extra = "") {
  return "name: toy\npeak_flops: 1e12\nmemory_bandwidth: 1e9\ntdp: 100\nbytes_per_element: 2\n" +
         extra;
}

TEST(GpuBaseline, RooflineByHand) {
  // No launch overhead, no minimum kernel time: the plain roofline.
  cost::GpuSpec gpu =
      cost::parse_gpu_spec(spec_text("launch_overhead: 0\nmin_kernel_time: 0\n"), "toy.yaml");
  EXPECT_EQ(gpu.name, "toy");
  for (int64_t batch : {1, 1000}) {
    const double b = static_cast<double>(batch);
    cost::GpuCost c = cost::estimate_gpu(one_linear_layer(), gpu, batch);
    ASSERT_EQ(c.by_layer.size(), 2u);
    const double fc_flops = 2.0 * 4 * 200 * 256 * b;
    const double fc_bytes = (256 * 200 + b * (4 * 256 + 4 * 200)) * 2.0;
    EXPECT_DOUBLE_EQ(c.by_layer[0].flops, fc_flops);
    EXPECT_DOUBLE_EQ(c.by_layer[0].bytes, fc_bytes);
    const double fc_s = std::max(fc_flops / 1e12, fc_bytes / 1e9);
    EXPECT_DOUBLE_EQ(c.by_layer[0].latency_s, fc_s);
    EXPECT_TRUE(c.by_layer[0].memory_bound);  // 1 FLOP per byte at most, ridge at 1000
    const double gelu_s = std::max(800 * b / 1e12, 1600 * b * 2 / 1e9);
    EXPECT_DOUBLE_EQ(c.by_layer[1].latency_s, gelu_s);
    EXPECT_DOUBLE_EQ(c.latency_s, fc_s + gelu_s);
    EXPECT_DOUBLE_EQ(c.throughput, b / (fc_s + gelu_s));
    EXPECT_DOUBLE_EQ(c.energy_j, 100 * (fc_s + gelu_s) / b);
    EXPECT_DOUBLE_EQ(c.power_w, 100);
  }
  // Compute-bound once the bandwidth is huge: 2 x MACs / peak.
  cost::GpuSpec fast_memory = gpu;
  fast_memory.memory_bandwidth = 1e18;
  cost::GpuCost c = cost::estimate_gpu(one_linear_layer(), fast_memory, 1);
  EXPECT_DOUBLE_EQ(c.by_layer[0].latency_s, 2.0 * 4 * 200 * 256 / 1e12);
  EXPECT_FALSE(c.by_layer[0].memory_bound);
}

// Launches every 5 us, kernels of at least 2 us: the fc (0.4 MFLOP on 1 PFLOP/s, fast memory:
// 0.4 ns of roofline) takes 2 us once launched at 5 us; the gelu is launched at 10 us,
// after the fc is done at 7 us, so the GPU idles 3 us and the batch ends at 12 us.
TEST(GpuBaseline, LaunchOverheadAndMinimumKernelTime) {
  cost::GpuSpec gpu = cost::parse_gpu_spec(
      "peak_flops: 1e15\nmemory_bandwidth: 1e15\ntdp: 100\nlaunch_overhead: 5e-6\n"
      "min_kernel_time: 2e-6\n",
      "toy.yaml");
  cost::GpuCost c = cost::estimate_gpu(one_linear_layer(), gpu, 1);
  ASSERT_EQ(c.by_layer.size(), 2u);
  EXPECT_DOUBLE_EQ(c.by_layer[0].kernel_s, 2e-6);
  EXPECT_TRUE(c.by_layer[0].launch_bound);
  EXPECT_NEAR(c.by_layer[0].latency_s, 7e-6, 1e-18);  // 5 us waiting for the launch + 2 us
  EXPECT_NEAR(c.by_layer[1].latency_s, 5e-6, 1e-18);  // 3 us idle + 2 us
  EXPECT_NEAR(c.latency_s, 12e-6, 1e-18);
  // A batch large enough to be bound by the roofline: the launches hide behind the kernels,
  // and the latency is the first launch plus the kernels.
  const int64_t batch = 1'000'000;
  cost::GpuCost big = cost::estimate_gpu(one_linear_layer(), gpu, batch);
  EXPECT_FALSE(big.by_layer[1].launch_bound);
  EXPECT_NEAR(big.latency_s, 5e-6 + big.by_layer[0].kernel_s + big.by_layer[1].kernel_s,
              1e-12 * big.latency_s);
  // TDP (100 W) while the 4 us of kernels run; without idle_power the 8 us of waits too.
  EXPECT_NEAR(c.energy_j, 100 * 12e-6, 1e-15);
  cost::GpuSpec idle = gpu;
  idle.idle_power = 10;
  EXPECT_NEAR(cost::estimate_gpu(one_linear_layer(), idle, 1).energy_j, 100 * 4e-6 + 10 * 8e-6,
              1e-15);
}

void expect_bad_input(const std::string& text, const std::string& needle) {
  try {
    cost::parse_gpu_spec(text, "gpu.yaml");
    FAIL() << "expected a bad-input error naming " << needle;
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kBadInput);
    std::string message = error.what();
    EXPECT_NE(message.find("gpu.yaml"), std::string::npos) << message;
    EXPECT_NE(message.find(needle), std::string::npos) << message;
  }
}

TEST(GpuBaseline, BadFilesNameTheKey) {
  expect_bad_input(spec_text("peak_flop: 3\n"), "peak_flop");
  expect_bad_input("name: x\nmemory_bandwidth: 1e9\ntdp: 1\n", "peak_flops");
  expect_bad_input("peak_flops: -1\nmemory_bandwidth: 1e9\ntdp: 1\n", "peak_flops");
  expect_bad_input("peak_flops: 1e12\nmemory_bandwidth: fast\ntdp: 1\n", "memory_bandwidth");
  expect_bad_input("peak_flops: 1e12\nmemory_bandwidth: 1e9\ntdp: [1]\n", "tdp");
  expect_bad_input("- 1\n", "mapping");
  expect_bad_input(spec_text("launch_overhead: -1e-6\n"), "launch_overhead");
  expect_bad_input(spec_text("min_kernel_time: soon\n"), "min_kernel_time");
  EXPECT_THROW(cost::load_gpu_spec(kSource + "/presets/no-such-gpu.yaml"), Error);
}

TEST(GpuBaseline, BundledPresetIsTheBuiltInGpu) {
  cost::GpuSpec file = cost::load_gpu_spec(kSource + "/presets/gpu-a100.yaml");
  cost::GpuSpec built_in = cost::bundled_gpu();
  EXPECT_EQ(file.name, built_in.name);
  EXPECT_EQ(file.peak_flops, built_in.peak_flops);
  EXPECT_EQ(file.memory_bandwidth, built_in.memory_bandwidth);
  EXPECT_EQ(file.tdp, built_in.tdp);
  EXPECT_EQ(file.bytes_per_element, built_in.bytes_per_element);
  EXPECT_EQ(file.launch_overhead, built_in.launch_overhead);
  EXPECT_EQ(file.min_kernel_time, built_in.min_kernel_time);
  EXPECT_EQ(file.idle_power, built_in.idle_power);
}

}  // namespace
}  // namespace aimc
