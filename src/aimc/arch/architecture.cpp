// Architecture YAML: parsing, validation, overrides, schema listing and printing. The schema
// (every key, its type, default, unit, range and meaning) is one table, kKeys, which drives
// the unknown-key check, the suggestions and `aimc arch --describe`; the model slots come
// from model_registry.
#include "aimc/arch/architecture.h"

#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "aimc/arch/model_registry.h"
#include "aimc/core/error.h"

namespace aimc::arch {

namespace {

struct KeyDoc {
  std::string path;
  std::string type;
  std::string default_text;
  std::string unit;
  std::string range;
  std::string description;
};

const std::vector<std::string> kDeviceSlots = {"programming", "drift", "read",
                                               "output",      "stuck", "ir_drop"};
const std::vector<std::string> kCrossbarKinds = {"linear", "conv"};
const std::vector<std::string> kAcamKinds = {
    "gelu", "softmax", "layer_norm", "tanh", "sigmoid", "silu", "exp", "log", "reciprocal", "sqrt"};

const std::vector<KeyDoc>& key_docs() {
  static const std::vector<KeyDoc> docs = {
      {"name", "string", "file stem", "", "", "name of the architecture"},
      {"array.rows", "int", "128", "", "[1, 65536]", "rows (inputs) per crossbar array"},
      {"array.cols", "int", "128", "", "[1, 65536]", "columns (outputs) per crossbar array"},
      {"array.cell_bits", "int", "2", "bit", "[1, 8]", "bits stored per cell"},
      {"array.g_min", "float", "1e-06", "S", ">= 0", "conductance of level 0"},
      {"array.g_max", "float", "0.0001", "S", "> g_min", "conductance of the top level"},
      {"input.in_bits", "int", "8", "bit", "[2, 16]", "input precision, sign included"},
      {"input.dac_bits", "int", "1", "bit", "[1, in_bits-1]", "bits applied per DAC step"},
      {"input.range", "enum", "dynamic", "", "dynamic | static",
       "input scale per vector (dynamic) or one per layer from calibration (static)"},
      {"input.percentile", "float", "100", "%", "(0, 100]",
       "static range: percentile of |x| over the calibration set"},
      {"weights.w_bits", "int", "8", "bit", "[2, 16]", "weight precision, sign included"},
      {"weights.scale", "enum", "per_column", "", "per_column | per_tensor",
       "one weight scale per output column or one per layer"},
      {"adc.model", "model", "uniform", "", "uniform | ideal", "ADC model"},
      {"adc.bits", "int", "8", "bit", "[1, 24]", "ADC resolution, sign included"},
      {"adc.range", "enum", "full", "", "full | calibrated",
       "full: keep the top bits of the exact sum; calibrated: from the calibration reads"},
      {"adc.percentile", "float", "99.99", "%", "(0, 100]",
       "calibrated range: percentile of |I| over the calibration reads"},
      {"device.programming.model", "model", "none", "", "", "programming noise model"},
      {"device.drift.model", "model", "none", "", "", "conductance drift model"},
      {"device.drift.compensation", "enum", "none", "", "none | global | per_column",
       "digital drift compensation"},
      {"device.read.model", "model", "none", "", "", "read noise model"},
      {"device.output.model", "model", "none", "", "", "output (pre-ADC) noise model"},
      {"device.stuck.model", "model", "none", "", "", "stuck-cell model"},
      {"device.ir_drop.model", "model", "none", "", "", "IR drop model"},
      {"acam.in_bits", "int", "8", "bit", "[1, 16]", "input codes of an ACAM function unit"},
      {"acam.out_bits", "int", "8", "bit", "[1, 16]", "output codes of an ACAM function unit"},
      {"acam.encoding", "enum", "gray", "", "gray | binary", "output code encoding"},
      {"acam.threshold_sigma", "float", "0", "fraction of input range", ">= 0",
       "threshold noise per chip instance"},
      {"acam.input_sigma", "float", "0", "fraction of input range", ">= 0",
       "input noise per search"},
      {"acam_array.rows", "int", "256", "", "[1, 65536]", "rows (tree paths) per tree ACAM array"},
      {"acam_array.cols", "int", "128", "", "[1, 65536]", "columns (features) per tree ACAM array"},
      {"acam_array.cell_bits", "int", "4", "bit", "[1, 16]", "bits per ACAM cell"},
      {"acam_array.search_cycles", "int", "4", "cycle", "[1, 1000000]", "cycles per search"},
      {"acam_array.clock_hz", "float", "1e+09", "Hz", "> 0", "ACAM clock"},
      {"acam_array.g_min", "float", "1e-06", "S", ">= 0", "conductance of level 0"},
      {"acam_array.g_max", "float", "0.0001", "S", ">= 0", "conductance of the top level"},
      {"acam_array.g_hrs", "float", "1e-08", "S", ">= 0",
       "high-resistance state (don't-care low bound)"},
      {"acam_array.g_lrs", "float", "0.00011", "S", ">= 0",
       "low-resistance state (don't-care high bound)"},
      {"acam_array.v_ml", "float", "0.6", "V", ">= 0", "match-line precharge voltage"},
      {"acam_array.v_ns", "float", "0", "V", ">= 0", "match-line voltage after a mismatch"},
      {"acam_array.v_sl", "float", "0.8", "V", ">= 0", "source-line voltage"},
      {"acam_array.v_dd", "float", "0.5", "V", ">= 0", "data-line voltage"},
      {"acam_array.v_th", "float", "0.36", "V", ">= 0", "transistor threshold voltage"},
      {"acam_array.c_ml", "float", "1.9e-15", "F", ">= 0", "match-line capacitance per cell"},
      {"acam_array.c_pre", "float", "4.095e-14", "F", ">= 0", "precharge capacitance per row"},
      {"acam_array.c_mlso", "float", "5e-14", "F", ">= 0",
       "match-line sense-out capacitance per row"},
      {"acam_array.c_dl", "float", "3.24e-16", "F", ">= 0", "data-line capacitance per cell"},
      {"acam_array.r_w", "float", "9.5625", "ohm", ">= 0", "wire resistance per cell"},
      {"acam_array.k1", "float", "0.0001", "A/V^2", ">= 0",
       "transistor gain factor (caps a cell's current)"},
      {"acam_array.p_reg_static", "float", "2.3e-07", "W", ">= 0",
       "static power of a row's output register"},
      {"acam_array.p_reg_dynamic", "float", "8.17e-06", "W", ">= 0",
       "dynamic power of an enabled row's register"},
      {"acam_array.cell_area", "float", "0", "m^2", ">= 0",
       "area per ACAM cell; 0: unknown (no area reported)"},
      {"chip.tiles", "int", "16", "", "[1, 1000000]", "tiles per chip"},
      {"chip.cores_per_tile", "int", "8", "", "[1, 65536]", "cores per tile"},
      {"chip.arrays_per_core", "int", "16", "", "[1, 65536]", "crossbar arrays per core"},
      {"chip.acam_units_per_core", "int", "0", "", "[0, 65536]", "ACAM function units per core"},
      {"chip.adcs_per_array", "float", "1", "", "(0, 65536]",
       "ADCs per crossbar array; below 1: one ADC shared by several arrays"},
      {"chip.clock_hz", "float", "1e+09", "Hz", "> 0", "digital clock (also the network's)"},
      {"chip.network.topology", "enum", "mesh", "", "mesh | ring",
       "tile network: mesh (snake-order grid) or ring"},
      {"chip.network.link_width", "int", "32", "bit/cycle", "[1, 1048576]",
       "bits one link moves per clock cycle"},
      {"chip.buffer.bytes_per_core", "int", "2048", "B", "[1, 2^40]",
       "local buffer of each core; a vector's input + output should fit"},
      {"chip.buffer.width_bits", "int", "256", "bit", "[1, 1048576]", "bits per buffer access"},
      {"components.<name>.energy", "float", "0", "J", ">= 0", "energy per action"},
      {"components.<name>.leakage", "float", "0", "W", ">= 0", "leakage power per instance"},
      {"components.<name>.area", "float", "0", "m^2", ">= 0", "area per instance"},
      {"components.<name>.latency", "float", "0", "s", ">= 0", "latency per action"},
      {"dmmul.mode", "enum", "digital", "", "digital | log_acam | crossbar",
       "how data-dependent products (Q*K^T, A*V) run"},
      {"calibration.samples", "int", "64", "", ">= 1",
       "calibration set: the first N training samples"},
      {"mapping.<kind>", "enum", "digital", "", "see below",
       "where an op kind runs; kinds not listed run digitally"},
  };
  return docs;
}

// The keys allowed directly under `section` ("" for the top level).
std::vector<std::string> child_keys(const std::string& section) {
  std::vector<std::string> keys;
  std::string prefix = section.empty() ? "" : section + ".";
  for (const KeyDoc& doc : key_docs()) {
    if (doc.path.rfind(prefix, 0) != 0 || doc.path.find('<') != std::string::npos) continue;
    std::string rest = doc.path.substr(prefix.size());
    std::string first = rest.substr(0, rest.find('.'));
    if (std::find(keys.begin(), keys.end(), first) == keys.end()) keys.push_back(first);
  }
  if (section.empty()) keys.push_back("mapping");
  if (section.empty()) keys.push_back("components");
  return keys;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string join_path(const std::string& section, const std::string& key) {
  return section.empty() ? key : section + "." + key;
}

// "(did you mean device.programming?)" when a candidate is close, else the list of them.
std::string suggestion(const std::string& section, const std::string& key,
                       const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::string::npos;
  for (const std::string& candidate : candidates) {
    size_t distance = edit_distance(key, candidate);
    if (distance < best_distance) best_distance = distance, best = candidate;
  }
  if (!best.empty() && best_distance <= std::max<size_t>(2, best.size() / 3))
    return fmt::format("(did you mean {}?)", join_path(section, best));
  return fmt::format("(valid keys: {})", join(candidates));
}

std::string format_double(double value) {
  return fmt::format("{}", value);
}

const char* node_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "nothing";
    default:
      return "a scalar";
  }
}

// Reads one YAML tree into an Architecture; every error names source and key path.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& message) const {
    throw_bad_input("{}: {}: {}", source_, path, message);
  }

  // Rejects keys of `node` (a mapping at `section`) that are not in `allowed`.
  void check_keys(const YAML::Node& node, const std::string& section,
                  const std::vector<std::string>& allowed) const {
    for (const auto& entry : node) {
      std::string key = key_text(entry.first, section);
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        fail(join_path(section, key), "unknown key " + suggestion(section, key, allowed));
    }
  }

  std::string key_text(const YAML::Node& key, const std::string& section) const {
    if (!key.IsScalar()) fail(section.empty() ? "(top level)" : section, "keys must be scalars");
    return key.Scalar();
  }

  // The mapping at `path`, or an undefined node when absent or null.
  YAML::Node section(const YAML::Node& parent, const std::string& key,
                     const std::string& path) const {
    YAML::Node node = parent[key];
    if (!node || node.IsNull()) return YAML::Node(YAML::NodeType::Undefined);
    if (!node.IsMap()) fail(path, fmt::format("expected a mapping, got {}", node_kind(node)));
    return node;
  }

  std::string scalar(const YAML::Node& node, const std::string& path, const char* what) const {
    if (!node.IsScalar()) fail(path, fmt::format("expected {}, got {}", what, node_kind(node)));
    return node.Scalar();
  }

  int64_t read_int(const YAML::Node& node, const std::string& path, int64_t min,
                   int64_t max) const {
    std::string text = scalar(node, path, "an integer");
    const char* begin = text.data() + (text.size() > 1 && text[0] == '+' ? 1 : 0);
    const char* end = text.data() + text.size();
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec == std::errc::result_out_of_range ||
        (ec == std::errc() && ptr == end && (value < min || value > max)))
      fail(path, fmt::format("{} is out of range [{}, {}]", text, min, max));
    if (ec != std::errc() || ptr != end || begin == end)
      fail(path, fmt::format("expected an integer, got \"{}\"", text));
    return value;
  }

  int read_small_int(const YAML::Node& node, const std::string& path, int min, int max) const {
    return static_cast<int>(read_int(node, path, min, max));
  }

  double read_double(const YAML::Node& node, const std::string& path) const {
    std::string text = scalar(node, path, "a number");
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || std::isspace(text[0]))
      fail(path, fmt::format("expected a number, got \"{}\"", text));
    if (!std::isfinite(value))
      fail(path, fmt::format("expected a finite number, got \"{}\"", text));
    return value;
  }

  // A number in the closed range [min, max].
  double read_double(const YAML::Node& node, const std::string& path, double min,
                     double max) const {
    double value = read_double(node, path);
    if (value < min || value > max)
      fail(path, fmt::format("{} is out of range [{}, {}]", node.Scalar(), format_double(min),
                             format_double(max)));
    return value;
  }

  double read_percentile(const YAML::Node& node, const std::string& path) const {
    double value = read_double(node, path);
    if (!(value > 0.0 && value <= 100.0))
      fail(path, fmt::format("{} is out of range (0, 100]", node.Scalar()));
    return value;
  }

  template <typename Enum>
  Enum read_enum(const YAML::Node& node, const std::string& path,
                 const std::vector<std::pair<std::string, Enum>>& names) const {
    std::string text = scalar(node, path, "a name");
    std::vector<std::string> valid;
    for (const auto& [name, value] : names) {
      if (name == text) return value;
      valid.push_back(name);
    }
    std::string message =
        fmt::format("unknown value \"{}\" (expected one of: {})", text, join(valid));
    std::string close = suggestion("", text, valid);
    if (close.rfind("(did", 0) == 0) message += " " + close;
    fail(path, message);
  }

  // A model slot: `{model: NAME, param: value, ...}` or the bare model name. `extra_keys` are
  // keys the caller reads itself (drift's `compensation`).
  ModelConfig read_model(const YAML::Node& node, const std::string& path, const std::string& slot,
                         const std::string& default_model,
                         const std::vector<std::string>& extra_keys = {}) const {
    ModelConfig config;
    config.model = default_model;
    if (node && !node.IsNull()) {
      if (node.IsScalar()) {
        config.model = node.Scalar();
      } else if (!node.IsMap()) {
        fail(path, fmt::format("expected a mapping or a model name, got {}", node_kind(node)));
      } else if (node["model"]) {
        config.model = scalar(node["model"], path + ".model", "a model name");
      }
    }
    std::vector<std::string> names = model_names(slot);
    if (std::find(names.begin(), names.end(), config.model) == names.end())
      fail(path + ".model",
           fmt::format("unknown model \"{}\" ({} models: {})", config.model, slot, join(names)));
    const ModelSpec* spec = find_model_spec(slot, config.model);
    std::vector<std::string> declared;
    if (spec) {
      for (const ParamSpec& param : spec->params) {
        config.params[param.name] = param.default_value;
        declared.push_back(param.name);
      }
      if (spec->has_coefficients) {
        config.coefficients = default_coefficients(slot, config.model);
        declared.push_back("coefficients");
      }
    }
    if (!node || !node.IsMap()) return config;

    for (const auto& entry : node) {
      std::string key = key_text(entry.first, path);
      std::string key_path = path + "." + key;
      if (key == "model" ||
          std::find(extra_keys.begin(), extra_keys.end(), key) != extra_keys.end())
        continue;
      if (std::find(declared.begin(), declared.end(), key) == declared.end()) {
        std::string message =
            fmt::format("not a parameter of model \"{}\" ({})", config.model,
                        declared.empty() ? "it takes none" : "its parameters: " + join(declared));
        std::string close = suggestion(path, key, declared);
        if (!declared.empty() && close.rfind("(did", 0) == 0) message += " " + close;
        fail(key_path, message);
      }
      if (key == "coefficients") {
        config.coefficients = read_list(entry.second, key_path);
        continue;
      }
      for (const ParamSpec& param : spec->params)
        if (param.name == key)
          config.params[key] = read_double(entry.second, key_path, param.min, param.max);
    }
    return config;
  }

  std::vector<double> read_list(const YAML::Node& node, const std::string& path) const {
    if (!node.IsSequence() || node.size() == 0)
      fail(path, fmt::format("expected a non-empty list of numbers, got {}", node_kind(node)));
    std::vector<double> values;
    for (size_t i = 0; i < node.size(); ++i)
      values.push_back(read_double(node[i], fmt::format("{}[{}]", path, i)));
    return values;
  }

 private:
  std::string source_;
};

