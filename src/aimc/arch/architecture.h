// The accelerator description: what ../shared/ANALOG_MODEL.md's parameters are set to, read
// from a YAML file (docs/architecture-yaml.md). Every value is validated on load; an error
// names the file and the key path at fault. Units are SI (siemens, seconds, volts).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace aimc::arch {

// A model chosen by name in the YAML (a noise model, an ADC model) with its parameters.
// `params` holds every parameter the model declares (model_registry.h), defaults filled in.
struct ModelConfig {
  std::string model = "none";
  std::map<std::string, double> params;
  std::vector<double> coefficients;  // list-valued parameter (polynomial noise), else empty

  bool enabled() const { return model != "none"; }
  // The value of a declared parameter; AIMC_ASSERT that it is declared.
  double param(const std::string& name) const;
};

enum class InputRange { kDynamic, kStatic };        // input.range
enum class WeightScale { kPerColumn, kPerTensor };  // weights.scale
enum class AdcRange { kFull, kCalibrated };         // adc.range
enum class DriftCompensation { kNone, kGlobal, kPerColumn };
// device.read.mode: exact draws the read and output noise of every ADC conversion;
// aggregated draws it once per MVM output with the summed variance (docs/analog-model.md).
enum class ReadNoiseMode { kExact, kAggregated };
enum class AcamEncoding { kGray, kBinary };              // acam.encoding
enum class DmmulMode { kDigital, kLogAcam, kCrossbar };  // dmmul.mode
enum class Placement { kCrossbar, kAcam, kDigital };     // mapping.<op kind>
enum class NetworkTopology { kMesh, kRing };             // chip.network.topology
// readout.mode: adc converts every crossbar read (ANALOG_MODEL.md §1); acam reads each
// output's analog value with an analog CAM that computes a function of it (NL-DPE,
// docs/analog-model.md, "ADC-less readout").
enum class ReadoutMode { kAdc, kAcam };

struct ArrayConfig {
  int rows = 128;
  int cols = 128;
  int cell_bits = 2;
  double g_min = 1e-6;  // S
  double g_max = 1e-4;  // S
};

struct InputConfig {
  int in_bits = 8;
  int dac_bits = 1;
  InputRange range = InputRange::kDynamic;
  double percentile = 100.0;  // static range: percentile of |x| over the calibration set
};

struct WeightConfig {
  int w_bits = 8;
  WeightScale scale = WeightScale::kPerColumn;
};

struct AdcConfig {
  ModelConfig model;  // "uniform" (ANALOG_MODEL.md §1) or "ideal" (no quantisation)
  int bits = 8;
  AdcRange range = AdcRange::kFull;
  double percentile = 99.99;
};

struct DeviceConfig {
  ModelConfig programming;  // none | constant | proportional | polynomial
  ModelConfig drift;        // none | power_law (nu_mean, nu_std, t0, t_inference)
  DriftCompensation drift_compensation = DriftCompensation::kNone;
  ModelConfig read;  // none | constant | proportional
  ReadNoiseMode read_mode = ReadNoiseMode::kExact;
  ModelConfig output;   // none | gaussian (sigma, as a fraction of the ADC full scale)
  ModelConfig stuck;    // none | random (p_off, p_on, g_off)
  ModelConfig ir_drop;  // none | linear (gamma)
};

struct AcamConfig {
  int in_bits = 8;
  int out_bits = 8;
  AcamEncoding encoding = AcamEncoding::kGray;
  double threshold_sigma = 0.0;  // fraction of the unit's input range, per chip instance
  double input_sigma = 0.0;      // fraction of the unit's input range, per search
};

// ADC-less readout of the crossbar outputs through analog CAMs (NL-DPE, Zhao et al., arXiv
// 2511.13950): one readout ACAM per output column synthesises a function of the column's analog
// value as a decision tree of `depth` levels over a range calibrated on data
// (docs/analog-model.md, "ADC-less readout"). A linear or convolution layer whose only consumer is
// one of the functions with a depth > 0 computes that function in its readout (fusion); any other
// crossbar layer's readout is the identity (a quantiser of depth depth_identity).
struct ReadoutConfig {
  ReadoutMode mode = ReadoutMode::kAdc;
  int out_bits = 8;  // output code bits of a readout search
  AcamEncoding encoding = AcamEncoding::kGray;
  int rows_per_column = 512;     // CAM rows a column's readout unit holds
  double threshold_sigma = 0.0;  // fraction of the column's range, per chip
  double input_sigma = 0.0;      // fraction of the column's range, per search
  double percentile = 100.0;     // range: this percentile of each column's values
  // Tree depth (threshold bits: 2^depth input intervals) of each function; 0: not fused.
  int depth_identity = 8, depth_relu = 8, depth_gelu = 8, depth_silu = 8, depth_sigmoid = 8,
      depth_tanh = 8;

