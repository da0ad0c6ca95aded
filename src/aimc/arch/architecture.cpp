// Architecture YAML: parsing, validation, overrides, schema listing and printing. The schema
// (every key, its member, type, range, unit and meaning) is one table, schema::key_rows(),
// which drives reading and validation, the unknown-key check and its suggestions, to_yaml and
// `aimc arch --describe`; the model slots come from model_registry.
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
#include "aimc/arch/schema.h"
#include "aimc/core/error.h"

namespace aimc::arch {

namespace {

const std::vector<std::string> kDeviceSlots = {"programming", "drift", "read",
                                               "output",      "stuck", "ir_drop"};
const std::vector<std::string> kCrossbarKinds = {"linear", "conv"};
const std::vector<std::string> kAcamKinds = {
    "gelu", "softmax", "layer_norm", "tanh", "sigmoid", "silu", "exp", "log", "reciprocal", "sqrt"};

// The keys allowed directly under `section` ("" for the top level).
std::vector<std::string> child_keys(const std::string& section) {
  std::vector<std::string> keys;
  std::string prefix = section.empty() ? "" : section + ".";
  for (const schema::KeyRow& row : schema::key_rows()) {
    if (row.path.rfind(prefix, 0) != 0 || row.path.find('<') != std::string::npos) continue;
    std::string rest = row.path.substr(prefix.size());
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
  // `overrides`: key path -> the --set spec that set it, so that its errors name the flag.
  explicit Reader(std::string source, std::map<std::string, std::string> overrides = {})
      : source_(std::move(source)), overrides_(std::move(overrides)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& message) const {
    for (const auto& [key, spec] : overrides_)
      if (path == key || path.rfind(key + ".", 0) == 0 || key.rfind(path + ".", 0) == 0)
        throw_bad_input("--set {}: {}: {}", spec, path, message);
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
  std::map<std::string, std::string> overrides_;
};

// One scalar key of the schema: its type and range from the row, its value into the member.
void read_scalar(const Reader& reader, const schema::KeyRow& row, const YAML::Node& node,
                 Architecture& arch) {
  switch (row.type) {
    case schema::KeyType::kString:
      row.set_name(arch, reader.scalar(node, row.path, "a string"));
      return;
    case schema::KeyType::kInt: {
      int64_t hi = row.int_max();
      if (row.dynamic_max) hi = std::min(hi, row.dynamic_max(arch));
      row.set_int(arch, reader.read_int(node, row.path, static_cast<int64_t>(row.range.lo), hi));
      return;
    }
    case schema::KeyType::kFloat: {
      const double value = reader.read_double(node, row.path);
      if (!row.range.contains(value))
        reader.fail(row.path,
                    fmt::format("{} is out of range {}", node.Scalar(), row.range.text()));
      row.set_float(arch, value);
      return;
    }
    case schema::KeyType::kEnum: {
      std::vector<std::pair<std::string, std::string>> names;
      for (const std::string& name : row.names) names.push_back({name, name});
      row.set_name(arch, reader.read_enum(node, row.path, names));
      return;
    }
    default:
      AIMC_ASSERT(false, "{} is not a scalar key", row.path);
  }
}

template <typename Enum>
std::string enum_name(Enum value, const std::vector<std::pair<std::string, Enum>>& names) {
  for (const auto& [name, candidate] : names)
    if (candidate == value) return name;
  AIMC_ASSERT(false, "enum value {} has no name", static_cast<int>(value));
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

// Every scalar key of the schema that the file sets (sections checked for unknown keys first).
void read_scalar_keys(const Reader& reader, const YAML::Node& root, Architecture& arch) {
  std::set<std::string> checked;
  for (const schema::KeyRow& row : schema::key_rows()) {
    if (!row.scalar()) continue;
    // Walk down to the row's section, checking each section's keys once.
    YAML::Node node = root;
    std::string path;
    std::stringstream sections(row.section());
    for (std::string key; node && std::getline(sections, key, '.');) {
      path = join_path(path, key);
      // reset, not =: assigning a yaml-cpp node would overwrite the node it refers to.
      node.reset(reader.section(node, key, path));
      if (node && checked.insert(path).second) reader.check_keys(node, path, child_keys(path));
    }
    if (!node || !node[row.key()]) continue;
    read_scalar(reader, row, node[row.key()], arch);
  }
}

void read_adc_model(const Reader& reader, const YAML::Node& root, Architecture& arch) {
  // Only `model` belongs to the ADC model; the other adc.* keys are scalar rows.
  YAML::Node adc = reader.section(root, "adc", "adc");
  YAML::Node model_node(YAML::NodeType::Map);
  if (adc && adc["model"]) model_node["model"] = adc["model"];
  arch.adc.model = reader.read_model(model_node, "adc", "adc", "uniform");
}

void read_device(const Reader& reader, const YAML::Node& root, Architecture& arch) {
  YAML::Node device = reader.section(root, "device", "device");
  if (!device) return;
  reader.check_keys(device, "device", kDeviceSlots);
  DeviceConfig& d = arch.device;
  d.programming =
      reader.read_model(device["programming"], "device.programming", "device.programming", "none");
  d.drift =
      reader.read_model(device["drift"], "device.drift", "device.drift", "none", {"compensation"});
  if (device["drift"] && device["drift"].IsMap() && device["drift"]["compensation"])
    d.drift_compensation =
        reader.read_enum(device["drift"]["compensation"], "device.drift.compensation",
                         schema::drift_compensations());
  d.read = reader.read_model(device["read"], "device.read", "device.read", "none", {"mode"});
  if (device["read"] && device["read"].IsMap() && device["read"]["mode"])
    d.read_mode =
        reader.read_enum(device["read"]["mode"], "device.read.mode", schema::read_noise_modes());
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

void read_components(const Reader& reader, const YAML::Node& root, Architecture& arch) {
  for (const std::string& name : component_names()) arch.components[name] = ComponentCost{};
  YAML::Node components = reader.section(root, "components", "components");
  if (!components) return;
  reader.check_keys(components, "components", component_names());
  const std::vector<std::pair<std::string, double ComponentCost::*>> fields = {
      {"energy", &ComponentCost::energy},
      {"leakage", &ComponentCost::leakage},
      {"area", &ComponentCost::area},
      {"latency", &ComponentCost::latency}};
  std::vector<std::string> field_names;
  for (const auto& field : fields) field_names.push_back(field.first);
  for (const auto& entry : components) {
    std::string name = entry.first.Scalar();
    std::string path = "components." + name;
    YAML::Node component = reader.section(components, name, path);
    if (!component) continue;
    std::vector<std::string> keys = field_names;
    if (name == "adc") keys.push_back("bits");
    if (name == "acam_readout") keys.push_back("depth");
    reader.check_keys(component, path, keys);
    ComponentCost& cost = arch.components[name];
    for (const auto& [field, member] : fields)
      if (component[field])
        cost.*member = reader.read_double(component[field], path + "." + field, 0.0,
                                          std::numeric_limits<double>::infinity());
    if (name == "adc" && component["bits"])
      cost.bits = static_cast<int>(reader.read_int(component["bits"], path + ".bits", 0, 24));
    if (name == "acam_readout" && component["depth"])
      cost.depth = static_cast<int>(reader.read_int(component["depth"], path + ".depth", 0, 16));
  }
}

// components.acam_readout.depth: the readout unit's numbers are for trees of that depth. A unit
// holds the rows of its deepest tree (about 2^depth for these monotone or unimodal functions)
// and a search precharges and evaluates all of them (X-TIME's match-line term per row,
// presets/nldpe.yaml), so energy, leakage and area double per level of the deepest
// readout.depth_* above it.
void scale_readout_to_its_depth(Architecture& arch) {
  ComponentCost& readout = arch.components["acam_readout"];
  const int deepest = arch.readout.deepest();
  if (readout.depth == 0 || readout.depth == deepest) return;
  const double scale = std::ldexp(1.0, deepest - readout.depth);
  readout.energy *= scale;
  readout.leakage *= scale;
  readout.area *= scale;
  readout.depth = deepest;  // what the numbers are for now: printing and re-reading agree
}

// components.adc.bits: the ADC's numbers are for that resolution. At a fixed Walden figure of
// merit the energy of a conversion is FOM x 2^bits (R. H. Walden, "Analog-to-digital converter
// survey and analysis", IEEE JSAC 17(4), 1999), so energy, leakage and area double per bit of
// adc.bits above it (the scaling ISAAC's isaac.py applies to its ADC), at the same rate.
void scale_adc_to_its_bits(Architecture& arch) {
  ComponentCost& adc = arch.components["adc"];
  if (adc.bits == 0 || adc.bits == arch.adc.bits) return;
  const double scale = std::ldexp(1.0, arch.adc.bits - adc.bits);
  adc.energy *= scale;
  adc.leakage *= scale;
  adc.area *= scale;
  adc.bits = arch.adc.bits;  // what the numbers are for now: printing and re-reading agree
}

void read_mapping(const Reader& reader, const YAML::Node& root, Architecture& arch) {
  YAML::Node mapping = reader.section(root, "mapping", "mapping");
  if (!mapping) return;
  std::vector<std::string> kinds = mapping_kinds();
  reader.check_keys(mapping, "mapping", kinds);
  for (const auto& entry : mapping) {
    std::string kind = entry.first.Scalar();
    arch.mapping[kind] =
        reader.read_enum(entry.second, "mapping." + kind, allowed_placements(kind));
  }
}

// Constraints between keys, checked once the whole file is read.
void check_cross_keys(const Reader& reader, const Architecture& arch) {
  if (!(arch.array.g_max > arch.array.g_min))
    reader.fail("array.g_max",
                fmt::format("{} must be greater than array.g_min ({})",
                            format_double(arch.array.g_max), format_double(arch.array.g_min)));
  if (arch.input.dac_bits > arch.input.in_bits - 1)
    reader.fail("input.dac_bits", fmt::format("{} is out of range [1, {}] (in_bits - 1)",
                                              arch.input.dac_bits, arch.input.in_bits - 1));
  if (!(arch.acam_array.g_max > arch.acam_array.g_min))
    reader.fail("acam_array.g_max", fmt::format("{} must be greater than acam_array.g_min ({})",
                                                format_double(arch.acam_array.g_max),
                                                format_double(arch.acam_array.g_min)));
  // Crossbar reads are summed in float: the largest read must stay an exact integer.
  if (arch.full_scale() >= kFloatExactLimit)
    reader.fail("array.rows",
                fmt::format("array.rows x (2^input.dac_bits - 1) x (2^array.cell_bits - 1) = {} "
                            "reaches 2^24, so a crossbar read would not be exact in float (lower "
                            "array.rows, input.dac_bits or array.cell_bits)",
                            format_double(arch.full_scale())));
  if (arch.readout.mode == ReadoutMode::kAcam && arch.readout.depth_identity < 1)
    reader.fail("readout.depth_identity",
                "must be >= 1 with readout.mode acam: a crossbar layer that fuses no function is "
                "read through an identity (quantiser) tree of that depth");
  if (arch.readout.mode == ReadoutMode::kAcam && arch.dmmul == DmmulMode::kCrossbar)
    reader.fail("readout.mode",
                "acam does not take dmmul.mode crossbar: products written into arrays per "
                "inference are read through ADCs only (use dmmul.mode log_acam or digital)");
}

Architecture read_architecture(const YAML::Node& root, const std::string& source,
                               const std::vector<std::string>& overrides) {
  std::map<std::string, std::string> overridden;
  for (const std::string& spec : overrides) overridden[spec.substr(0, spec.find('='))] = spec;
  Reader reader(source, overridden);
  Architecture arch;
  for (const std::string& name : component_names()) arch.components[name] = ComponentCost{};
  arch.adc.model = reader.read_model(YAML::Node(), "adc", "adc", "uniform");
  if (!root || root.IsNull()) return arch;
  if (!root.IsMap())
    throw_bad_input("{}: expected a mapping of sections at the top level, got {}", source,
                    node_kind(root));
  reader.check_keys(root, "", child_keys(""));
  read_scalar_keys(reader, root, arch);
  read_adc_model(reader, root, arch);
  read_device(reader, root, arch);
  read_components(reader, root, arch);
  scale_adc_to_its_bits(arch);
  scale_readout_to_its_depth(arch);
  read_mapping(reader, root, arch);
  check_cross_keys(reader, arch);
  return arch;
}

// `extra`: a key of the section that is not a model parameter (drift's compensation, read's
// mode), emitted after the parameters.
void emit_model(YAML::Emitter& out, const std::string& key, const ModelConfig& model,
                const std::pair<std::string, std::string>* extra = nullptr) {
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
  if (extra) out << YAML::Key << extra->first << YAML::Value << extra->second;
  out << YAML::EndMap;
}

}  // namespace

const std::vector<std::string>& component_names() {
  static const std::vector<std::string> names = {
      "crossbar", "crossbar_write", "dac",    "adc", "shift_add",
      "acam",     "acam_readout",   "buffer", "alu", "router"};
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
      {"acam_readout",
       "one search of one output column's readout ACAM (readout.mode acam); leakage and area per "
       "column unit"},
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

const std::vector<ReadoutConfig::Function>& ReadoutConfig::functions() {
  static const std::vector<Function> functions = {
      {"identity", &ReadoutConfig::depth_identity, "identity"},
      {"relu", &ReadoutConfig::depth_relu, "ReLU"},
      {"gelu", &ReadoutConfig::depth_gelu, "GELU"},
      {"silu", &ReadoutConfig::depth_silu, "SiLU"},
      {"sigmoid", &ReadoutConfig::depth_sigmoid, "sigmoid"},
      {"tanh", &ReadoutConfig::depth_tanh, "tanh"}};
  return functions;
}

int ReadoutConfig::depth(const std::string& function) const {
  for (const Function& f : functions())
    if (function == f.name) return this->*f.depth;
  return 0;
}

int ReadoutConfig::deepest() const {
  int deepest = 0;
  for (const Function& f : functions()) deepest = std::max(deepest, this->*f.depth);
  return deepest;
}

AcamConfig ReadoutConfig::unit_config(const std::string& function) const {
  AcamConfig config;
  config.in_bits = depth(function);
  config.out_bits = out_bits;
  config.encoding = encoding;
  config.threshold_sigma = threshold_sigma;
  config.input_sigma = input_sigma;
  return config;
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

Placement Architecture::placement(const std::string& kind) const {
  auto it = mapping.find(kind);
  return it == mapping.end() ? Placement::kDigital : it->second;
}

namespace {

// yaml-cpp keeps the first of two equal keys; a file that sets one twice is a mistake to name.
void reject_duplicate_keys(const YAML::Node& node, const std::string& where,
                           const std::string& path) {
  if (node.IsSequence())
    for (size_t i = 0; i < node.size(); ++i)
      reject_duplicate_keys(node[i], where, fmt::format("{}[{}]", path, i));
  if (!node.IsMap()) return;
  std::set<std::string> seen;
  for (const auto& entry : node) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
    const std::string key_path = path.empty() ? key : path + "." + key;
    if (entry.first.IsScalar() && !seen.insert(key).second)
      throw_bad_input("{}: {}: the key is set twice", where, key_path);
    reject_duplicate_keys(entry.second, where, key_path);
  }
}

}  // namespace

Architecture parse_architecture(const std::string& yaml_text, const std::string& source,
                                const std::vector<std::string>& overrides) {
  std::string where = source.empty() ? "<text>" : source;
  YAML::Node root;
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(yaml_text);
    if (documents.size() > 1)
      throw_bad_input("{}: holds {} YAML documents; an architecture file is one", where,
                      documents.size());
    if (!documents.empty()) root = documents.front();
    reject_duplicate_keys(root, where, "");
  } catch (const YAML::ParserException& error) {
    throw_bad_input("{}:{}:{}: YAML syntax error: {}", where, error.mark.line + 1,
                    error.mark.column + 1, error.msg);
  } catch (const YAML::Exception& error) {
    throw_bad_input("{}: cannot read YAML: {}", where, error.msg);
  }
  for (const std::string& spec : overrides) apply_override(root, spec);
  Architecture arch;
  try {
    arch = read_architecture(root, where, overrides);
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

namespace {

std::string type_name(const schema::KeyRow& row) {
  switch (row.type) {
    case schema::KeyType::kString:
      return "string";
    case schema::KeyType::kInt:
      return "int";
    case schema::KeyType::kEnum:
    case schema::KeyType::kMapping:
      return "enum";
    case schema::KeyType::kModel:
      return "model";
    case schema::KeyType::kFloat:
    case schema::KeyType::kComponent:
      return "float";
  }
  return "?";
}

// The default of a row as text: its member in a default Architecture.
std::string default_text(const schema::KeyRow& row) {
  static const Architecture defaults;
  if (!row.default_text.empty()) return row.default_text;
  switch (row.type) {
    case schema::KeyType::kInt:
      return std::to_string(row.get_int(defaults));
    case schema::KeyType::kFloat:
      return fmt::format("{:g}", row.get_float(defaults));
    case schema::KeyType::kEnum:
    case schema::KeyType::kString:
      return row.get_name(defaults);
    default:
      return "";
  }
}

std::string range_text(const schema::KeyRow& row) {
  if (!row.range_note.empty()) return row.range_note;
  if (row.type == schema::KeyType::kEnum) return fmt::format("{}", fmt::join(row.names, " | "));
  if (row.type == schema::KeyType::kModel)
    return fmt::format("{}", fmt::join(model_names(row.section()), " | "));
  if (row.type == schema::KeyType::kInt)
    return fmt::format("[{}, {}]", static_cast<int64_t>(row.range.lo), row.int_max());
  if (row.type == schema::KeyType::kFloat) return row.range.text();
  return "";
}

std::string describe_models() {
  std::string out = "\nModels (device slots also accept `none`, which takes no parameters):\n";
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

// Opens and closes the YAML maps between the section just written and the next row's.
class SectionWriter {
 public:
  explicit SectionWriter(YAML::Emitter& out) : out_(out) {}
  void enter(const std::string& section) {
    std::vector<std::string> target;
    std::stringstream parts(section);
    for (std::string part; std::getline(parts, part, '.');) target.push_back(part);
    size_t common = 0;
    while (common < open_.size() && common < target.size() && open_[common] == target[common])
      ++common;
    while (open_.size() > common) close();
    for (size_t i = common; i < target.size(); ++i) {
      out_ << YAML::Key << target[i] << YAML::Value;
      open_.push_back(target[i]);
      const std::string path = join_prefix(open_.size());
      if (schema::flow_section(path)) out_ << YAML::Flow;
      out_ << YAML::BeginMap;
    }
  }
  void close_all() {
    while (!open_.empty()) close();
  }

 private:
  void close() {
    out_ << YAML::EndMap;
    open_.pop_back();
  }
  std::string join_prefix(size_t n) const {
    std::string path;
    for (size_t i = 0; i < n; ++i) path += (i ? "." : "") + open_[i];
    return path;
  }
  YAML::Emitter& out_;
  std::vector<std::string> open_;
};

void emit_scalar(YAML::Emitter& out, const schema::KeyRow& row, const Architecture& arch) {
  out << YAML::Key << row.key() << YAML::Value;
  switch (row.type) {
    case schema::KeyType::kString:
      out << YAML::DoubleQuoted << row.get_name(arch);
      break;
    case schema::KeyType::kInt:
      out << row.get_int(arch);
      break;
    case schema::KeyType::kFloat:
      out << format_double(row.get_float(arch));
      break;
    default:
      out << row.get_name(arch);
  }
}

void emit_device(YAML::Emitter& out, const Architecture& arch) {
  out << YAML::Key << "device" << YAML::Value << YAML::BeginMap;
  const std::pair<std::string, std::string> compensation = {
      "compensation", enum_name(arch.device.drift_compensation, schema::drift_compensations())};
  const std::pair<std::string, std::string> mode = {
      "mode", enum_name(arch.device.read_mode, schema::read_noise_modes())};
  emit_model(out, "programming", arch.device.programming);
  emit_model(out, "drift", arch.device.drift, &compensation);
  emit_model(out, "read", arch.device.read, &mode);
  emit_model(out, "output", arch.device.output);
  emit_model(out, "stuck", arch.device.stuck);
  emit_model(out, "ir_drop", arch.device.ir_drop);
  out << YAML::EndMap;
}

void emit_components(YAML::Emitter& out, const Architecture& arch) {
  out << YAML::Key << "components" << YAML::Value << YAML::BeginMap;
  for (const auto& [name, cost] : arch.components) {
    out << YAML::Key << name << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "energy" << YAML::Value << format_double(cost.energy);
    out << YAML::Key << "leakage" << YAML::Value << format_double(cost.leakage);
    out << YAML::Key << "area" << YAML::Value << format_double(cost.area);
    out << YAML::Key << "latency" << YAML::Value << format_double(cost.latency);
    if (cost.bits > 0) out << YAML::Key << "bits" << YAML::Value << cost.bits;
    if (cost.depth > 0) out << YAML::Key << "depth" << YAML::Value << cost.depth;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

void emit_mapping(YAML::Emitter& out, const Architecture& arch) {
  out << YAML::Key << "mapping" << YAML::Value << YAML::BeginMap;
  for (const auto& [kind, placement] : arch.mapping)
    out << YAML::Key << kind << YAML::Value << placement_name(placement);
  out << YAML::EndMap;
}

}  // namespace

std::string describe_schema() {
  std::string out = "Architecture YAML keys (every key is optional):\n\n";
  for (const schema::KeyRow& row : schema::key_rows()) {
    const std::string range = range_text(row);
    std::string line =
        fmt::format("  {:<28} {:<7} default {:<10}", row.path, type_name(row), default_text(row));
    if (!row.unit.empty()) line += fmt::format(" [{}]", row.unit);
    if (!range.empty()) line += fmt::format(" range {}", range);
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n      " + row.description + "\n";
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
  out +=
      "  components.adc.bits: the adc.bits its numbers are for (default 0: any); another "
      "adc.bits doubles energy, leakage and area per bit above it (Walden figure of merit)\n"
      "  components.acam_readout.depth: the readout tree depth its numbers are for (default 0: "
      "any); a deeper readout.depth_* doubles energy, leakage and area per level\n";
  return out + describe_models();
}

std::string to_yaml(const Architecture& arch) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  SectionWriter sections(out);
  std::set<std::string> written;  // sections that a section writer emits whole
  for (const schema::KeyRow& row : schema::key_rows()) {
    const std::string top = row.path.substr(0, row.path.find('.'));
    if (top == "device" || top == "components" || top == "mapping") {
      if (!written.insert(top).second) continue;
      sections.close_all();
      if (top == "device") emit_device(out, arch);
      if (top == "components") emit_components(out, arch);
      if (top == "mapping") emit_mapping(out, arch);
      continue;
    }
    sections.enter(row.section());
    if (row.type == schema::KeyType::kModel) {  // adc.model: the name; its keys are rows
      out << YAML::Key << "model" << YAML::Value << arch.adc.model.model;
      continue;
    }
    emit_scalar(out, row, arch);
  }
  sections.close_all();
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

// ---- Derived quantities ----

int Architecture::weight_slices() const {
  return (weights.w_bits - 1 + array.cell_bits - 1) / array.cell_bits;
}
int Architecture::input_steps() const {
  return (input.in_bits - 1 + input.dac_bits - 1) / input.dac_bits;
}
int64_t Architecture::input_limit() const {
  return (int64_t{1} << (input.in_bits - 1)) - 1;
}
int64_t Architecture::weight_limit() const {
  return (int64_t{1} << (weights.w_bits - 1)) - 1;
}
int Architecture::digit_max() const {
  return (1 << input.dac_bits) - 1;
}
int Architecture::level_max() const {
  return (1 << array.cell_bits) - 1;
}
int64_t Architecture::adc_codes() const {
  return (int64_t{1} << (adc.bits - 1)) - 1;
}
double Architecture::full_scale() const {
  return static_cast<double>(array.rows) * digit_max() * level_max();
}

const std::vector<std::pair<std::string, DmmulMode>>& dmmul_modes() {
  static const std::vector<std::pair<std::string, DmmulMode>> modes = {
      {"digital", DmmulMode::kDigital},
      {"log_acam", DmmulMode::kLogAcam},
      {"crossbar", DmmulMode::kCrossbar}};
  return modes;
}

std::string dmmul_mode_name(DmmulMode mode) {
  return enum_name(mode, dmmul_modes());
}

const std::vector<std::string>& crossbar_mapping_kinds() {
  return kCrossbarKinds;
}
const std::vector<std::string>& acam_mapping_kinds() {
  return kAcamKinds;
}

}  // namespace aimc::arch