const std::vector<std::pair<std::string, InputRange>> kInputRanges = {
    {"dynamic", InputRange::kDynamic}, {"static", InputRange::kStatic}};
const std::vector<std::pair<std::string, WeightScale>> kWeightScales = {
    {"per_column", WeightScale::kPerColumn}, {"per_tensor", WeightScale::kPerTensor}};
const std::vector<std::pair<std::string, AdcRange>> kAdcRanges = {
    {"full", AdcRange::kFull}, {"calibrated", AdcRange::kCalibrated}};
const std::vector<std::pair<std::string, DriftCompensation>> kCompensations = {
    {"none", DriftCompensation::kNone},
    {"global", DriftCompensation::kGlobal},
    {"per_column", DriftCompensation::kPerColumn}};
const std::vector<std::pair<std::string, AcamEncoding>> kEncodings = {
    {"gray", AcamEncoding::kGray}, {"binary", AcamEncoding::kBinary}};
const std::vector<std::pair<std::string, NetworkTopology>> kTopologies = {
    {"mesh", NetworkTopology::kMesh}, {"ring", NetworkTopology::kRing}};
const std::vector<std::pair<std::string, DmmulMode>> kDmmulModes = {
    {"digital", DmmulMode::kDigital},
    {"log_acam", DmmulMode::kLogAcam},
    {"crossbar", DmmulMode::kCrossbar}};

