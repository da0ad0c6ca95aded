// The architecture schema as data (internal to arch/): one row per YAML key, with the member
// of Architecture it sets, its range, unit and meaning. The rows drive reading, validation,
// to_yaml and `aimc arch --describe` (architecture.cpp); the defaults are the members'
// initial values, printed from a default Architecture.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "aimc/arch/architecture.h"

namespace aimc::arch::schema {

enum class KeyType {
  kString,     // name
  kInt,        // integers in a closed range
  kFloat,      // finite numbers in a range
  kEnum,       // one of `names`
  kModel,      // a named model slot (model_registry.h), read and printed by its section
  kComponent,  // components.<name>.<field>, read and printed by the components section
  kMapping,    // mapping.<kind>, read and printed by the mapping section
};

struct NumberRange {
  double lo = 0, hi = 0;
  bool lo_open = false, hi_open = false;
  bool contains(double value) const;
  std::string text() const;  // "[1, 65536]", "(0, 100]", "[0, inf]"
};

struct KeyRow {
  std::string path;  // "array.rows"
  KeyType type = KeyType::kInt;
  std::string unit;
  std::string description;
  NumberRange range;               // kInt, kFloat
  std::vector<std::string> names;  // kEnum
  // A tighter upper bound that depends on keys read before this one (input.dac_bits <=
  // input.in_bits - 1); empty when none.
  std::function<int64_t(const Architecture&)> dynamic_max;
  std::string range_note;    // shown instead of the range in the docs ("> g_min")
  std::string default_text;  // rows whose default is not one member (models, maps)
  std::function<int64_t(const Architecture&)> get_int;
  std::function<void(Architecture&, int64_t)> set_int;
  std::function<double(const Architecture&)> get_float;
  std::function<void(Architecture&, double)> set_float;
  std::function<std::string(const Architecture&)> get_name;  // kEnum, kString
  std::function<void(Architecture&, const std::string&)> set_name;

  std::string section() const;  // "chip.network" for chip.network.link_width, "" for name
  std::string key() const;      // "link_width"
  // kInt rows: the upper bound as an integer (the double range cannot hold 2^63 - 1 exactly).
  int64_t int_max() const;
  // Rows read and printed one by one (the others belong to a section reader).
  bool scalar() const;
};

const std::vector<KeyRow>& key_rows();

// The names of device.drift.compensation (its row, and the device section's reader).
const std::vector<std::pair<std::string, DriftCompensation>>& drift_compensations();
const std::vector<std::pair<std::string, ReadNoiseMode>>& read_noise_modes();

// The section paths that are flow maps in to_yaml ({topology: mesh, link_width: 32}).
bool flow_section(const std::string& section);

}  // namespace aimc::arch::schema
