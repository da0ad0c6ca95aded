// The GPU roofline baseline of docs/cost-model.md §7.
#include "aimc/cost/gpu_baseline.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "aimc/core/error.h"

namespace aimc::cost {

namespace {

const std::vector<std::string> kKeys = {"name",
                                        "peak_flops",
                                        "memory_bandwidth",
                                        "tdp",
                                        "bytes_per_element",
                                        "launch_overhead",
                                        "min_kernel_time",
                                        "idle_power"};

// A number > 0 (or >= 0 when `zero_ok`) at `key`, or Error(kBadInput) naming the file and key.
double positive_number(const YAML::Node& node, const std::string& key, const std::string& source,
                       bool zero_ok = false) {
  if (!node.IsScalar()) throw_bad_input("{}: {}: expected a number", source, key);
  const std::string& text = node.Scalar();
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value))
    throw_bad_input("{}: {}: expected a number, got \"{}\"", source, key, text);
  if (zero_ok && !(value >= 0)) throw_bad_input("{}: {}: {} must be >= 0", source, key, text);
  if (!zero_ok && !(value > 0)) throw_bad_input("{}: {}: {} must be > 0", source, key, text);
  return value;
}

}  // namespace

GpuSpec bundled_gpu() {
  GpuSpec gpu;
  gpu.name = "nvidia-a100-80gb-sxm";
  gpu.peak_flops = 312.0e12;  // NVIDIA A100 datasheet: FP16 Tensor Core, dense
  gpu.memory_bandwidth = 2.039e12;
  gpu.tdp = 400;
  gpu.idle_power = 60;  // presets/gpu-a100.yaml: ASSUMPTION
  gpu.bytes_per_element = 2;
  return gpu;
}

GpuSpec parse_gpu_spec(const std::string& yaml_text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw_bad_input("{}: not valid YAML: {}", source, e.what());
  }
  if (!root.IsMap()) throw_bad_input("{}: expected a mapping of GPU keys", source);
  for (const auto& entry : root) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "?";
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end())
      throw_bad_input(
          "{}: {}: unknown key (valid keys: name, peak_flops, memory_bandwidth, tdp, "
          "bytes_per_element, launch_overhead, min_kernel_time, idle_power)",
          source, key);
  }
  GpuSpec gpu;
  gpu.source = source;
  gpu.name = std::filesystem::path(source).stem().string();
  if (root["name"]) {
    if (!root["name"].IsScalar()) throw_bad_input("{}: name: expected a string", source);
    gpu.name = root["name"].Scalar();
  }
  for (const char* key : {"peak_flops", "memory_bandwidth", "tdp"})
    if (!root[key]) throw_bad_input("{}: {}: required key missing", source, key);
  gpu.peak_flops = positive_number(root["peak_flops"], "peak_flops", source);
  gpu.memory_bandwidth = positive_number(root["memory_bandwidth"], "memory_bandwidth", source);
  gpu.tdp = positive_number(root["tdp"], "tdp", source);
  if (root["bytes_per_element"])
    gpu.bytes_per_element = positive_number(root["bytes_per_element"], "bytes_per_element", source);
  for (auto [key, field] : {std::pair{"launch_overhead", &GpuSpec::launch_overhead},
                            std::pair{"min_kernel_time", &GpuSpec::min_kernel_time},
                            std::pair{"idle_power", &GpuSpec::idle_power}})
    if (root[key]) gpu.*field = positive_number(root[key], key, source, true);
  return gpu;
}

GpuSpec load_gpu_spec(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw_bad_input("{}: cannot open the GPU file", path);
  std::stringstream text;
  text << file.rdbuf();
  return parse_gpu_spec(text.str(), path);
}

GpuCost estimate_gpu(const compiler::Mapping& mapping, const GpuSpec& gpu, int64_t batch) {
  if (batch < 1) throw_bad_input("batch: {} must be >= 1", batch);
  GpuCost total;
  total.gpu = gpu.name;
  total.batch = batch;
  const double b = static_cast<double>(batch);
  // The host launches kernel i at (i + 1) x launch_overhead (asynchronously); the GPU runs
  // them in order, each when launched and when the one before it is done.
  double launched = 0, done = 0;
  for (const compiler::LayerMapping& layer : mapping.layers) {
    GpuLayerCost cost;
    cost.node = layer.node;
    // 2 FLOPs per MAC; other ops one per output element (ASSUMPTION: they are memory-bound,
    // so the count hardly matters).
    const double per_inference = layer.macs_per_inference > 0
                                     ? 2.0 * static_cast<double>(layer.macs_per_inference)
                                     : static_cast<double>(layer.output_elements);
    cost.flops = per_inference * b;
    // Weights read once per batch; every activation read or written once (ASSUMPTION: no
    // cache reuse across layers, no fusion).
    const double activations = static_cast<double>(
        layer.input_elements + layer.second_input_elements + layer.output_elements);
    cost.bytes =
        (static_cast<double>(layer.weight_elements) + activations * b) * gpu.bytes_per_element;
    const double compute_s = cost.flops / gpu.peak_flops;
    const double memory_s = cost.bytes / gpu.memory_bandwidth;
    cost.memory_bound = memory_s > compute_s;
    cost.kernel_s = std::max({gpu.min_kernel_time, compute_s, memory_s});
    launched += gpu.launch_overhead;
    cost.launch_bound = launched > done;
    const double start = std::max(launched, done);
    cost.latency_s = (start - done) + cost.kernel_s;
    done = start + cost.kernel_s;
    total.by_layer.push_back(cost);
  }
  total.latency_s = done;
  total.throughput = total.latency_s > 0 ? b / total.latency_s : 0.0;
  double busy_s = 0;
  for (const GpuLayerCost& layer : total.by_layer) busy_s += layer.kernel_s;
  const double idle_w = gpu.idle_power < 0 ? gpu.tdp : gpu.idle_power;
  total.energy_j = (gpu.tdp * busy_s + idle_w * std::max(0.0, total.latency_s - busy_s)) / b;
  total.power_w = total.latency_s > 0 ? total.energy_j * b / total.latency_s : gpu.tdp;
  return total;
}

}  // namespace aimc::cost