template <typename Enum>
std::string enum_name(Enum value, const std::vector<std::pair<std::string, Enum>>& names) {
  for (const auto& [name, candidate] : names)
    if (candidate == value) return name;
  AIMC_ASSERT(false, "enum value {} has no name", static_cast<int>(value));
}

std::string placement_name(Placement placement) {
  switch (placement) {
    case Placement::kCrossbar:
      return "crossbar";
    case Placement::kAcam:
      return "acam";
    case Placement::kDigital:
      return "digital";
  }
  AIMC_ASSERT(false, "unknown placement {}", static_cast<int>(placement));
}

std::vector<std::string> mapping_kinds() {
  std::vector<std::string> kinds = kCrossbarKinds;
  kinds.insert(kinds.end(), kAcamKinds.begin(), kAcamKinds.end());
  kinds.push_back("matmul");
  return kinds;
}

std::vector<std::pair<std::string, Placement>> allowed_placements(const std::string& kind) {
  bool crossbar =
      std::find(kCrossbarKinds.begin(), kCrossbarKinds.end(), kind) != kCrossbarKinds.end();
  if (crossbar) return {{"crossbar", Placement::kCrossbar}, {"digital", Placement::kDigital}};
  return {{"acam", Placement::kAcam}, {"digital", Placement::kDigital}};
}

