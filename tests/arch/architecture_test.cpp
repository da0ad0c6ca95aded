// The architecture YAML: presets, defaults, every class of validation error, overrides and the
// to_yaml round trip.
#include "aimc/arch/architecture.h"

#include <gtest/gtest.h>

#include <cmath>

#include "aimc/arch/model_registry.h"
#include "aimc/core/error.h"

namespace aimc::arch {
namespace {

const std::string kPresets = std::string(AIMC_SOURCE_DIR) + "/presets/";

// The message of the kBadInput error that parsing `text` throws ("" when none is thrown).
std::string parse_error(const std::string& text, const std::vector<std::string>& overrides = {},
                        const std::string& source = "x.yaml") {
  try {
    parse_architecture(text, source, overrides);
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kBadInput) << error.what();
    return error.what();
  }
  return "";
}

void expect_same_model(const ModelConfig& a, const ModelConfig& b, const std::string& what) {
  EXPECT_EQ(a.model, b.model) << what;
  EXPECT_EQ(a.params, b.params) << what;
  EXPECT_EQ(a.coefficients, b.coefficients) << what;
}

void expect_same(const Architecture& a, const Architecture& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.readout.mode, b.readout.mode);
  EXPECT_EQ(a.readout.out_bits, b.readout.out_bits);
  EXPECT_EQ(a.readout.encoding, b.readout.encoding);
  EXPECT_EQ(a.readout.rows_per_column, b.readout.rows_per_column);
  EXPECT_EQ(a.readout.threshold_sigma, b.readout.threshold_sigma);
  EXPECT_EQ(a.readout.input_sigma, b.readout.input_sigma);
  EXPECT_EQ(a.readout.percentile, b.readout.percentile);
  for (const char* f : {"identity", "relu", "gelu", "silu", "sigmoid", "tanh"})
    EXPECT_EQ(a.readout.depth(f), b.readout.depth(f)) << f;
  EXPECT_EQ(a.array.rows, b.array.rows);
  EXPECT_EQ(a.array.cols, b.array.cols);
  EXPECT_EQ(a.array.cell_bits, b.array.cell_bits);
  EXPECT_EQ(a.array.g_min, b.array.g_min);
  EXPECT_EQ(a.array.g_max, b.array.g_max);
  EXPECT_EQ(a.input.in_bits, b.input.in_bits);
  EXPECT_EQ(a.input.dac_bits, b.input.dac_bits);
  EXPECT_EQ(a.input.range, b.input.range);
  EXPECT_EQ(a.input.percentile, b.input.percentile);
  EXPECT_EQ(a.weights.w_bits, b.weights.w_bits);
  EXPECT_EQ(a.weights.scale, b.weights.scale);
  expect_same_model(a.adc.model, b.adc.model, "adc");
  EXPECT_EQ(a.adc.bits, b.adc.bits);
  EXPECT_EQ(a.adc.range, b.adc.range);
  EXPECT_EQ(a.adc.percentile, b.adc.percentile);
  expect_same_model(a.device.programming, b.device.programming, "programming");
  expect_same_model(a.device.drift, b.device.drift, "drift");
  EXPECT_EQ(a.device.drift_compensation, b.device.drift_compensation);
  EXPECT_EQ(a.device.read_mode, b.device.read_mode);
  expect_same_model(a.device.read, b.device.read, "read");
  expect_same_model(a.device.output, b.device.output, "output");
  expect_same_model(a.device.stuck, b.device.stuck, "stuck");
  expect_same_model(a.device.ir_drop, b.device.ir_drop, "ir_drop");
  EXPECT_EQ(a.acam.in_bits, b.acam.in_bits);
  EXPECT_EQ(a.acam.out_bits, b.acam.out_bits);
  EXPECT_EQ(a.acam.encoding, b.acam.encoding);
  EXPECT_EQ(a.acam.threshold_sigma, b.acam.threshold_sigma);
  EXPECT_EQ(a.acam.input_sigma, b.acam.input_sigma);
  EXPECT_EQ(a.acam_array.rows, b.acam_array.rows);
  EXPECT_EQ(a.acam_array.cols, b.acam_array.cols);
  EXPECT_EQ(a.acam_array.cell_bits, b.acam_array.cell_bits);
  EXPECT_EQ(a.acam_array.search_cycles, b.acam_array.search_cycles);
  EXPECT_EQ(a.acam_array.clock_hz, b.acam_array.clock_hz);
  EXPECT_EQ(a.acam_array.g_min, b.acam_array.g_min);
  EXPECT_EQ(a.acam_array.g_max, b.acam_array.g_max);
  EXPECT_EQ(a.acam_array.g_hrs, b.acam_array.g_hrs);
  EXPECT_EQ(a.acam_array.g_lrs, b.acam_array.g_lrs);
  EXPECT_EQ(a.acam_array.v_ml, b.acam_array.v_ml);
  EXPECT_EQ(a.acam_array.v_ns, b.acam_array.v_ns);
  EXPECT_EQ(a.acam_array.v_sl, b.acam_array.v_sl);
  EXPECT_EQ(a.acam_array.v_dd, b.acam_array.v_dd);
  EXPECT_EQ(a.acam_array.v_th, b.acam_array.v_th);
  EXPECT_EQ(a.acam_array.c_ml, b.acam_array.c_ml);
  EXPECT_EQ(a.acam_array.c_pre, b.acam_array.c_pre);
  EXPECT_EQ(a.acam_array.c_mlso, b.acam_array.c_mlso);
  EXPECT_EQ(a.acam_array.c_dl, b.acam_array.c_dl);
  EXPECT_EQ(a.acam_array.r_w, b.acam_array.r_w);
  EXPECT_EQ(a.acam_array.k1, b.acam_array.k1);
  EXPECT_EQ(a.acam_array.p_reg_static, b.acam_array.p_reg_static);
  EXPECT_EQ(a.acam_array.p_reg_dynamic, b.acam_array.p_reg_dynamic);
  EXPECT_EQ(a.acam_array.cell_area, b.acam_array.cell_area);
  EXPECT_EQ(a.dmmul, b.dmmul);
  EXPECT_EQ(a.calibration_samples, b.calibration_samples);
  EXPECT_EQ(a.mapping, b.mapping);
}

