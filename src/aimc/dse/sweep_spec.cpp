#include "aimc/dse/sweep_spec.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "aimc/arch/architecture.h"
#include "aimc/core/error.h"
#include "aimc/core/npy.h"  // read_file_bytes
#include "aimc/core/rng.h"
#include "aimc/data/dataset.h"

namespace aimc::dse {

namespace {

namespace fs = std::filesystem;

// Bumped when a point's result would change for the same inputs (new metrics, new semantics).
constexpr int kResultVersion = 1;

const std::vector<std::string>& top_level_keys() {
  static const std::vector<std::string> keys = {
      "model",   "arch",       "set",   "dataset",    "data_dir",   "limit",
      "trials",  "seed",       "batch", "chips",      "replicate",  "search",
      "samples", "eval_batch", "axes",  "objectives", "constraints"};
  return keys;
}

// Reads scalars with errors that name the sweep file, the key and its line.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& key,
                         const std::string& message) const {
    if (node && node.Mark().line >= 0)
      throw_bad_input("{}:{}: {}: {}", file_, node.Mark().line + 1, key, message);
    throw_bad_input("{}: {}: {}", file_, key, message);
  }

  std::string text(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, key, "expected a string");
    return node.Scalar();
  }

  double number(const YAML::Node& node, const std::string& key) const {
    double value = 0;
    if (!node.IsScalar() || !YAML::convert<double>::decode(node, value) || !std::isfinite(value))
      fail(node, key, fmt::format("expected a finite number, got '{}'", dump(node)));
    return value;
  }

  int64_t integer(const YAML::Node& node, const std::string& key, int64_t min, int64_t max) const {
    long long value = 0;
    if (!node.IsScalar() || !YAML::convert<long long>::decode(node, value))
      fail(node, key, fmt::format("expected an integer, got '{}'", dump(node)));
    if (value < min || value > max)
      fail(node, key, fmt::format("{} is out of range [{}, {}]", value, min, max));
    return value;
  }

  bool boolean(const YAML::Node& node, const std::string& key) const {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value))
      fail(node, key, fmt::format("expected true or false, got '{}'", dump(node)));
    return value;
  }

  static std::string dump(const YAML::Node& node) {
    YAML::Emitter out;
    out << YAML::Flow << node;
    return out.c_str();
  }

 private:
  std::string file_;
};

// A YAML scalar as the JSON value it means: an integer, a number, a boolean or a string.
nlohmann::json scalar_json(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  long long integer = 0;
  double number = 0;
  bool flag = false;
  if (node.Tag() != "!" && YAML::convert<long long>::decode(node, integer)) return integer;
  if (node.Tag() != "!" && YAML::convert<double>::decode(node, number) && std::isfinite(number))
    return number;
  if (node.Tag() != "!" && YAML::convert<bool>::decode(node, flag)) return flag;
  return text;
}