// Sets `path` ("a.b.c") to `value` in `root`, creating missing sections.
void apply_override(YAML::Node& root, const std::string& spec) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos) throw_bad_input("--set {}: expected key.path=value", spec);
  std::string path = spec.substr(0, eq);
  std::string value_text = spec.substr(eq + 1);
  std::vector<std::string> keys;
  std::stringstream stream(path);
  for (std::string key; std::getline(stream, key, '.');) keys.push_back(key);
  if (keys.empty() || path.back() == '.' ||
      std::any_of(keys.begin(), keys.end(), [](const std::string& k) { return k.empty(); }))
    throw_bad_input("--set {}: expected key.path=value (empty key in \"{}\")", spec, path);
  YAML::Node value;
  try {
    value = YAML::Load(value_text);
  } catch (const YAML::Exception& error) {
    throw_bad_input("--set {}: cannot parse the value: {}", spec, error.msg);
  }
  if (!value || value.IsNull() || value.IsMap())
    throw_bad_input("--set {}: expected a scalar or a [list] after '='", spec);

  if (!root.IsMap()) root = YAML::Node(YAML::NodeType::Map);
  YAML::Node node = root;
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    YAML::Node child = node[keys[i]];
    if (!child || child.IsNull()) {
      child = YAML::Node(YAML::NodeType::Map);
      node[keys[i]] = child;
      child.reset(node[keys[i]]);
    } else if (child.IsScalar() && i == 1 && keys[0] == "device") {
      // A model slot written as a bare name (`read: constant`): expand it to a mapping.
      YAML::Node expanded(YAML::NodeType::Map);
      expanded["model"] = child.Scalar();
      node[keys[i]] = expanded;
      child.reset(node[keys[i]]);
    } else if (!child.IsMap()) {
      throw_bad_input("--set {}: {} is not a section", spec,
                      fmt::format("{}", fmt::join(keys.begin(), keys.begin() + i + 1, ".")));
    }
    node.reset(child);
  }
  node[keys.back()] = value;
}