TEST(Architecture, EveryPresetLoadsAndRoundTrips) {
  for (const char* name : {"ideal", "isaac", "puma", "race", "xtime", "nldpe"}) {
    SCOPED_TRACE(name);
    Architecture arch = load_architecture(kPresets + name + ".yaml");
    EXPECT_EQ(arch.name, name);
    EXPECT_EQ(arch.source, kPresets + name + ".yaml");
    expect_same(parse_architecture(to_yaml(arch), "round_trip.yaml"), arch);
  }
}

TEST(Architecture, PresetsSayWhatThePapersSay) {
  Architecture ideal = load_architecture(kPresets + "ideal.yaml");
  EXPECT_EQ(ideal.adc.model.model, "ideal");
  for (const ModelConfig* model :
       {&ideal.device.programming, &ideal.device.drift, &ideal.device.read, &ideal.device.output,
        &ideal.device.stuck, &ideal.device.ir_drop})
    EXPECT_FALSE(model->enabled());

  for (const char* name : {"isaac", "puma"}) {
    Architecture arch = load_architecture(kPresets + name + ".yaml");
    EXPECT_EQ(arch.array.rows, 128) << name;
    EXPECT_EQ(arch.array.cols, 128) << name;
    EXPECT_EQ(arch.array.cell_bits, 2) << name;
    EXPECT_EQ(arch.input.dac_bits, 1) << name;
    EXPECT_EQ(arch.adc.bits, 8) << name;
    EXPECT_EQ(arch.weights.w_bits, 16) << name;
    EXPECT_EQ(arch.placement("linear"), Placement::kCrossbar) << name;
  }

  Architecture race = load_architecture(kPresets + "race.yaml");
  EXPECT_EQ(race.dmmul, DmmulMode::kLogAcam);
  for (const char* kind : {"gelu", "softmax", "layer_norm", "matmul"})
    EXPECT_EQ(race.placement(kind), Placement::kAcam) << kind;
  EXPECT_EQ(race.placement("linear"), Placement::kCrossbar);
}

