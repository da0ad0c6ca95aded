#include "aimc/arch/schema.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace aimc::arch::schema {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

NumberRange closed(double lo, double hi) {
  return {lo, hi, false, false};
}
NumberRange at_least(double lo) {
  return {lo, kInf, false, false};
}
NumberRange above(double lo) {
  return {lo, kInf, true, false};
}

template <typename T>
KeyRow int_row(std::string path, T& (*member)(Architecture&), int64_t lo, int64_t hi,
               std::string unit, std::string description) {
  KeyRow row;
  row.path = std::move(path);
  row.type = KeyType::kInt;
  row.range = closed(static_cast<double>(lo), static_cast<double>(hi));
  row.unit = std::move(unit);
  row.description = std::move(description);
  row.get_int = [member](const Architecture& a) {
    return static_cast<int64_t>(member(const_cast<Architecture&>(a)));
  };
  row.set_int = [member](Architecture& a, int64_t v) { member(a) = static_cast<T>(v); };
  return row;
}

KeyRow float_row(std::string path, double& (*member)(Architecture&), NumberRange range,
                 std::string unit, std::string description) {
  KeyRow row;
  row.path = std::move(path);
  row.type = KeyType::kFloat;
  row.range = range;
  row.unit = std::move(unit);
  row.description = std::move(description);
  row.get_float = [member](const Architecture& a) { return member(const_cast<Architecture&>(a)); };
  row.set_float = [member](Architecture& a, double v) { member(a) = v; };
  return row;
}

template <typename E>
KeyRow enum_row(std::string path, E& (*member)(Architecture&),
                const std::vector<std::pair<std::string, E>>& names, std::string description) {
  KeyRow row;
  row.path = std::move(path);
  row.type = KeyType::kEnum;
  row.description = std::move(description);
  for (const auto& entry : names) row.names.push_back(entry.first);
  row.get_name = [member, names](const Architecture& a) {
    const E value = member(const_cast<Architecture&>(a));
    for (const auto& [name, candidate] : names)
      if (candidate == value) return name;
    return std::string("?");
  };
  row.set_name = [member, names](Architecture& a, const std::string& text) {
    for (const auto& [name, candidate] : names)
      if (name == text) member(a) = candidate;
  };
  return row;
}

KeyRow special_row(std::string path, KeyType type, std::string default_text, std::string unit,
                   std::string range_note, std::string description) {
  KeyRow row;
  row.path = std::move(path);
  row.type = type;
  row.default_text = std::move(default_text);
  row.unit = std::move(unit);
  row.range_note = std::move(range_note);
  row.description = std::move(description);
  return row;
}

const std::vector<std::pair<std::string, InputRange>> kInputRanges = {
    {"dynamic", InputRange::kDynamic}, {"static", InputRange::kStatic}};
const std::vector<std::pair<std::string, WeightScale>> kWeightScales = {
    {"per_column", WeightScale::kPerColumn}, {"per_tensor", WeightScale::kPerTensor}};
const std::vector<std::pair<std::string, AdcRange>> kAdcRanges = {
    {"full", AdcRange::kFull}, {"calibrated", AdcRange::kCalibrated}};
const std::vector<std::pair<std::string, AcamEncoding>> kEncodings = {
    {"gray", AcamEncoding::kGray}, {"binary", AcamEncoding::kBinary}};
const std::vector<std::pair<std::string, NetworkTopology>> kTopologies = {
    {"mesh", NetworkTopology::kMesh}, {"ring", NetworkTopology::kRing}};

}  // namespace

const std::vector<std::pair<std::string, DriftCompensation>>& drift_compensations() {
  static const std::vector<std::pair<std::string, DriftCompensation>> names = {
      {"none", DriftCompensation::kNone},
      {"global", DriftCompensation::kGlobal},
      {"per_column", DriftCompensation::kPerColumn}};
  return names;
}

const std::vector<std::pair<std::string, ReadNoiseMode>>& read_noise_modes() {
  static const std::vector<std::pair<std::string, ReadNoiseMode>> names = {
      {"exact", ReadNoiseMode::kExact}, {"aggregated", ReadNoiseMode::kAggregated}};
  return names;
}