Architecture read_architecture(const YAML::Node& root, const std::string& source) {
  Reader reader(source);
  Architecture arch;
  for (const std::string& name : component_names()) arch.components[name] = ComponentCost{};
  arch.adc.model = reader.read_model(YAML::Node(), "adc", "adc", "uniform");
  if (!root || root.IsNull()) return arch;
  if (!root.IsMap())
    throw_bad_input("{}: expected a mapping of sections at the top level, got {}", source,
                    node_kind(root));
  reader.check_keys(root, "", child_keys(""));

  if (root["name"]) arch.name = reader.scalar(root["name"], "name", "a string");

  if (YAML::Node array = reader.section(root, "array", "array")) {
    reader.check_keys(array, "array", child_keys("array"));
    if (array["rows"])
      arch.array.rows = reader.read_small_int(array["rows"], "array.rows", 1, 65536);
    if (array["cols"])
      arch.array.cols = reader.read_small_int(array["cols"], "array.cols", 1, 65536);
    if (array["cell_bits"])
      arch.array.cell_bits = reader.read_small_int(array["cell_bits"], "array.cell_bits", 1, 8);
    if (array["g_min"]) {
      arch.array.g_min = reader.read_double(array["g_min"], "array.g_min");
      if (arch.array.g_min < 0.0)
        reader.fail("array.g_min", fmt::format("{} must be >= 0", array["g_min"].Scalar()));
    }
    if (array["g_max"]) arch.array.g_max = reader.read_double(array["g_max"], "array.g_max");
  }
  if (!(arch.array.g_max > arch.array.g_min))
    reader.fail("array.g_max",
                fmt::format("{} must be greater than array.g_min ({})",
                            format_double(arch.array.g_max), format_double(arch.array.g_min)));

  if (YAML::Node input = reader.section(root, "input", "input")) {
    reader.check_keys(input, "input", child_keys("input"));
    if (input["in_bits"])
      arch.input.in_bits = reader.read_small_int(input["in_bits"], "input.in_bits", 2, 16);
    if (input["dac_bits"])
      arch.input.dac_bits =
          reader.read_small_int(input["dac_bits"], "input.dac_bits", 1, arch.input.in_bits - 1);
    if (input["range"])
      arch.input.range = reader.read_enum(input["range"], "input.range", kInputRanges);
    if (input["percentile"])
      arch.input.percentile = reader.read_percentile(input["percentile"], "input.percentile");
  }
  if (arch.input.dac_bits > arch.input.in_bits - 1)
    reader.fail("input.dac_bits", fmt::format("{} is out of range [1, {}] (in_bits - 1)",
                                              arch.input.dac_bits, arch.input.in_bits - 1));

  if (YAML::Node weights = reader.section(root, "weights", "weights")) {
    reader.check_keys(weights, "weights", child_keys("weights"));
    if (weights["w_bits"])
      arch.weights.w_bits = reader.read_small_int(weights["w_bits"], "weights.w_bits", 2, 16);
    if (weights["scale"])
      arch.weights.scale = reader.read_enum(weights["scale"], "weights.scale", kWeightScales);
  }

  YAML::Node adc = reader.section(root, "adc", "adc");
  if (adc) reader.check_keys(adc, "adc", child_keys("adc"));
  {
    // Only `model` belongs to the ADC model; the other adc.* keys are read below.
    YAML::Node model_node(YAML::NodeType::Map);
    if (adc && adc["model"]) model_node["model"] = adc["model"];
    arch.adc.model = reader.read_model(model_node, "adc", "adc", "uniform");
  }
  if (adc) {
    if (adc["bits"]) arch.adc.bits = reader.read_small_int(adc["bits"], "adc.bits", 1, 24);
    if (adc["range"]) arch.adc.range = reader.read_enum(adc["range"], "adc.range", kAdcRanges);
    if (adc["percentile"])
      arch.adc.percentile = reader.read_percentile(adc["percentile"], "adc.percentile");
  }

  if (YAML::Node device = reader.section(root, "device", "device")) {
    reader.check_keys(device, "device", kDeviceSlots);
    DeviceConfig& d = arch.device;
    d.programming = reader.read_model(device["programming"], "device.programming",
                                      "device.programming", "none");
    d.drift = reader.read_model(device["drift"], "device.drift", "device.drift", "none",
                                {"compensation"});
    if (device["drift"] && device["drift"].IsMap() && device["drift"]["compensation"])
      d.drift_compensation = reader.read_enum(device["drift"]["compensation"],
                                              "device.drift.compensation", kCompensations);
    d.read = reader.read_model(device["read"], "device.read", "device.read", "none");
    d.output = reader.read_model(device["output"], "device.output", "device.output", "none");
    d.stuck = reader.read_model(device["stuck"], "device.stuck", "device.stuck", "none");
    d.ir_drop = reader.read_model(device["ir_drop"], "device.ir_drop", "device.ir_drop", "none");
    if (d.drift.enabled() && d.drift.param("t_inference") < d.drift.param("t0"))
      reader.fail("device.drift.t_inference",
                  fmt::format("{} s is earlier than device.drift.t0 ({} s)",
                              format_double(d.drift.param("t_inference")),
                              format_double(d.drift.param("t0"))));
    if (d.stuck.enabled() && d.stuck.param("p_off") + d.stuck.param("p_on") > 1.0)
      reader.fail("device.stuck",
                  fmt::format("p_off + p_on = {} exceeds 1",
                              format_double(d.stuck.param("p_off") + d.stuck.param("p_on"))));
  }

  if (YAML::Node acam = reader.section(root, "acam", "acam")) {
    reader.check_keys(acam, "acam", child_keys("acam"));
    if (acam["in_bits"])
      arch.acam.in_bits = reader.read_small_int(acam["in_bits"], "acam.in_bits", 1, 16);
    if (acam["out_bits"])
      arch.acam.out_bits = reader.read_small_int(acam["out_bits"], "acam.out_bits", 1, 16);
    if (acam["encoding"])
      arch.acam.encoding = reader.read_enum(acam["encoding"], "acam.encoding", kEncodings);
    constexpr double kInf = std::numeric_limits<double>::infinity();
    if (acam["threshold_sigma"])
      arch.acam.threshold_sigma =
          reader.read_double(acam["threshold_sigma"], "acam.threshold_sigma", 0.0, kInf);
    if (acam["input_sigma"])
      arch.acam.input_sigma =
          reader.read_double(acam["input_sigma"], "acam.input_sigma", 0.0, kInf);
  }

  if (YAML::Node acam_array = reader.section(root, "acam_array", "acam_array")) {
    reader.check_keys(acam_array, "acam_array", child_keys("acam_array"));
    AcamArrayConfig& a = arch.acam_array;
    if (acam_array["rows"])
      a.rows = reader.read_small_int(acam_array["rows"], "acam_array.rows", 1, 65536);
    if (acam_array["cols"])
      a.cols = reader.read_small_int(acam_array["cols"], "acam_array.cols", 1, 65536);
    if (acam_array["cell_bits"])
      a.cell_bits = reader.read_small_int(acam_array["cell_bits"], "acam_array.cell_bits", 1, 16);
    if (acam_array["search_cycles"])
      a.search_cycles = reader.read_small_int(acam_array["search_cycles"],
                                              "acam_array.search_cycles", 1, 1000000);
    if (acam_array["clock_hz"]) {
      a.clock_hz = reader.read_double(acam_array["clock_hz"], "acam_array.clock_hz");
      if (!(a.clock_hz > 0.0))
        reader.fail("acam_array.clock_hz",
                    fmt::format("{} must be > 0", acam_array["clock_hz"].Scalar()));
    }
    const std::vector<std::pair<const char*, double AcamArrayConfig::*>> non_negative = {
        {"g_min", &AcamArrayConfig::g_min},
        {"g_max", &AcamArrayConfig::g_max},
        {"g_hrs", &AcamArrayConfig::g_hrs},
        {"g_lrs", &AcamArrayConfig::g_lrs},
        {"v_ml", &AcamArrayConfig::v_ml},
        {"v_ns", &AcamArrayConfig::v_ns},
        {"v_sl", &AcamArrayConfig::v_sl},
        {"v_dd", &AcamArrayConfig::v_dd},
        {"v_th", &AcamArrayConfig::v_th},
        {"c_ml", &AcamArrayConfig::c_ml},
        {"c_pre", &AcamArrayConfig::c_pre},
        {"c_mlso", &AcamArrayConfig::c_mlso},
        {"c_dl", &AcamArrayConfig::c_dl},
        {"r_w", &AcamArrayConfig::r_w},
        {"k1", &AcamArrayConfig::k1},
        {"p_reg_static", &AcamArrayConfig::p_reg_static},
        {"p_reg_dynamic", &AcamArrayConfig::p_reg_dynamic},
        {"cell_area", &AcamArrayConfig::cell_area},
    };
    for (const auto& [key, member] : non_negative) {
      if (acam_array[key])
        a.*member = reader.read_double(acam_array[key], std::string("acam_array.") + key, 0.0,
                                       std::numeric_limits<double>::infinity());
    }
  }
  if (!(arch.acam_array.g_max > arch.acam_array.g_min))
    reader.fail("acam_array.g_max", fmt::format("{} must be greater than acam_array.g_min ({})",
                                                format_double(arch.acam_array.g_max),
                                                format_double(arch.acam_array.g_min)));

  if (YAML::Node chip = reader.section(root, "chip", "chip")) {
    reader.check_keys(chip, "chip", child_keys("chip"));
    ChipConfig& c = arch.chip;
    if (chip["tiles"]) c.tiles = reader.read_int(chip["tiles"], "chip.tiles", 1, 1000000);
    if (chip["cores_per_tile"])
      c.cores_per_tile =
          reader.read_small_int(chip["cores_per_tile"], "chip.cores_per_tile", 1, 65536);
    if (chip["arrays_per_core"])
      c.arrays_per_core =
          reader.read_small_int(chip["arrays_per_core"], "chip.arrays_per_core", 1, 65536);
    if (chip["acam_units_per_core"])
      c.acam_units_per_core =
          reader.read_small_int(chip["acam_units_per_core"], "chip.acam_units_per_core", 0, 65536);
    if (chip["adcs_per_array"]) {
      c.adcs_per_array =
          reader.read_double(chip["adcs_per_array"], "chip.adcs_per_array", 0.0, 65536.0);
      if (!(c.adcs_per_array > 0.0))
        reader.fail("chip.adcs_per_array",
                    fmt::format("{} must be > 0", chip["adcs_per_array"].Scalar()));
    }
    if (chip["clock_hz"]) {
      c.clock_hz = reader.read_double(chip["clock_hz"], "chip.clock_hz");
      if (!(c.clock_hz > 0.0))
        reader.fail("chip.clock_hz", fmt::format("{} must be > 0", chip["clock_hz"].Scalar()));
    }
    if (YAML::Node network = reader.section(chip, "network", "chip.network")) {
      reader.check_keys(network, "chip.network", child_keys("chip.network"));
      if (network["topology"])
        c.network.topology =
            reader.read_enum(network["topology"], "chip.network.topology", kTopologies);
      if (network["link_width"])
        c.network.link_width =
            reader.read_small_int(network["link_width"], "chip.network.link_width", 1, 1 << 20);
    }
    if (YAML::Node buffer = reader.section(chip, "buffer", "chip.buffer")) {
      reader.check_keys(buffer, "chip.buffer", child_keys("chip.buffer"));
      if (buffer["bytes_per_core"])
        c.buffer.bytes_per_core = reader.read_int(
            buffer["bytes_per_core"], "chip.buffer.bytes_per_core", 1, int64_t{1} << 40);
      if (buffer["width_bits"])
        c.buffer.width_bits =
            reader.read_small_int(buffer["width_bits"], "chip.buffer.width_bits", 1, 1 << 20);
    }
  }

  for (const std::string& name : component_names()) arch.components[name] = ComponentCost{};
  if (YAML::Node components = reader.section(root, "components", "components")) {
    reader.check_keys(components, "components", component_names());
    const std::vector<std::string> fields = {"energy", "leakage", "area", "latency"};
    for (const auto& entry : components) {
      std::string name = entry.first.Scalar();
      std::string path = "components." + name;
      YAML::Node component = reader.section(components, name, path);
      if (!component) continue;
      reader.check_keys(component, path, fields);
      ComponentCost& cost = arch.components[name];
      constexpr double kInf = std::numeric_limits<double>::infinity();
      if (component["energy"])
        cost.energy = reader.read_double(component["energy"], path + ".energy", 0.0, kInf);
      if (component["leakage"])
        cost.leakage = reader.read_double(component["leakage"], path + ".leakage", 0.0, kInf);
      if (component["area"])
        cost.area = reader.read_double(component["area"], path + ".area", 0.0, kInf);
      if (component["latency"])
        cost.latency = reader.read_double(component["latency"], path + ".latency", 0.0, kInf);
    }
  }

  if (YAML::Node dmmul = reader.section(root, "dmmul", "dmmul")) {
    reader.check_keys(dmmul, "dmmul", child_keys("dmmul"));
    if (dmmul["mode"]) arch.dmmul = reader.read_enum(dmmul["mode"], "dmmul.mode", kDmmulModes);
  }

  if (YAML::Node calibration = reader.section(root, "calibration", "calibration")) {
    reader.check_keys(calibration, "calibration", child_keys("calibration"));
    if (calibration["samples"])
      arch.calibration_samples = reader.read_int(calibration["samples"], "calibration.samples", 1,
                                                 std::numeric_limits<int64_t>::max());
  }

  if (YAML::Node mapping = reader.section(root, "mapping", "mapping")) {
    std::vector<std::string> kinds = mapping_kinds();
    reader.check_keys(mapping, "mapping", kinds);
    for (const auto& entry : mapping) {
      std::string kind = entry.first.Scalar();
      arch.mapping[kind] =
          reader.read_enum(entry.second, "mapping." + kind, allowed_placements(kind));
    }
  }
  return arch;
}