TEST(Architecture, EmptyTextGivesTheStructDefaults) {
  Architecture arch = parse_architecture("", "dir/empty.yaml");
  EXPECT_EQ(arch.name, "empty");
  EXPECT_EQ(arch.source, "");
  EXPECT_EQ(arch.array.rows, 128);
  EXPECT_EQ(arch.array.cols, 128);
  EXPECT_EQ(arch.array.cell_bits, 2);
  EXPECT_EQ(arch.array.g_min, 1e-6);
  EXPECT_EQ(arch.array.g_max, 1e-4);
  EXPECT_EQ(arch.input.in_bits, 8);
  EXPECT_EQ(arch.input.dac_bits, 1);
  EXPECT_EQ(arch.input.range, InputRange::kDynamic);
  EXPECT_EQ(arch.input.percentile, 100.0);
  EXPECT_EQ(arch.weights.w_bits, 8);
  EXPECT_EQ(arch.weights.scale, WeightScale::kPerColumn);
  EXPECT_EQ(arch.adc.model.model, "uniform");
  EXPECT_EQ(arch.adc.bits, 8);
  EXPECT_EQ(arch.adc.range, AdcRange::kFull);
  EXPECT_EQ(arch.adc.percentile, 99.99);
  EXPECT_FALSE(arch.device.programming.enabled());
  EXPECT_FALSE(arch.device.drift.enabled());
  EXPECT_EQ(arch.device.drift_compensation, DriftCompensation::kNone);
  EXPECT_FALSE(arch.device.read.enabled());
  EXPECT_FALSE(arch.device.output.enabled());
  EXPECT_FALSE(arch.device.stuck.enabled());
  EXPECT_FALSE(arch.device.ir_drop.enabled());
  EXPECT_EQ(arch.acam.in_bits, 8);
  EXPECT_EQ(arch.acam.out_bits, 8);
  EXPECT_EQ(arch.acam.encoding, AcamEncoding::kGray);
  EXPECT_EQ(arch.dmmul, DmmulMode::kDigital);
  EXPECT_EQ(arch.calibration_samples, 64);
  EXPECT_TRUE(arch.mapping.empty());
  EXPECT_EQ(arch.placement("linear"), Placement::kDigital);
  EXPECT_EQ(parse_architecture("name: mine\n", "dir/x.yaml").name, "mine");
}

TEST(Architecture, ModelParametersGetTheirDefaults) {
  Architecture arch = parse_architecture(
      "device:\n  programming: {model: polynomial}\n  drift: {model: power_law, nu_mean: 0.07}\n"
      "  read: proportional\n",
      "x.yaml");
  EXPECT_EQ(arch.device.programming.coefficients,
            default_coefficients("device.programming", "polynomial"));
  ASSERT_EQ(arch.device.programming.coefficients.size(), 3u);
  // aihwkit's PCM fit in µS at g_max = 25 µS, as fractions of g_max.
  EXPECT_DOUBLE_EQ(arch.device.programming.coefficients[1], 1.9650 / 25.0);
  EXPECT_EQ(arch.device.drift.param("nu_mean"), 0.07);
  EXPECT_EQ(arch.device.drift.param("t0"), 20.0);
  EXPECT_EQ(arch.device.read.model, "proportional");
  EXPECT_EQ(arch.device.read.param("sigma"),
            find_model_spec("device.read", "proportional")->params[0].default_value);
  EXPECT_THROW(arch.device.read.param("gamma"), Error);
}

TEST(Architecture, WrongTypeNamesFileAndKey) {
  EXPECT_EQ(parse_error("array: {cols: abc}", {}, "isaac.yaml"),
            "isaac.yaml: array.cols: expected an integer, got \"abc\"");
  EXPECT_EQ(parse_error("array: {rows: 1.5}"),
            "x.yaml: array.rows: expected an integer, got \"1.5\"");
  EXPECT_EQ(parse_error("array: {g_max: high}"),
            "x.yaml: array.g_max: expected a number, got \"high\"");
  EXPECT_EQ(parse_error("array: 3"), "x.yaml: array: expected a mapping, got a scalar");
  EXPECT_EQ(parse_error("input: {range: sometimes}"),
            "x.yaml: input.range: unknown value \"sometimes\" (expected one of: dynamic, static)");
  EXPECT_EQ(parse_error("mapping: {gelu: crossbar}"),
            "x.yaml: mapping.gelu: unknown value \"crossbar\" (expected one of: acam, digital)");
  EXPECT_EQ(parse_error("device: {programming: {model: polynomial, coefficients: 0.1}}"),
            "x.yaml: device.programming.coefficients: expected a non-empty list of numbers, got "
            "a scalar");
}

