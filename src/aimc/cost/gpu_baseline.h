// A GPU baseline for `aimc estimate --baseline`: the roofline of a GPU described by its
// datasheet's peak FLOP/s, memory bandwidth and TDP (presets/gpu-*.yaml), over the same layers
// the mapping counts (docs/cost-model.md §7). Every layer is one kernel that runs alone on the
// whole GPU, one after the other: it takes max(min_kernel_time, FLOPs / peak, bytes /
// bandwidth), and cannot start before the host has launched it (one launch every
// launch_overhead, asynchronous); energy = TDP x time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aimc/compiler/mapping.h"

namespace aimc::cost {

struct GpuSpec {
  std::string name;              // `name:` in the file, else the file's stem
  std::string source;            // the file it came from ("" for the built-in one)
  double peak_flops = 0;         // FLOP/s at the precision of bytes_per_element
  double memory_bandwidth = 0;   // B/s
  double tdp = 0;                // W, drawn while a kernel runs (ASSUMPTION: an upper bound)
  double idle_power = -1;        // W, drawn while it waits for a launch; < 0: the TDP
  double bytes_per_element = 2;  // weights and activations
  // s per kernel launch on the host (the launches of a batch's kernels queue up ahead of the
  // GPU), and the shortest time a kernel runs; docs/cost-model.md §7 cites the defaults.
  double launch_overhead = kDefaultLaunchOverhead;
  double min_kernel_time = kDefaultMinKernelTime;

  static constexpr double kDefaultLaunchOverhead = 5.0e-6;
  static constexpr double kDefaultMinKernelTime = 2.0e-6;
};

// The built-in baseline (`--baseline gpu`): the NVIDIA A100 80GB SXM of presets/gpu-a100.yaml.
GpuSpec bundled_gpu();

// Reads and validates a GPU file: keys name, peak_flops, memory_bandwidth, tdp (required,
// > 0), bytes_per_element (default 2, > 0), launch_overhead and min_kernel_time (seconds,
// >= 0, defaults above; 0 and 0 give the plain roofline), idle_power (W, >= 0, default the
// TDP). Error(kBadInput) names the file and the key
// at fault (an unknown key with the valid ones).
GpuSpec load_gpu_spec(const std::string& path);
GpuSpec parse_gpu_spec(const std::string& yaml_text, const std::string& source);

struct GpuLayerCost {
  std::string node;
  double flops = 0;      // for the batch
  double bytes = 0;      // for the batch: weights once, activations per inference
  double kernel_s = 0;   // on the GPU: max(min_kernel_time, roofline)
  double latency_s = 0;  // what it adds to the batch's latency (its kernel, or the launch wait)
  bool memory_bound = false;
  bool launch_bound = false;  // the GPU waited for this kernel's launch
};

struct GpuCost {
  std::string gpu;
  int64_t batch = 1;
  double latency_s = 0;   // the batch through every layer
  double throughput = 0;  // inferences per second: batch / latency
  // Per inference: (TDP x the kernels' time + idle_power x the time waiting for launches) /
  // batch.
  double energy_j = 0;
  double power_w = 0;  // mean: energy x batch / latency
  std::vector<GpuLayerCost> by_layer;
};

GpuCost estimate_gpu(const compiler::Mapping& mapping, const GpuSpec& gpu, int64_t batch);

}  // namespace aimc::cost