void emit_model(YAML::Emitter& out, const std::string& key, const ModelConfig& model,
                const std::string* compensation = nullptr) {
  out << YAML::Key << key << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "model" << YAML::Value << model.model;
  for (const auto& [name, value] : model.params)
    out << YAML::Key << name << YAML::Value << format_double(value);
  const ModelSpec* spec = find_model_spec(key == "adc" ? "adc" : "device." + key, model.model);
  if (spec && spec->has_coefficients) {
    out << YAML::Key << "coefficients" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (double c : model.coefficients) out << format_double(c);
    out << YAML::EndSeq;
  }
  if (compensation) out << YAML::Key << "compensation" << YAML::Value << *compensation;
  out << YAML::EndMap;
}

}  // namespace

const std::vector<std::string>& component_names() {
  static const std::vector<std::string> names = {
      "crossbar", "crossbar_write", "dac", "adc", "shift_add", "acam", "buffer", "alu", "router"};
  return names;
}

std::string component_action(const std::string& component) {
  static const std::map<std::string, std::string> actions = {
      {"crossbar", "one read of one array (all its columns)"},
      {"crossbar_write",
       "energy: one cell written; latency: one row written (dmmul.mode crossbar operands)"},
      {"dac", "one row driven for one input step"},
      {"adc", "one conversion"},
      {"shift_add", "one ADC output shifted and accumulated"},
      {"acam", "one search of one ACAM function unit"},
      {"buffer",
       "one access of chip.buffer.width_bits bits (energy: per byte, so an access costs energy x "
       "width_bits / 8)"},
      {"alu", "one digital operation on one element"},
      {"router",
       "energy: one bit over one hop; latency: the router's delay per hop of a transfer"}};
  auto it = actions.find(component);
  AIMC_ASSERT(it != actions.end(), "unknown component \"{}\"", component);
  return it->second;
}