TEST(Architecture, UnknownKeySuggestsTheClosest) {
  EXPECT_EQ(parse_error("device: {programing: {model: constant}}"),
            "x.yaml: device.programing: unknown key (did you mean device.programming?)");
  EXPECT_EQ(parse_error("aray: {rows: 4}"), "x.yaml: aray: unknown key (did you mean array?)");
  EXPECT_EQ(parse_error("adc: {bit: 4}"), "x.yaml: adc.bit: unknown key (did you mean adc.bits?)");
  EXPECT_EQ(parse_error("mapping: {gelus: acam}"),
            "x.yaml: mapping.gelus: unknown key (did you mean mapping.gelu?)");
  std::string far = parse_error("zzzzzzzzzzzz: 1");
  EXPECT_NE(far.find("x.yaml: zzzzzzzzzzzz: unknown key (valid keys: name, array"),
            std::string::npos)
      << far;
}

TEST(Architecture, OutOfRangeGivesTheRange) {
  EXPECT_EQ(parse_error("adc: {bits: 0}"), "x.yaml: adc.bits: 0 is out of range [2, 24]");
  EXPECT_EQ(parse_error("array: {rows: 65537}"),
            "x.yaml: array.rows: 65537 is out of range [1, 65536]");
  EXPECT_EQ(parse_error("array: {cell_bits: 99999999999999999999}"),
            "x.yaml: array.cell_bits: 99999999999999999999 is out of range [1, 8]");
  EXPECT_EQ(parse_error("input: {in_bits: 4, dac_bits: 4}"),
            "x.yaml: input.dac_bits: 4 is out of range [1, 3]");
  EXPECT_EQ(parse_error("input: {in_bits: 2, dac_bits: 2}"),
            "x.yaml: input.dac_bits: 2 is out of range [1, 1]");
  EXPECT_EQ(parse_error("weights: {w_bits: 1}"),
            "x.yaml: weights.w_bits: 1 is out of range [2, 16]");
  EXPECT_EQ(parse_error("adc: {percentile: 0}"),
            "x.yaml: adc.percentile: 0 is out of range (0, 100]");
  EXPECT_EQ(parse_error("input: {percentile: 100.5}"),
            "x.yaml: input.percentile: 100.5 is out of range (0, 100]");
  EXPECT_EQ(parse_error("array: {g_min: -1e-6}"),
            "x.yaml: array.g_min: -1e-6 is out of range [0, inf]");
  EXPECT_EQ(parse_error("array: {g_min: 1e-4, g_max: 1e-5}"),
            "x.yaml: array.g_max: 1e-05 must be greater than array.g_min (0.0001)");
  EXPECT_EQ(parse_error("acam: {out_bits: 17}"),
            "x.yaml: acam.out_bits: 17 is out of range [1, 16]");
  EXPECT_EQ(parse_error("acam: {threshold_sigma: -0.1}"),
            "x.yaml: acam.threshold_sigma: -0.1 is out of range [0, inf]");
  EXPECT_EQ(parse_error("calibration: {samples: 0}"),
            "x.yaml: calibration.samples: 0 is out of range [1, 9223372036854775807]");
  EXPECT_EQ(parse_error("device: {read: {model: constant, sigma: -0.01}}"),
            "x.yaml: device.read.sigma: -0.01 is out of range [0, inf]");
  EXPECT_EQ(parse_error("device: {stuck: {model: random, p_on: 1.5}}"),
            "x.yaml: device.stuck.p_on: 1.5 is out of range [0, 1]");
  EXPECT_EQ(parse_error("device: {stuck: {model: random, p_on: 0.6, p_off: 0.5}}"),
            "x.yaml: device.stuck: p_off + p_on = 1.1 exceeds 1");
  EXPECT_EQ(parse_error("device: {drift: {model: power_law, t0: 20, t_inference: 10}}"),
            "x.yaml: device.drift.t_inference: 10 s is earlier than device.drift.t0 (20 s)");
}

TEST(Architecture, UnknownModelListsTheSlotsModels) {
  EXPECT_EQ(parse_error("device: {programming: {model: gausian}}"),
            "x.yaml: device.programming.model: unknown model \"gausian\" (device.programming "
            "models: none, constant, proportional, polynomial)");
  EXPECT_EQ(parse_error("adc: {model: none}"),
            "x.yaml: adc.model: unknown model \"none\" (adc models: uniform, ideal)");
}