std::string override_value(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

Axis read_axis(const Reader& reader, const std::string& key, const YAML::Node& node, bool random) {
  const std::string where = "axes." + key;
  Axis axis;
  axis.key = key;
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      if (!item.IsScalar()) reader.fail(item, where, "each value must be a scalar");
      axis.values.push_back(scalar_json(item));
    }
  } else if (node.IsMap()) {
    static const std::set<std::string> known = {"from", "to", "steps", "scale", "integer"};
    for (const auto& entry : node)
      if (!known.count(entry.first.Scalar()))
        reader.fail(entry.first, where,
                    fmt::format("unknown key '{}' (a range has from, to, steps, scale, integer)",
                                entry.first.Scalar()));
    if (!node["from"] || !node["to"]) reader.fail(node, where, "a range needs from and to");
    axis.from = reader.number(node["from"], where + ".from");
    axis.to = reader.number(node["to"], where + ".to");
    if (node["scale"]) {
      std::string scale = reader.text(node["scale"], where + ".scale");
      if (scale != "linear" && scale != "log")
        reader.fail(node["scale"], where + ".scale",
                    fmt::format("'{}' is not linear or log", scale));
      axis.log_scale = scale == "log";
    }
    if (axis.log_scale && (axis.from <= 0 || axis.to <= 0))
      reader.fail(node, where, "a log scale needs from and to above 0");
    if (node["integer"]) axis.integer = reader.boolean(node["integer"], where + ".integer");
    if (node["steps"]) {
      const int64_t steps = reader.integer(node["steps"], where + ".steps", 1, 100000);
      for (int64_t i = 0; i < steps; ++i) {
        const double t = steps == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(steps - 1);
        double v =
            axis.log_scale
                ? std::exp(std::log(axis.from) + t * (std::log(axis.to) - std::log(axis.from)))
                : axis.from + t * (axis.to - axis.from);
        if (i == steps - 1 && steps > 1) v = axis.to;  // the end exactly, not a rounding of it
        nlohmann::json value = axis.integer ? nlohmann::json(std::llround(v)) : nlohmann::json(v);
        if (std::find(axis.values.begin(), axis.values.end(), value) == axis.values.end())
          axis.values.push_back(value);
      }
    } else if (random) {
      axis.continuous = true;
    } else {
      reader.fail(node, where, "a grid needs steps for a range (or a list of values)");
    }
  } else {
    reader.fail(node, where, "expected a list of values or a range {from, to, steps}");
  }
  if (!axis.continuous && axis.values.empty()) reader.fail(node, where, "has no values");
  return axis;
}

std::string strip_set_prefix(const std::string& message, const std::string& spec) {
  const std::string prefix = "--set " + spec + ": ";
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

// Every axis value applied alone to the base architecture: an unknown key or a value the
// schema rejects stops the sweep here, before any point runs.
void check_axes(const SweepSpec& spec) {
  try {
    arch::parse_architecture(spec.arch_text, spec.arch, spec.overrides);
  } catch (const Error& e) {
    throw_bad_input("{}: arch {} with set: {}", spec.file, spec.arch, e.what());
  }
  for (const Axis& axis : spec.axes) {
    std::vector<nlohmann::json> probes = axis.values;
    if (axis.continuous) {
      probes = {axis.integer ? nlohmann::json(std::llround(axis.from)) : nlohmann::json(axis.from),
                axis.integer ? nlohmann::json(std::llround(axis.to)) : nlohmann::json(axis.to)};
    }
    for (const nlohmann::json& value : probes) {
      std::vector<std::string> overrides = spec.overrides;
      const std::string set = axis.key + "=" + override_value(value);
      overrides.push_back(set);
      try {
        arch::parse_architecture(spec.arch_text, spec.arch, overrides);
      } catch (const Error& e) {
        throw_bad_input("{}: axes.{}: value {}: {}", spec.file, axis.key, value.dump(),
                        strip_set_prefix(e.what(), set));
      }
    }
  }
}

Goal read_goal(const Reader& reader, const YAML::Node& node, const std::string& where) {
  std::string text = reader.text(node, where);
  if (text == "min" || text == "minimize" || text == "minimise") return Goal::kMin;
  if (text == "max" || text == "maximize" || text == "maximise") return Goal::kMax;
  reader.fail(node, where, fmt::format("'{}' is not min or max", text));
}

std::string known_metrics(const std::vector<std::pair<std::string, Goal>>& metrics) {
  std::string list;
  for (const auto& [name, goal] : metrics) list += (list.empty() ? "" : ", ") + name;
  return list;
}

const std::pair<std::string, Goal>* find_metric(
    const std::vector<std::pair<std::string, Goal>>& metrics, const std::string& name) {
  for (const auto& m : metrics)
    if (m.first == name) return &m;
  return nullptr;
}

void read_objectives(const Reader& reader, const YAML::Node& node, SweepSpec& spec) {
  const auto metrics = metric_names(spec.metric);
  auto add = [&](const YAML::Node& name_node, const YAML::Node* goal_node) {
    const std::string name = reader.text(name_node, "objectives");
    const auto* metric = find_metric(metrics, name);
    if (!metric) {
      const bool needs_data = name.rfind("accuracy", 0) == 0 ||
                              name.rfind("bits_per_char", 0) == 0 || name.rfind("digital.", 0) == 0;
      reader.fail(name_node, "objectives",
                  fmt::format("unknown objective '{}'{} (known: {})", name,
                              needs_data && spec.dataset.empty() ? " without a dataset" : "",
                              known_metrics(metrics)));
    }
    Objective objective{name, metric->second};
    if (goal_node) objective.goal = read_goal(reader, *goal_node, "objectives." + name);
    for (const Objective& o : spec.objectives)
      if (o.metric == name) reader.fail(name_node, "objectives", name + " is listed twice");
    spec.objectives.push_back(objective);
  };
  if (!node.IsSequence() || node.size() == 0)
    reader.fail(node, "objectives", "expected a list such as [accuracy.mean, energy]");
  for (const YAML::Node& item : node) {
    if (item.IsScalar()) {
      add(item, nullptr);
    } else if (item.IsMap() && item.size() == 1) {
      auto entry = *item.begin();
      add(entry.first, &entry.second);
    } else {
      reader.fail(item, "objectives", "each objective is a name or {name: min|max}");
    }
  }
}

void read_constraints(const Reader& reader, const YAML::Node& node, SweepSpec& spec) {
  const auto metrics = metric_names(spec.metric);
  if (!node.IsSequence()) reader.fail(node, "constraints", "expected a list of 'metric >= value'");
  for (const YAML::Node& item : node) {
    const std::string text = reader.text(item, "constraints");
    const std::optional<Constraint> parsed = parse_constraint(text);
    if (!parsed) {
      // Say which part is wrong.
      std::istringstream in(text);
      std::string metric, op, bound, rest;
      in >> metric >> op >> bound;
      if (!in || (in >> rest))
        reader.fail(item, "constraints",
                    fmt::format("'{}' is not 'metric OP number' with OP one of >= <= > <", text));
      if (op != ">=" && op != "<=" && op != ">" && op != "<")
        reader.fail(item, "constraints", fmt::format("'{}': unknown operator '{}'", text, op));
      reader.fail(item, "constraints",
                  fmt::format("'{}': expected a finite number, got '{}'", text, bound));
    }
    const Constraint& c = *parsed;
    if (!find_metric(metrics, c.metric))
      reader.fail(item, "constraints",
                  fmt::format("'{}': unknown metric '{}' (known: {})", text, c.metric,
                              known_metrics(metrics)));
    spec.constraints.push_back(c);
  }
}

}  // namespace