const ComponentCost& Architecture::component(const std::string& name) const {
  auto it = components.find(name);
  AIMC_ASSERT(it != components.end(), "unknown component \"{}\"", name);
  return it->second;
}

double ModelConfig::param(const std::string& name) const {
  auto it = params.find(name);
  AIMC_ASSERT(it != params.end(), "model \"{}\" declares no parameter \"{}\"", model, name);
  return it->second;
}

Placement Architecture::placement(const std::string& kind) const {
  auto it = mapping.find(kind);
  return it == mapping.end() ? Placement::kDigital : it->second;
}

Architecture parse_architecture(const std::string& yaml_text, const std::string& source,
                                const std::vector<std::string>& overrides) {
  std::string where = source.empty() ? "<text>" : source;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& error) {
    throw_bad_input("{}:{}:{}: YAML syntax error: {}", where, error.mark.line + 1,
                    error.mark.column + 1, error.msg);
  } catch (const YAML::Exception& error) {
    throw_bad_input("{}: cannot read YAML: {}", where, error.msg);
  }
  for (const std::string& spec : overrides) apply_override(root, spec);
  Architecture arch;
  try {
    arch = read_architecture(root, where);
  } catch (const YAML::Exception& error) {
    // yaml-cpp conversion errors that slip past the checks still name the file.
    throw_bad_input("{}: invalid YAML: {}", where, error.msg);
  }
  if (arch.name.empty() && !source.empty())
    arch.name = std::filesystem::path(source).stem().string();
  return arch;
}

Architecture load_architecture(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw_bad_input("{}: cannot open the architecture file", path);
  std::stringstream text;
  text << file.rdbuf();
  if (file.bad()) throw_bad_input("{}: cannot read the architecture file", path);
  Architecture arch = parse_architecture(text.str(), path, overrides);
  arch.source = path;
  return arch;
}

std::string describe_schema() {
  std::string out = "Architecture YAML keys (every key is optional):\n\n";
  for (const KeyDoc& doc : key_docs()) {
    std::string range = doc.range;
    if (doc.type == "model" && range.empty()) {
      std::string slot = doc.path.substr(0, doc.path.rfind('.'));
      for (const std::string& name : model_names(slot))
        range += (range.empty() ? "" : " | ") + name;
    }
    std::string line =
        fmt::format("  {:<28} {:<7} default {:<10}", doc.path, doc.type, doc.default_text);
    if (!doc.unit.empty()) line += fmt::format(" [{}]", doc.unit);
    if (!range.empty()) line += fmt::format(" range {}", range);
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n      " + doc.description + "\n";
  }
  out += "\nmapping kinds and where they may run:\n";
  out += fmt::format("  {}: crossbar | digital\n", join(kCrossbarKinds));
  out += fmt::format("  {}: acam | digital\n", join(kAcamKinds));
  out += "  matmul: acam (per dmmul.mode) | digital\n";
  out +=
      "\ncomponents (<name>: the action its energy and latency are per; one instance's "
      "leakage and area):\n";
  for (const std::string& name : component_names())
    out += fmt::format("  {:<14} {}\n", name, component_action(name));
  out += "\nModels (device slots also accept `none`, which takes no parameters):\n";
  std::string slot;
  for (const ModelSpec& spec : model_specs()) {
    if (spec.slot != slot) {
      slot = spec.slot;
      out += fmt::format("\n{}.model: {}\n", slot, join(model_names(slot)));
    }
    out += fmt::format("  {}: {}\n", spec.name, spec.description);
    for (const ParamSpec& param : spec.params)
      out += fmt::format("    {:<12} default {:<8} [{}] range [{}, {}]  {}\n", param.name,
                         format_double(param.default_value), param.unit, format_double(param.min),
                         format_double(param.max), param.description);
    if (spec.has_coefficients) {
      std::vector<std::string> defaults;
      for (double c : default_coefficients(spec.slot, spec.name))
        defaults.push_back(format_double(c));
      out += fmt::format("    coefficients default [{}]  list c_i, fractions of g_max\n",
                         join(defaults));
    }
  }
  return out;
}