TEST(Architecture, ParameterNotDeclaredByTheModel) {
  EXPECT_EQ(parse_error("device: {programming: {model: constant, nu_mean: 0.1}}"),
            "x.yaml: device.programming.nu_mean: not a parameter of model \"constant\" (its "
            "parameters: sigma)");
  EXPECT_EQ(parse_error("device: {drift: {model: power_law, nu_men: 0.1}}"),
            "x.yaml: device.drift.nu_men: not a parameter of model \"power_law\" (its parameters: "
            "nu_mean, nu_std, t0, t_inference) (did you mean device.drift.nu_mean?)");
  EXPECT_EQ(parse_error("device: {read: {sigma: 0.1}}"),
            "x.yaml: device.read.sigma: not a parameter of model \"none\" (it takes none)");
  EXPECT_EQ(parse_error("device: {programming: {model: constant, coefficients: [1]}}"),
            "x.yaml: device.programming.coefficients: not a parameter of model \"constant\" (its "
            "parameters: sigma)");
}

TEST(Architecture, SyntaxErrorGivesTheLine) {
  std::string message = parse_error("name: a\narray: {rows: 4\ninput: {}\n");
  EXPECT_EQ(message.rfind("x.yaml:", 0), 0u) << message;
  EXPECT_NE(message.find("YAML syntax error"), std::string::npos) << message;
  std::string tab = parse_error("name: a\narray:\n  rows: 4: 5\n");
  EXPECT_EQ(tab.rfind("x.yaml:3:", 0), 0u) << tab;
  EXPECT_EQ(parse_error("- 1\n- 2\n"),
            "x.yaml: expected a mapping of sections at the top level, got a list");
}

TEST(Architecture, MissingFileNamesIt) {
  try {
    load_architecture("/nonexistent/arch.yaml");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kBadInput);
    EXPECT_EQ(std::string(error.what()).rfind("/nonexistent/arch.yaml:", 0), 0u);
  }
}

TEST(Architecture, OverridesChangeValuesBeforeValidation) {
  std::string text =
      "array: {rows: 64}\ndevice:\n  programming: {model: constant, sigma: 0.02}\n"
      "mapping: {gelu: acam}\n";
  Architecture arch =
      parse_architecture(text, "x.yaml",
                         {"device.programming.sigma=0.05", "mapping.gelu=digital", "array.cols=32",
                          "device.read.model=proportional", "acam.encoding=binary", "name=over"});
  EXPECT_EQ(arch.device.programming.param("sigma"), 0.05);
  EXPECT_EQ(arch.placement("gelu"), Placement::kDigital);
  EXPECT_EQ(arch.array.rows, 64);
  EXPECT_EQ(arch.array.cols, 32);
  EXPECT_EQ(arch.device.read.model, "proportional");  // a missing section is created
  EXPECT_EQ(arch.acam.encoding, AcamEncoding::kBinary);
  EXPECT_EQ(arch.name, "over");
}

TEST(Architecture, OverridesAreValidated) {
  std::string text = "device:\n  programming: {model: constant, sigma: 0.02}\n";
  EXPECT_EQ(parse_error(text, {"device.programming.sigma=-1"}),
            "--set device.programming.sigma=-1: device.programming.sigma: -1 is out of range "
            "[0, inf]");
  EXPECT_EQ(parse_error(text, {"device.programming.model=proportionl"}),
            "--set device.programming.model=proportionl: device.programming.model: unknown model "
            "\"proportionl\" (device.programming "
            "models: none, constant, proportional, polynomial)");
  EXPECT_EQ(parse_error(text, {"device.programing.sigma=0.1"}),
            "--set device.programing.sigma=0.1: device.programing: unknown key (did you mean "
            "device.programming?)");
  // An error in the file itself still names the file.
  EXPECT_EQ(parse_error("adc: {bits: 1}\n", {"adc.range=full"}),
            "x.yaml: adc.bits: 1 is out of range [2, 24]");
  EXPECT_EQ(parse_error(text, {"adc.bits"}), "--set adc.bits: expected key.path=value");
  EXPECT_EQ(parse_error(text, {"=3"}), "--set =3: expected key.path=value (empty key in \"\")");
  EXPECT_EQ(parse_error(text, {"device.programming.sigma.x=1"}),
            "--set device.programming.sigma.x=1: device.programming.sigma is not a section");
}