std::string goal_name(Goal goal) {
  return goal == Goal::kMin ? "min" : "max";
}

std::optional<Constraint> parse_constraint(const std::string& text) {
  std::istringstream in(text);
  Constraint c;
  std::string bound, rest;
  in >> c.metric >> c.op >> bound;
  if (!in || (in >> rest)) return std::nullopt;
  if (c.op != ">=" && c.op != "<=" && c.op != ">" && c.op != "<") return std::nullopt;
  double value = 0;
  if (!YAML::convert<double>::decode(YAML::Node(bound), value) || !std::isfinite(value))
    return std::nullopt;
  c.bound = value;
  c.text = text;
  return c;
}

bool Constraint::holds(double value) const {
  if (op == ">=") return value >= bound;
  if (op == "<=") return value <= bound;
  if (op == ">") return value > bound;
  return value < bound;
}

std::vector<std::string> Point::overrides() const {
  std::vector<std::string> out;
  for (const auto& [key, value] : axes.items()) out.push_back(key + "=" + override_value(value));
  return out;
}

std::vector<std::pair<std::string, Goal>> metric_names(const std::string& metric) {
  std::vector<std::pair<std::string, Goal>> names;
  if (!metric.empty()) {
    const Goal better = metric == "accuracy" ? Goal::kMax : Goal::kMin;
    for (const char* stat : {"mean", "min", "max"}) names.push_back({metric + "." + stat, better});
    names.push_back({metric + ".std", Goal::kMin});
    names.push_back({"digital." + metric, better});
  }
  names.insert(names.end(), {{"energy", Goal::kMin},
                             {"dynamic_energy", Goal::kMin},
                             {"leakage_energy", Goal::kMin},
                             {"latency", Goal::kMin},
                             {"throughput", Goal::kMax},
                             {"power", Goal::kMin},
                             {"area", Goal::kMin},
                             {"chips", Goal::kMin}});
  return names;
}