std::string to_yaml(const Architecture& arch) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << arch.name;

  out << YAML::Key << "array" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "rows" << YAML::Value << arch.array.rows;
  out << YAML::Key << "cols" << YAML::Value << arch.array.cols;
  out << YAML::Key << "cell_bits" << YAML::Value << arch.array.cell_bits;
  out << YAML::Key << "g_min" << YAML::Value << format_double(arch.array.g_min);
  out << YAML::Key << "g_max" << YAML::Value << format_double(arch.array.g_max);
  out << YAML::EndMap;

  out << YAML::Key << "input" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "in_bits" << YAML::Value << arch.input.in_bits;
  out << YAML::Key << "dac_bits" << YAML::Value << arch.input.dac_bits;
  out << YAML::Key << "range" << YAML::Value << enum_name(arch.input.range, kInputRanges);
  out << YAML::Key << "percentile" << YAML::Value << format_double(arch.input.percentile);
  out << YAML::EndMap;

  out << YAML::Key << "weights" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "w_bits" << YAML::Value << arch.weights.w_bits;
  out << YAML::Key << "scale" << YAML::Value << enum_name(arch.weights.scale, kWeightScales);
  out << YAML::EndMap;

  out << YAML::Key << "adc" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "model" << YAML::Value << arch.adc.model.model;
  out << YAML::Key << "bits" << YAML::Value << arch.adc.bits;
  out << YAML::Key << "range" << YAML::Value << enum_name(arch.adc.range, kAdcRanges);
  out << YAML::Key << "percentile" << YAML::Value << format_double(arch.adc.percentile);
  out << YAML::EndMap;

  out << YAML::Key << "device" << YAML::Value << YAML::BeginMap;
  std::string compensation = enum_name(arch.device.drift_compensation, kCompensations);
  emit_model(out, "programming", arch.device.programming);
  emit_model(out, "drift", arch.device.drift, &compensation);
  emit_model(out, "read", arch.device.read);
  emit_model(out, "output", arch.device.output);
  emit_model(out, "stuck", arch.device.stuck);
  emit_model(out, "ir_drop", arch.device.ir_drop);
  out << YAML::EndMap;

  out << YAML::Key << "acam" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "in_bits" << YAML::Value << arch.acam.in_bits;
  out << YAML::Key << "out_bits" << YAML::Value << arch.acam.out_bits;
  out << YAML::Key << "encoding" << YAML::Value << enum_name(arch.acam.encoding, kEncodings);
  out << YAML::Key << "threshold_sigma" << YAML::Value << format_double(arch.acam.threshold_sigma);
  out << YAML::Key << "input_sigma" << YAML::Value << format_double(arch.acam.input_sigma);
  out << YAML::EndMap;

  out << YAML::Key << "acam_array" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "rows" << YAML::Value << arch.acam_array.rows;
  out << YAML::Key << "cols" << YAML::Value << arch.acam_array.cols;
  out << YAML::Key << "cell_bits" << YAML::Value << arch.acam_array.cell_bits;
  out << YAML::Key << "search_cycles" << YAML::Value << arch.acam_array.search_cycles;
  out << YAML::Key << "clock_hz" << YAML::Value << format_double(arch.acam_array.clock_hz);
  out << YAML::Key << "g_min" << YAML::Value << format_double(arch.acam_array.g_min);
  out << YAML::Key << "g_max" << YAML::Value << format_double(arch.acam_array.g_max);
  out << YAML::Key << "g_hrs" << YAML::Value << format_double(arch.acam_array.g_hrs);
  out << YAML::Key << "g_lrs" << YAML::Value << format_double(arch.acam_array.g_lrs);
  out << YAML::Key << "v_ml" << YAML::Value << format_double(arch.acam_array.v_ml);
  out << YAML::Key << "v_ns" << YAML::Value << format_double(arch.acam_array.v_ns);
  out << YAML::Key << "v_sl" << YAML::Value << format_double(arch.acam_array.v_sl);
  out << YAML::Key << "v_dd" << YAML::Value << format_double(arch.acam_array.v_dd);
  out << YAML::Key << "v_th" << YAML::Value << format_double(arch.acam_array.v_th);
  out << YAML::Key << "c_ml" << YAML::Value << format_double(arch.acam_array.c_ml);
  out << YAML::Key << "c_pre" << YAML::Value << format_double(arch.acam_array.c_pre);
  out << YAML::Key << "c_mlso" << YAML::Value << format_double(arch.acam_array.c_mlso);
  out << YAML::Key << "c_dl" << YAML::Value << format_double(arch.acam_array.c_dl);
  out << YAML::Key << "r_w" << YAML::Value << format_double(arch.acam_array.r_w);
  out << YAML::Key << "k1" << YAML::Value << format_double(arch.acam_array.k1);
  out << YAML::Key << "p_reg_static" << YAML::Value << format_double(arch.acam_array.p_reg_static);
  out << YAML::Key << "p_reg_dynamic" << YAML::Value
      << format_double(arch.acam_array.p_reg_dynamic);
  out << YAML::Key << "cell_area" << YAML::Value << format_double(arch.acam_array.cell_area);
  out << YAML::EndMap;

  out << YAML::Key << "chip" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "tiles" << YAML::Value << arch.chip.tiles;
  out << YAML::Key << "cores_per_tile" << YAML::Value << arch.chip.cores_per_tile;
  out << YAML::Key << "arrays_per_core" << YAML::Value << arch.chip.arrays_per_core;
  out << YAML::Key << "acam_units_per_core" << YAML::Value << arch.chip.acam_units_per_core;
  out << YAML::Key << "adcs_per_array" << YAML::Value << format_double(arch.chip.adcs_per_array);
  out << YAML::Key << "clock_hz" << YAML::Value << format_double(arch.chip.clock_hz);
  out << YAML::Key << "network" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "topology" << YAML::Value
      << enum_name(arch.chip.network.topology, kTopologies);
  out << YAML::Key << "link_width" << YAML::Value << arch.chip.network.link_width;
  out << YAML::EndMap;
  out << YAML::Key << "buffer" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "bytes_per_core" << YAML::Value << arch.chip.buffer.bytes_per_core;
  out << YAML::Key << "width_bits" << YAML::Value << arch.chip.buffer.width_bits;
  out << YAML::EndMap;
  out << YAML::EndMap;

  out << YAML::Key << "components" << YAML::Value << YAML::BeginMap;
  for (const auto& [name, cost] : arch.components) {
    out << YAML::Key << name << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "energy" << YAML::Value << format_double(cost.energy);
    out << YAML::Key << "leakage" << YAML::Value << format_double(cost.leakage);
    out << YAML::Key << "area" << YAML::Value << format_double(cost.area);
    out << YAML::Key << "latency" << YAML::Value << format_double(cost.latency);
    out << YAML::EndMap;
  }
  out << YAML::EndMap;

  out << YAML::Key << "dmmul" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "mode" << YAML::Value << enum_name(arch.dmmul, kDmmulModes);
  out << YAML::EndMap;

  out << YAML::Key << "calibration" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "samples" << YAML::Value << arch.calibration_samples;
  out << YAML::EndMap;

  out << YAML::Key << "mapping" << YAML::Value << YAML::BeginMap;
  for (const auto& [kind, placement] : arch.mapping)
    out << YAML::Key << kind << YAML::Value << placement_name(placement);
  out << YAML::EndMap;

  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace aimc::arch
