// A design-space sweep as SWEEP.yaml describes it (docs/sweep.md): a model, a data set, a base
// architecture, axes over architecture keys, objectives and constraints; and the points it
// visits, in a fixed order. Parsing checks everything that can be checked before a point
// runs: every axis key and value against the architecture schema, every objective and
// constraint against the metrics the sweep will have.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace aimc::dse {

enum class Goal { kMin, kMax };
std::string goal_name(Goal goal);  // min | max

struct Objective {
  std::string metric;  // a key of a point's "metrics"
  Goal goal = Goal::kMin;
};

struct Constraint {
  std::string metric;
  std::string op;  // >= <= > <
  double bound = 0;
  std::string text;  // as written: "accuracy.min >= 0.85"
  bool holds(double value) const;
};

struct Axis {
  std::string key;                     // architecture key path (as for --set)
  std::vector<nlohmann::json> values;  // grid values (and the random pool of a list)
  // Random search over a continuous range {from, to} without steps.
  bool continuous = false;
  double from = 0, to = 0;
  bool log_scale = false, integer = false;
};

struct SweepSpec {
  std::string file;                    // SWEEP.yaml as given
  std::string model;                   // paths resolved against the sweep file's folder
  std::string arch;                    // the base architecture file
  std::string arch_text;               // its contents, read once
  std::vector<std::string> overrides;  // `set:`, applied to every point before its axes
  std::string dataset;                 // "" : no accuracy metrics, cost only
  std::string data_dir;
  std::string metric;  // accuracy | bits_per_char (with a dataset)
  int64_t limit = -1;
  int64_t trials = 1;
  uint64_t seed = 0;
  int64_t eval_batch = 100;  // samples per forward pass of the accuracy runs
  int64_t batch = 1;         // inferences per batch of the cost estimate
  int64_t chips = 1;
  bool replicate = true;
  bool random = false;  // search: random (else grid)
  int64_t samples = 0;  // random search: points drawn
  std::vector<Axis> axes;
  std::vector<Objective> objectives;
  std::vector<Constraint> constraints;
};

// "metric OP number" with OP one of >= <= > <, as written in `constraints:` (and recorded in
// a results file's header); nullopt when the text is not of that form. The metric is not
// checked against the sweep's metrics here.
std::optional<Constraint> parse_constraint(const std::string& text);

// One point: a value for every axis, in axes order.
struct Point {
  int64_t index = 0;
  nlohmann::json axes;  // {key: value}; the point's identity (its dump is canonical)
  std::vector<std::string> overrides() const;  // "key=value" for arch::parse_architecture
};

// The metrics a sweep with `metric` ("" without a dataset) reports for every point, and
// the goal each has when an objective names it without one.
std::vector<std::pair<std::string, Goal>> metric_names(const std::string& metric);

// Error(kBadInput) naming the file and the key at fault. Opens the data set to learn its
// metric (accuracy or bits per character).
SweepSpec load_sweep(const std::string& path);
SweepSpec parse_sweep(const std::string& yaml_text, const std::string& path);

std::vector<Point> sweep_points(const SweepSpec& spec);

// What a result depends on (model and architecture contents, data set, limit, trials, seed,
// batch, chips, replicate, the aimc version): a rerun keeps only lines with the same one.
std::string fingerprint(const SweepSpec& spec);

}  // namespace aimc::dse