SweepSpec parse_sweep(const std::string& yaml_text, const std::string& path) {
  Reader reader(path);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& error) {
    throw_bad_input("{}:{}:{}: YAML syntax error: {}", path, error.mark.line + 1,
                    error.mark.column + 1, error.msg);
  }
  if (!root.IsMap())
    throw_bad_input("{}: expected a mapping (model, arch, axes, objectives)", path);
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    const auto& keys = top_level_keys();
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      reader.fail(entry.first, key,
                  fmt::format("unknown key (known: {})", fmt::join(top_level_keys(), ", ")));
  }
  for (const char* required : {"model", "arch", "axes", "objectives"})
    if (!root[required]) throw_bad_input("{}: {}: missing (required)", path, required);

  SweepSpec spec;
  spec.file = path;
  const fs::path folder = fs::path(path).parent_path();
  auto resolve = [&](const std::string& p) {
    return fs::path(p).is_absolute() || folder.empty() ? p
                                                       : (folder / p).lexically_normal().string();
  };
  spec.model = resolve(reader.text(root["model"], "model"));
  if (!fs::is_regular_file(spec.model))
    reader.fail(root["model"], "model", fmt::format("{}: no such file", spec.model));
  spec.arch = resolve(reader.text(root["arch"], "arch"));
  try {
    spec.arch_text = read_file_bytes(spec.arch);
  } catch (const Error& e) {
    rethrow_with_context(e, path + ": arch");
  }
  if (const YAML::Node set = root["set"]) {
    if (!set.IsSequence()) reader.fail(set, "set", "expected a list of key.path=value");
    for (const YAML::Node& item : set) {
      std::string text = reader.text(item, "set");
      if (text.find('=') == std::string::npos)
        reader.fail(item, "set", fmt::format("'{}' is not key.path=value", text));
      spec.overrides.push_back(text);
    }
  }
  if (root["dataset"]) spec.dataset = reader.text(root["dataset"], "dataset");
  if (root["data_dir"]) spec.data_dir = resolve(reader.text(root["data_dir"], "data_dir"));
  if (root["limit"]) spec.limit = reader.integer(root["limit"], "limit", 1, int64_t{1} << 40);
  if (root["trials"]) spec.trials = reader.integer(root["trials"], "trials", 1, 100000);
  if (root["seed"]) {
    uint64_t seed = 0;
    if (!YAML::convert<uint64_t>::decode(root["seed"], seed) || root["seed"].Scalar()[0] == '-')
      reader.fail(root["seed"], "seed", "expected an integer in [0, 2^64)");
    spec.seed = seed;
  }
  if (root["eval_batch"])
    spec.eval_batch = reader.integer(root["eval_batch"], "eval_batch", 1, 1 << 20);
  if (root["batch"]) spec.batch = reader.integer(root["batch"], "batch", 1, 1 << 20);
  if (root["chips"]) spec.chips = reader.integer(root["chips"], "chips", 1, 1 << 16);
  if (root["replicate"]) spec.replicate = reader.boolean(root["replicate"], "replicate");
  if (root["search"]) {
    std::string search = reader.text(root["search"], "search");
    if (search != "grid" && search != "random")
      reader.fail(root["search"], "search", fmt::format("'{}' is not grid or random", search));
    spec.random = search == "random";
  }
  if (spec.random) {
    if (!root["samples"]) throw_bad_input("{}: samples: a random search needs samples", path);
    spec.samples = reader.integer(root["samples"], "samples", 1, 1000000);
  } else if (root["samples"]) {
    reader.fail(root["samples"], "samples", "only a random search (search: random) takes samples");
  }
  if (!spec.dataset.empty()) {
    try {
      data::DatasetOptions options;
      options.dir = spec.data_dir;
      spec.metric = data::open_dataset(spec.dataset, options)->metric();
    } catch (const Error& e) {
      rethrow_with_context(e, path + ": dataset");
    }
  }

  const YAML::Node axes = root["axes"];
  if (!axes.IsMap() || axes.size() == 0)
    reader.fail(axes, "axes", "expected a mapping of architecture keys to values");
  for (const auto& entry : axes)
    spec.axes.push_back(
        read_axis(reader, reader.text(entry.first, "axes"), entry.second, spec.random));
  std::set<std::string> set_keys;
  for (const std::string& o : spec.overrides) set_keys.insert(o.substr(0, o.find('=')));
  for (const Axis& axis : spec.axes)
    if (set_keys.count(axis.key))
      throw_bad_input("{}: axes.{}: also fixed by set:; choose one", path, axis.key);
  read_objectives(reader, root["objectives"], spec);
  if (root["constraints"]) read_constraints(reader, root["constraints"], spec);

  int64_t points = 1;
  for (const Axis& axis : spec.axes) {
    if (axis.continuous) continue;
    points *= static_cast<int64_t>(axis.values.size());
    if (!spec.random && points > 1000000)
      throw_bad_input("{}: axes: the grid has more than 1,000,000 points", path);
  }
  check_axes(spec);
  return spec;
}

