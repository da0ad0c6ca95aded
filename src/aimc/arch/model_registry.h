// The named models an architecture file can choose (ramulator2-style): for each slot (a YAML
// key such as device.programming or adc), the model names and the parameters each declares,
// with default, unit and a one-line description. The YAML loader validates against this table
// and `aimc arch --describe` prints it; device/ implements every model listed here (a test
// checks that the two agree).
#pragma once

#include <limits>
#include <string>
#include <vector>

namespace aimc::arch {

struct ParamSpec {
  std::string name;
  double default_value = 0.0;
  std::string unit;  // "S", "s", "1" (dimensionless), "fraction of g_max", ...
  std::string description;
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
};

struct ModelSpec {
  std::string slot;  // "device.programming", "device.drift", "device.read", "device.output",
                     // "device.stuck", "device.ir_drop", "adc"
  std::string name;  // the YAML name: "constant", "proportional", ...
  std::string description;
  std::vector<ParamSpec> params;
  bool has_coefficients = false;  // takes a `coefficients: [c0, c1, ...]` list
};

// Every model of every slot ("none" is implicit in each device slot and takes no parameters).
const std::vector<ModelSpec>& model_specs();
// nullptr when the slot has no such model.
const ModelSpec* find_model_spec(const std::string& slot, const std::string& name);
// The model names of a slot, for error messages ("none, constant, proportional").
std::vector<std::string> model_names(const std::string& slot);
// The default `coefficients` of a model with has_coefficients (empty for the others).
std::vector<double> default_coefficients(const std::string& slot, const std::string& name);

}  // namespace aimc::arch