  // The readout's functions: analog/acam.h name, the member holding its depth (the key
  // readout.depth_<name>), and how the docs name it; identity first.
  struct Function {
    const char* name;
    int ReadoutConfig::*depth;
    const char* label;
  };
  static const std::vector<Function>& functions();
  // The depth of a function by its name; 0 for a name that is not one of functions().
  int depth(const std::string& function) const;
  int deepest() const;  // the largest depth of any function (a unit is sized for it)
  // The ACAM settings of a readout unit for a function: in_bits = its depth.
  AcamConfig unit_config(const std::string& function) const;
};

// The analog CAM arrays that hold tree ensembles (X-TIME, docs/trees.md): geometry, timing
// and the circuit terms of X-TIME's power model. Defaults are the values of HewlettPackard's
// CAMSHAP json/hw.json (presets/xtime.yaml cites each one).
struct AcamArrayConfig {
  int rows = 256;                  // rows (stored root-to-leaf paths) per array
  int cols = 128;                  // columns (features) per array
  int cell_bits = 4;               // bits per cell; a threshold of acam.in_bits uses several cells
  int search_cycles = 4;           // cycles per search
  double clock_hz = 1e9;           // Hz
  double g_min = 1e-6;             // S, conductance of level 0
  double g_max = 1e-4;             // S, conductance of the top level
  double g_hrs = 1e-8;             // S, high-resistance state (a don't-care low bound)
  double g_lrs = 110e-6;           // S, low-resistance state (a don't-care high bound)
  double v_ml = 0.6;               // V, match-line precharge
  double v_ns = 0.0;               // V, match-line level after a mismatch
  double v_sl = 0.8;               // V, source line
  double v_dd = 0.5;               // V, data line
  double v_th = 0.36;              // V, transistor threshold
  double c_ml = 1.9e-15;           // F, match-line capacitance per cell
  double c_pre = 40.95e-15;        // F, precharge capacitance per row
  double c_mlso = 50e-15;          // F, match-line sense-out capacitance per row
  double c_dl = 0.324e-15;         // F, data-line capacitance per cell
  double r_w = 9.5625;             // ohm, wire resistance per cell
  double k1 = 100e-6;              // A/V^2, transistor gain factor (caps a cell's current)
  double p_reg_static = 2.3e-7;    // W, static power of a row's output register
  double p_reg_dynamic = 8.17e-6;  // W, dynamic power of an enabled row's register
  double cell_area = 0.0;          // m^2 per cell (column x row); 0: unknown, area not reported
};

// The on-chip network between the tiles (docs/cost-model.md §1, §3).
struct NetworkConfig {
  // mesh: the tiles on a grid of ceil(sqrt(tiles)) columns in snake order; ring: tile i
  // linked to tiles i-1 and i+1 (mod tiles).
  NetworkTopology topology = NetworkTopology::kMesh;
  int link_width = 32;  // bits per clock cycle per link
};

// Each core's local buffer (docs/cost-model.md §3).
struct BufferConfig {
  int64_t bytes_per_core = 2048;  // bytes; a vector's input + output should fit
  int width_bits = 256;           // bits per access
};

// The hardware hierarchy the cost model and the mapper count on (docs/cost-model.md):
// chip -> tiles -> cores -> crossbar arrays and ACAM function units.
struct ChipConfig {
  int64_t tiles = 16;
  int cores_per_tile = 8;
  int arrays_per_core = 16;     // crossbar arrays
  int acam_units_per_core = 0;  // ACAM function units (one function table each)
  double adcs_per_array = 1.0;  // fractional: one ADC shared by 1/adcs_per_array arrays
  double clock_hz = 1e9;        // Hz, the digital clock (and the network's)
  NetworkConfig network;
  BufferConfig buffer;
};