SweepSpec load_sweep(const std::string& path) {
  return parse_sweep(read_file_bytes(path), path);
}

std::vector<Point> sweep_points(const SweepSpec& spec) {
  std::vector<Point> points;
  if (spec.random) {
    // Sample i's axis a is a pure function of (seed, i, a): more samples keep the first ones.
    const RngStream rng(spec.seed, 0, "sweep", "random-search");
    const uint64_t n_axes = spec.axes.size();
    for (int64_t i = 0; i < spec.samples; ++i) {
      Point p;
      p.index = i;
      p.axes = nlohmann::json::object();
      for (uint64_t a = 0; a < n_axes; ++a) {
        const Axis& axis = spec.axes[a];
        const double u = rng.uniform(static_cast<uint64_t>(i) * n_axes + a);
        if (axis.continuous) {
          double v =
              axis.log_scale
                  ? std::exp(std::log(axis.from) + u * (std::log(axis.to) - std::log(axis.from)))
                  : axis.from + u * (axis.to - axis.from);
          p.axes[axis.key] = axis.integer ? nlohmann::json(std::llround(v)) : nlohmann::json(v);
        } else {
          const auto k = std::min(axis.values.size() - 1,
                                  static_cast<size_t>(u * static_cast<double>(axis.values.size())));
          p.axes[axis.key] = axis.values[k];
        }
      }
      points.push_back(std::move(p));
    }
    return points;
  }
  // Grid: the first axis outermost, the last one fastest.
  int64_t total = 1;
  for (const Axis& axis : spec.axes) total *= static_cast<int64_t>(axis.values.size());
  for (int64_t index = 0; index < total; ++index) {
    Point p;
    p.index = index;
    p.axes = nlohmann::json::object();
    int64_t rest = index;
    for (size_t a = spec.axes.size(); a-- > 0;) {
      const auto n = static_cast<int64_t>(spec.axes[a].values.size());
      p.axes[spec.axes[a].key] = spec.axes[a].values[static_cast<size_t>(rest % n)];
      rest /= n;
    }
    points.push_back(std::move(p));
  }
  return points;
}

std::string fingerprint(const SweepSpec& spec) {
  nlohmann::json what = {{"version", kResultVersion},
                         {"model", hash_string(read_file_bytes(spec.model))},
                         {"arch", hash_string(spec.arch_text)},
                         {"set", spec.overrides},
                         {"dataset", spec.dataset},
                         {"limit", spec.limit},
                         {"trials", spec.trials},
                         {"seed", spec.seed},
                         {"batch", spec.batch},
                         {"chips", spec.chips},
                         {"replicate", spec.replicate}};
  return fmt::format("{:016x}", hash_string(what.dump()));
}

}  // namespace aimc::dse