TEST(Architecture, OverrideSetsAListAndExpandsABareModelName) {
  Architecture arch = parse_architecture(
      "device: {programming: constant}\n", "x.yaml",
      {"device.programming.model=polynomial", "device.programming.coefficients=[0.1,0.2]"});
  EXPECT_EQ(arch.device.programming.model, "polynomial");
  EXPECT_EQ(arch.device.programming.coefficients, (std::vector<double>{0.1, 0.2}));
  Architecture bare =
      parse_architecture("device: {read: constant}\n", "x.yaml", {"device.read.sigma=0.25"});
  EXPECT_EQ(bare.device.read.model, "constant");
  EXPECT_EQ(bare.device.read.param("sigma"), 0.25);
  EXPECT_EQ(parse_architecture("", "x.yaml", {"adc.model=ideal"}).adc.model.model, "ideal");
}

TEST(Architecture, AcamArrayDefaultsAreCamshapsAndBadValuesNameTheKey) {
  Architecture arch = parse_architecture("", "x.yaml");
  EXPECT_EQ(arch.acam_array.rows, 256);
  EXPECT_EQ(arch.acam_array.cols, 128);
  EXPECT_EQ(arch.acam_array.cell_bits, 4);
  EXPECT_EQ(arch.acam_array.search_cycles, 4);
  EXPECT_EQ(arch.acam_array.clock_hz, 1e9);
  EXPECT_EQ(arch.acam_array.c_pre, 40.95e-15);
  EXPECT_EQ(parse_error("acam_array: {rows: 0}"),
            "x.yaml: acam_array.rows: 0 is out of range [1, 65536]");
  EXPECT_EQ(parse_error("acam_array: {v_ml: -1}"),
            "x.yaml: acam_array.v_ml: -1 is out of range [0, inf]");
  EXPECT_EQ(parse_error("acam_array: {clock_hz: 0}"),
            "x.yaml: acam_array.clock_hz: 0 is out of range (0, inf]");
  EXPECT_EQ(parse_error("acam_array: {g_min: 1e-4, g_max: 1e-5}"),
            "x.yaml: acam_array.g_max: 1e-05 must be greater than acam_array.g_min (0.0001)");
  EXPECT_EQ(parse_error("acam_array: {colz: 3}"),
            "x.yaml: acam_array.colz: unknown key (did you mean acam_array.cols?)");
}

TEST(Architecture, ToYamlRoundTripsEveryField) {
  std::string text = R"(name: full
array: {rows: 256, cols: 64, cell_bits: 4, g_min: 0.5e-6, g_max: 3.3e-5}
input: {in_bits: 12, dac_bits: 3, range: static, percentile: 99.5}
weights: {w_bits: 6, scale: per_tensor}
adc: {model: uniform, bits: 11, range: calibrated, percentile: 99.9}
device:
  programming: {model: polynomial, coefficients: [0.01, 0.1, -0.03, 1e-3]}
  drift: {model: power_law, nu_mean: 0.06, nu_std: 0.02, t0: 25, t_inference: 86400, compensation: per_column}
  read: {model: constant, sigma: 0.003, mode: aggregated}
  output: {model: gaussian, sigma: 0.0007}
  stuck: {model: random, p_off: 0.01, p_on: 0.002, g_off: 1e-8}
  ir_drop: {model: linear, gamma: 0.1}
acam: {in_bits: 6, out_bits: 5, encoding: binary, threshold_sigma: 0.01, input_sigma: 0.002}
acam_array: {rows: 64, cols: 32, cell_bits: 3, search_cycles: 2, clock_hz: 5e8, g_min: 2e-6,
             g_max: 5e-5, g_hrs: 2e-8, g_lrs: 9e-5, v_ml: 0.7, v_ns: 0.1, v_sl: 0.9, v_dd: 0.4,
             v_th: 0.3, c_ml: 2e-15, c_pre: 3e-14, c_mlso: 4e-14, c_dl: 5e-16, r_w: 10,
             k1: 2e-4, p_reg_static: 1e-7, p_reg_dynamic: 1e-6, cell_area: 1e-12}
dmmul: {mode: crossbar}
calibration: {samples: 1000}
mapping: {linear: digital, conv: crossbar, gelu: acam, matmul: digital, sqrt: acam}
)";
  Architecture arch = parse_architecture(text, "full.yaml");
  EXPECT_EQ(arch.array.g_min, 0.5e-6);
  EXPECT_EQ(arch.device.drift_compensation, DriftCompensation::kPerColumn);
  EXPECT_EQ(arch.device.read_mode, ReadNoiseMode::kAggregated);
  EXPECT_EQ(arch.device.stuck.param("g_off"), 1e-8);
  EXPECT_EQ(arch.mapping.size(), 5u);
  EXPECT_EQ(arch.acam_array.rows, 64);
  EXPECT_EQ(arch.acam_array.k1, 2e-4);
  std::string printed = to_yaml(arch);
  Architecture again = parse_architecture(printed, "printed.yaml");
  expect_same(again, arch);
  EXPECT_EQ(to_yaml(again), printed);
  // Values that need all 17 digits survive too.
  Architecture awkward =
      parse_architecture("array: {g_max: 0.1}", "a.yaml", {"array.g_min=0.030000000000000002"});
  expect_same(parse_architecture(to_yaml(awkward), "b.yaml"), awkward);
}