// One component of the library: what one action costs and what one instance leaks and
// occupies. The action of each component is fixed (component_names()).
struct ComponentCost {
  double energy = 0.0;   // J per action
  double leakage = 0.0;  // W per instance
  double area = 0.0;     // m^2 per instance
  double latency = 0.0;  // s per action
  // adc only: the resolution these numbers are for; 0 = they hold for any adc.bits. When set,
  // the reader scales energy, leakage and area to adc.bits (x2 per bit) and sets it to adc.bits.
  int bits = 0;
  // acam_readout only: the tree depth these numbers are for; 0 = any. When set, the reader
  // scales energy, leakage and area to the deepest readout.depth_* (x2 per level: a unit holds
  // rows for its deepest tree, and a search drives all of them) and sets it to that depth.
  int depth = 0;
};

// Component names in the `components:` section, each with the action it is charged for:
// crossbar (one read of one array), crossbar_write (energy per cell written, latency per row
// written: the operands of dmmul.mode crossbar), dac (one row driven for one step), adc (one
// conversion), shift_add (one accumulated ADC output), acam (one search of one function
// unit), acam_readout (one search of one output column's readout ACAM, readout.mode acam;
// leakage and area per column unit), buffer (one access of chip.buffer.width_bits bits; its energy
// is given per byte, so an access costs energy x width_bits / 8), alu (one digital operation on one
// element), router (one bit over one hop; its latency is the router delay per hop of a transfer).
const std::vector<std::string>& component_names();
std::string component_action(const std::string& component);

struct Architecture {
  std::string name;    // `name:` in the file, else the file's stem
  std::string source;  // the file it came from ("" when parsed from text)
  ArrayConfig array;
  InputConfig input;
  WeightConfig weights;
  AdcConfig adc;
  DeviceConfig device;
  AcamConfig acam;
  ReadoutConfig readout;
  AcamArrayConfig acam_array;
  ChipConfig chip;
  std::map<std::string, ComponentCost> components;  // every name of component_names()
  DmmulMode dmmul = DmmulMode::kDigital;
  int64_t calibration_samples = 64;  // calibration.samples: first N training samples
  // Op kind -> where it runs. Kinds: linear, conv (crossbar | digital); gelu, softmax,
  // layer_norm, tanh, sigmoid, silu, exp, log, reciprocal, sqrt (acam | digital);
  // matmul (acam = per dmmul.mode | digital). Kinds not listed run digitally.
  std::map<std::string, Placement> mapping;

  Placement placement(const std::string& kind) const;
  const ComponentCost& component(const std::string& name) const;  // AIMC_ASSERT a known name

  // Quantities derived from several keys (ANALOG_MODEL.md §1), computed here only.
  int weight_slices() const;     // S = ceil((w_bits - 1) / cell_bits)
  int input_steps() const;       // T = ceil((in_bits - 1) / dac_bits)
  int64_t input_limit() const;   // Qx = 2^(in_bits - 1) - 1
  int64_t weight_limit() const;  // Qw = 2^(w_bits - 1) - 1
  int digit_max() const;         // 2^dac_bits - 1
  int level_max() const;         // 2^cell_bits - 1
  int64_t adc_codes() const;     // C = 2^(adc.bits - 1) - 1
  // FS = rows (2^dac_bits - 1)(2^cell_bits - 1): the largest read of one array, in level units.
  double full_scale() const;
};

// The YAML name of a placement: crossbar | acam | digital.
std::string placement_name(Placement placement);

// 2^24: float holds every integer below it, so a crossbar read (at most full_scale() level
// units) is summed exactly in float only below this limit.
constexpr double kFloatExactLimit = 16777216.0;

// The names of dmmul.mode's values.
const std::vector<std::pair<std::string, DmmulMode>>& dmmul_modes();
std::string dmmul_mode_name(DmmulMode mode);
// The mapping.<kind> keys: those that may run on crossbars, those that may run on ACAM
// (matmul, per dmmul.mode, is one of the latter).
const std::vector<std::string>& crossbar_mapping_kinds();
const std::vector<std::string>& acam_mapping_kinds();

// Reads and validates a YAML file, then applies `overrides` ("key.path=value", as from
// --set) before validation. Error(kBadInput) names the file and key path: an unknown key
// (with the closest valid one), a wrong type, a value out of range, an unknown model name.
Architecture load_architecture(const std::string& path,
                               const std::vector<std::string>& overrides = {});
Architecture parse_architecture(const std::string& yaml_text, const std::string& source,
                                const std::vector<std::string>& overrides = {});

// Every key of the schema with its type, default, unit and description, and every registered
// model with its parameters (for `aimc arch --describe`).
std::string describe_schema();

// The validated architecture as YAML (every key, defaults filled in): `aimc arch FILE`.
std::string to_yaml(const Architecture& arch);

}  // namespace aimc::arch