namespace {

// The percentiles of calibration: (0, 100].
constexpr NumberRange kPercent{0.0, 100.0, true, false};

void add_crossbar_rows(std::vector<KeyRow>& rows) {
  KeyRow name;
  name.path = "name";
  name.type = KeyType::kString;
  name.default_text = "file stem";
  name.description = "name of the architecture";
  name.get_name = [](const Architecture& a) { return a.name; };
  name.set_name = [](Architecture& a, const std::string& v) { a.name = v; };
  rows.push_back(std::move(name));
  rows.push_back(int_row(
      "array.rows", +[](Architecture& a) -> int& { return a.array.rows; }, 1, 65536, "",
      "rows (inputs) per crossbar array"));
  rows.push_back(int_row(
      "array.cols", +[](Architecture& a) -> int& { return a.array.cols; }, 1, 65536, "",
      "columns (outputs) per crossbar array"));
  rows.push_back(int_row(
      "array.cell_bits", +[](Architecture& a) -> int& { return a.array.cell_bits; }, 1, 8, "bit",
      "bits stored per cell"));
  rows.push_back(float_row(
      "array.g_min", +[](Architecture& a) -> double& { return a.array.g_min; }, at_least(0.0), "S",
      "conductance of level 0"));
  KeyRow g_max = float_row(
      "array.g_max", +[](Architecture& a) -> double& { return a.array.g_max; }, above(0.0), "S",
      "conductance of the top level");
  g_max.range_note = "> g_min";
  rows.push_back(std::move(g_max));
  rows.push_back(int_row(
      "input.in_bits", +[](Architecture& a) -> int& { return a.input.in_bits; }, 2, 16, "bit",
      "input precision, sign included"));
  KeyRow dac = int_row(
      "input.dac_bits", +[](Architecture& a) -> int& { return a.input.dac_bits; }, 1, 15, "bit",
      "bits applied per DAC step");
  dac.dynamic_max = [](const Architecture& a) { return int64_t{a.input.in_bits} - 1; };
  dac.range_note = "[1, in_bits-1]";
  rows.push_back(std::move(dac));
  rows.push_back(enum_row(
      "input.range", +[](Architecture& a) -> InputRange& { return a.input.range; }, kInputRanges,
      "input scale per vector (dynamic) or one per layer from calibration "
      "(static)"));
  rows.push_back(float_row(
      "input.percentile", +[](Architecture& a) -> double& { return a.input.percentile; }, kPercent,
      "%", "static range: percentile of |x| over the calibration set"));
  rows.push_back(int_row(
      "weights.w_bits", +[](Architecture& a) -> int& { return a.weights.w_bits; }, 2, 16, "bit",
      "weight precision, sign included"));
  rows.push_back(enum_row(
      "weights.scale", +[](Architecture& a) -> WeightScale& { return a.weights.scale; },
      kWeightScales, "one weight scale per output column or one per layer"));
  rows.push_back(special_row("adc.model", KeyType::kModel, "uniform", "", "", "ADC model"));
  // A signed ADC of 1 bit would have 2^0 - 1 = 0 codes per side.
  rows.push_back(int_row(
      "adc.bits", +[](Architecture& a) -> int& { return a.adc.bits; }, 2, 24, "bit",
      "ADC resolution, sign included"));
  rows.push_back(enum_row(
      "adc.range", +[](Architecture& a) -> AdcRange& { return a.adc.range; }, kAdcRanges,
      "full: keep the top bits of the exact sum; calibrated: from the "
      "calibration reads"));
  rows.push_back(float_row(
      "adc.percentile", +[](Architecture& a) -> double& { return a.adc.percentile; }, kPercent, "%",
      "calibrated range: percentile of |I| over the calibration reads"));
}

void add_device_rows(std::vector<KeyRow>& rows) {
  rows.push_back(special_row("device.programming.model", KeyType::kModel, "none", "", "",
                             "programming noise model"));
  rows.push_back(special_row("device.drift.model", KeyType::kModel, "none", "", "",
                             "conductance drift model"));
  rows.push_back(enum_row(
      "device.drift.compensation",
      +[](Architecture& a) -> DriftCompensation& { return a.device.drift_compensation; },
      drift_compensations(), "digital drift compensation"));
  rows.push_back(
      special_row("device.read.model", KeyType::kModel, "none", "", "", "read noise model"));
  rows.push_back(enum_row(
      "device.read.mode", +[](Architecture& a) -> ReadNoiseMode& { return a.device.read_mode; },
      read_noise_modes(),
      "exact: read and output noise drawn at every ADC conversion; aggregated: once per MVM "
      "output, with the summed variance (faster)"));
  rows.push_back(special_row("device.output.model", KeyType::kModel, "none", "", "",
                             "output (pre-ADC) noise model"));
  rows.push_back(
      special_row("device.stuck.model", KeyType::kModel, "none", "", "", "stuck-cell model"));
  rows.push_back(
      special_row("device.ir_drop.model", KeyType::kModel, "none", "", "", "IR drop model"));
}

void add_acam_rows(std::vector<KeyRow>& rows) {
  rows.push_back(int_row(
      "acam.in_bits", +[](Architecture& a) -> int& { return a.acam.in_bits; }, 1, 16, "bit",
      "input codes of an ACAM function unit"));
  rows.push_back(int_row(
      "acam.out_bits", +[](Architecture& a) -> int& { return a.acam.out_bits; }, 1, 16, "bit",
      "output codes of an ACAM function unit"));
  rows.push_back(enum_row(
      "acam.encoding", +[](Architecture& a) -> AcamEncoding& { return a.acam.encoding; },
      kEncodings, "output code encoding"));
  rows.push_back(float_row(
      "acam.threshold_sigma", +[](Architecture& a) -> double& { return a.acam.threshold_sigma; },
      at_least(0.0), "fraction of input range", "threshold noise per chip instance"));
  rows.push_back(float_row(
      "acam.input_sigma", +[](Architecture& a) -> double& { return a.acam.input_sigma; },
      at_least(0.0), "fraction of input range", "input noise per search"));
}

const std::vector<std::pair<std::string, ReadoutMode>> kReadoutModes = {
    {"adc", ReadoutMode::kAdc}, {"acam", ReadoutMode::kAcam}};

// NL-DPE's ADC-less readout (docs/analog-model.md, "ADC-less readout").
void add_readout_rows(std::vector<KeyRow>& rows) {
  rows.push_back(enum_row(
      "readout.mode", +[](Architecture& a) -> ReadoutMode& { return a.readout.mode; },
      kReadoutModes,
      "adc: every crossbar read is converted (ANALOG_MODEL.md §1); acam: each output's analog "
      "value is read by an analog CAM tree that may fuse the next activation (NL-DPE)"));
  rows.push_back(int_row(
      "readout.out_bits", +[](Architecture& a) -> int& { return a.readout.out_bits; }, 1, 16, "bit",
      "output code bits of a readout search"));
  rows.push_back(enum_row(
      "readout.encoding", +[](Architecture& a) -> AcamEncoding& { return a.readout.encoding; },
      kEncodings, "output code encoding of the readout trees"));
  rows.push_back(int_row(
      "readout.rows_per_column", +[](Architecture& a) -> int& { return a.readout.rows_per_column; },
      1, 1 << 20, "", "CAM rows of one column's readout unit (a tree needing more is an error)"));
  rows.push_back(float_row(
      "readout.threshold_sigma",
      +[](Architecture& a) -> double& { return a.readout.threshold_sigma; }, at_least(0.0),
      "fraction of column range", "threshold programming noise per chip instance"));
  rows.push_back(float_row(
      "readout.input_sigma", +[](Architecture& a) -> double& { return a.readout.input_sigma; },
      at_least(0.0), "fraction of column range", "noise of the analog value per search"));
  rows.push_back(float_row(
      "readout.percentile", +[](Architecture& a) -> double& { return a.readout.percentile; },
      kPercent, "%", "each column's tree spans this central share of its calibration values"));
  for (const ReadoutConfig::Function& f : ReadoutConfig::functions()) {
    KeyRow row;
    row.path = std::string("readout.depth_") + f.name;
    row.type = KeyType::kInt;
    row.range = closed(0.0, 16.0);
    row.unit = "bit";
    row.description =
        f.depth == &ReadoutConfig::depth_identity
            ? std::string("tree depth of the plain readout (a quantiser); >= 1 with mode acam")
            : fmt::format("tree depth of a fused {} (0: not fused)", f.label);
    const auto member = f.depth;
    row.get_int = [member](const Architecture& a) { return int64_t{a.readout.*member}; };
    row.set_int = [member](Architecture& a, int64_t v) { a.readout.*member = static_cast<int>(v); };
    rows.push_back(std::move(row));
  }
}

void add_acam_array_rows(std::vector<KeyRow>& rows) {
  rows.push_back(int_row(
      "acam_array.rows", +[](Architecture& a) -> int& { return a.acam_array.rows; }, 1, 65536, "",
      "rows (tree paths) per tree ACAM array"));
  rows.push_back(int_row(
      "acam_array.cols", +[](Architecture& a) -> int& { return a.acam_array.cols; }, 1, 65536, "",
      "columns (features) per tree ACAM array"));
  rows.push_back(int_row(
      "acam_array.cell_bits", +[](Architecture& a) -> int& { return a.acam_array.cell_bits; }, 1,
      16, "bit", "bits per ACAM cell"));
  rows.push_back(int_row(
      "acam_array.search_cycles",
      +[](Architecture& a) -> int& { return a.acam_array.search_cycles; }, 1, 1000000, "cycle",
      "cycles per search"));
  rows.push_back(float_row(
      "acam_array.clock_hz", +[](Architecture& a) -> double& { return a.acam_array.clock_hz; },
      above(0.0), "Hz", "ACAM clock"));
  struct FloatKey {
    const char* key;
    double AcamArrayConfig::*member;
    const char* unit;
    const char* description;
  };
  static const FloatKey kFloats[] = {
      {"g_min", &AcamArrayConfig::g_min, "S", "conductance of level 0"},
      {"g_max", &AcamArrayConfig::g_max, "S", "conductance of the top level"},
      {"g_hrs", &AcamArrayConfig::g_hrs, "S", "high-resistance state (don't-care low bound)"},
      {"g_lrs", &AcamArrayConfig::g_lrs, "S", "low-resistance state (don't-care high bound)"},
      {"v_ml", &AcamArrayConfig::v_ml, "V", "match-line precharge voltage"},
      {"v_ns", &AcamArrayConfig::v_ns, "V", "match-line voltage after a mismatch"},
      {"v_sl", &AcamArrayConfig::v_sl, "V", "source-line voltage"},
      {"v_dd", &AcamArrayConfig::v_dd, "V", "data-line voltage"},
      {"v_th", &AcamArrayConfig::v_th, "V", "transistor threshold voltage"},
      {"c_ml", &AcamArrayConfig::c_ml, "F", "match-line capacitance per cell"},
      {"c_pre", &AcamArrayConfig::c_pre, "F", "precharge capacitance per row"},
      {"c_mlso", &AcamArrayConfig::c_mlso, "F", "match-line sense-out capacitance per row"},
      {"c_dl", &AcamArrayConfig::c_dl, "F", "data-line capacitance per cell"},
      {"r_w", &AcamArrayConfig::r_w, "ohm", "wire resistance per cell"},
      {"k1", &AcamArrayConfig::k1, "A/V^2", "transistor gain factor (caps a cell's current)"},
      {"p_reg_static", &AcamArrayConfig::p_reg_static, "W",
       "static power of a row's output register"},
      {"p_reg_dynamic", &AcamArrayConfig::p_reg_dynamic, "W",
       "dynamic power of an enabled row's register"},
      {"cell_area", &AcamArrayConfig::cell_area, "m^2",
       "area per ACAM cell; 0: unknown (no area reported)"},
  };
  for (const FloatKey& f : kFloats) {
    KeyRow row;
    row.path = std::string("acam_array.") + f.key;
    row.type = KeyType::kFloat;
    row.range = at_least(0.0);
    row.unit = f.unit;
    row.description = f.description;
    double AcamArrayConfig::*member = f.member;
    row.get_float = [member](const Architecture& a) { return a.acam_array.*member; };
    row.set_float = [member](Architecture& a, double v) { a.acam_array.*member = v; };
    if (std::string(f.key) == "g_max") row.range_note = "> g_min";
    rows.push_back(std::move(row));
  }
}

void add_chip_rows(std::vector<KeyRow>& rows) {
  rows.push_back(int_row(
      "chip.tiles", +[](Architecture& a) -> int64_t& { return a.chip.tiles; }, 1, 1000000, "",
      "tiles per chip"));
  rows.push_back(int_row(
      "chip.cores_per_tile", +[](Architecture& a) -> int& { return a.chip.cores_per_tile; }, 1,
      65536, "", "cores per tile"));
  rows.push_back(int_row(
      "chip.arrays_per_core", +[](Architecture& a) -> int& { return a.chip.arrays_per_core; }, 1,
      65536, "", "crossbar arrays per core"));
  rows.push_back(int_row(
      "chip.acam_units_per_core",
      +[](Architecture& a) -> int& { return a.chip.acam_units_per_core; }, 0, 65536, "",
      "ACAM function units per core"));
  rows.push_back(float_row(
      "chip.adcs_per_array", +[](Architecture& a) -> double& { return a.chip.adcs_per_array; },
      NumberRange{0.0, 65536.0, true, false}, "",
      "ADCs per crossbar array; below 1: one ADC shared by several arrays"));
  rows.push_back(float_row(
      "chip.clock_hz", +[](Architecture& a) -> double& { return a.chip.clock_hz; }, above(0.0),
      "Hz", "digital clock (also the network's)"));
  rows.push_back(enum_row(
      "chip.network.topology",
      +[](Architecture& a) -> NetworkTopology& { return a.chip.network.topology; }, kTopologies,
      "tile network: mesh (snake-order grid) or ring"));
  rows.push_back(int_row(
      "chip.network.link_width", +[](Architecture& a) -> int& { return a.chip.network.link_width; },
      1, 1 << 20, "bit/cycle", "bits one link moves per clock cycle"));
  rows.push_back(int_row(
      "chip.buffer.bytes_per_core",
      +[](Architecture& a) -> int64_t& { return a.chip.buffer.bytes_per_core; }, 1,
      int64_t{1} << 40, "B", "local buffer of each core; a vector's input + output should fit"));
  rows.push_back(int_row(
      "chip.buffer.width_bits", +[](Architecture& a) -> int& { return a.chip.buffer.width_bits; },
      1, 1 << 20, "bit", "bits per buffer access"));
}

void add_other_rows(std::vector<KeyRow>& rows) {
  rows.push_back(special_row("components.<name>.energy", KeyType::kComponent, "0", "J", "[0, inf]",
                             "energy per action"));
  rows.push_back(special_row("components.<name>.leakage", KeyType::kComponent, "0", "W", "[0, inf]",
                             "leakage power per instance"));
  rows.push_back(special_row("components.<name>.area", KeyType::kComponent, "0", "m^2", "[0, inf]",
                             "area per instance"));
  rows.push_back(special_row("components.<name>.latency", KeyType::kComponent, "0", "s", "[0, inf]",
                             "latency per action"));
  rows.push_back(enum_row(
      "dmmul.mode", +[](Architecture& a) -> DmmulMode& { return a.dmmul; }, dmmul_modes(),
      "how data-dependent products (Q*K^T, A*V) run"));
  rows.push_back(int_row(
      "calibration.samples", +[](Architecture& a) -> int64_t& { return a.calibration_samples; }, 1,
      std::numeric_limits<int64_t>::max(), "", "calibration set: the first N training samples"));
  rows.push_back(special_row("mapping.<kind>", KeyType::kMapping, "digital", "", "see below",
                             "where an op kind runs; kinds not listed run digitally"));
}

std::vector<KeyRow> build_rows() {
  std::vector<KeyRow> rows;
  add_crossbar_rows(rows);
  add_device_rows(rows);
  add_acam_rows(rows);
  add_readout_rows(rows);
  add_acam_array_rows(rows);
  add_chip_rows(rows);
  add_other_rows(rows);
  return rows;
}

}  // namespace

bool NumberRange::contains(double value) const {
  const bool lo_ok = lo_open ? value > lo : value >= lo;
  const bool hi_ok = hi_open ? value < hi : value <= hi;
  return lo_ok && hi_ok;
}

std::string NumberRange::text() const {
  auto number = [](double v) { return std::isinf(v) ? std::string("inf") : fmt::format("{}", v); };
  return fmt::format("{}{}, {}{}", lo_open ? "(" : "[", number(lo), number(hi),
                     hi_open ? ")" : "]");
}

std::string KeyRow::section() const {
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(0, dot);
}

int64_t KeyRow::int_max() const {
  return range.hi >= 9.2e18 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(range.hi);
}

std::string KeyRow::key() const {
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

bool KeyRow::scalar() const {
  if (path.rfind("device.", 0) == 0) return false;
  return type == KeyType::kString || type == KeyType::kInt || type == KeyType::kFloat ||
         type == KeyType::kEnum;
}

const std::vector<KeyRow>& key_rows() {
  static const std::vector<KeyRow> rows = build_rows();
  return rows;
}

bool flow_section(const std::string& section) {
  return section == "chip.network" || section == "chip.buffer";
}

}  // namespace aimc::arch::schema