TEST(Architecture, ReadNoiseModeFromYamlOrSetAndBadValuesNamed) {
  EXPECT_EQ(parse_architecture("name: a", "a.yaml").device.read_mode, ReadNoiseMode::kExact);
  EXPECT_EQ(parse_architecture("device: {read: {mode: aggregated}}", "a.yaml").device.read_mode,
            ReadNoiseMode::kAggregated);
  EXPECT_EQ(parse_architecture("device: {read: {model: constant, sigma: 0.01}}", "a.yaml",
                               {"device.read.mode=aggregated"})
                .device.read_mode,
            ReadNoiseMode::kAggregated);
  EXPECT_NE(
      parse_error("device: {read: {model: constant, mode: per_cell}}").find("device.read.mode"),
      std::string::npos);
  EXPECT_NE(parse_error("name: a", {"device.read.mode=fast"}).find("device.read.mode"),
            std::string::npos);
}

TEST(ModelRegistry, DefaultsLieInTheirRangesAndSlotsAreKnown) {
  const std::vector<std::string> slots = {
      "device.programming", "device.drift",   "device.read", "device.output",
      "device.stuck",       "device.ir_drop", "adc"};
  for (const ModelSpec& spec : model_specs()) {
    EXPECT_NE(std::find(slots.begin(), slots.end(), spec.slot), slots.end()) << spec.slot;
    EXPECT_EQ(find_model_spec(spec.slot, spec.name), &spec);
    EXPECT_FALSE(spec.description.empty()) << spec.name;
    EXPECT_EQ(spec.has_coefficients, !default_coefficients(spec.slot, spec.name).empty())
        << spec.name;
    for (const ParamSpec& param : spec.params) {
      SCOPED_TRACE(spec.slot + "." + spec.name + "." + param.name);
      EXPECT_LE(param.min, param.default_value);
      EXPECT_GE(param.max, param.default_value);
      EXPECT_FALSE(param.unit.empty());
      EXPECT_FALSE(param.description.empty());
    }
  }
  EXPECT_EQ(find_model_spec("device.read", "polynomial"), nullptr);
  EXPECT_EQ(model_names("device.read"),
            (std::vector<std::string>{"none", "constant", "proportional"}));
  EXPECT_EQ(model_names("adc"), (std::vector<std::string>{"uniform", "ideal"}));
}

TEST(Architecture, DescribeListsEveryKeyAndModel) {
  std::string text = describe_schema();
  for (const char* key : {"array.rows", "array.g_max", "input.dac_bits", "weights.scale",
                          "adc.percentile", "device.drift.compensation", "device.read.mode",
                          "acam.threshold_sigma", "dmmul.mode", "calibration.samples", "mapping"})
    EXPECT_NE(text.find(key), std::string::npos) << key;
  for (const ModelSpec& spec : model_specs()) {
    EXPECT_NE(text.find(spec.name + ": " + spec.description), std::string::npos) << spec.name;
    for (const ParamSpec& param : spec.params)
      EXPECT_NE(text.find(param.description), std::string::npos) << param.name;
  }
}

}  // namespace
}  // namespace aimc::arch
