// The `chip:` and `components:` sections: defaults, values, validation errors, the to_yaml
// round trip and the presets' numbers.
#include <gtest/gtest.h>

#include "aimc/arch/architecture.h"
#include "aimc/core/error.h"

namespace aimc::arch {
namespace {

const std::string kPresets = std::string(AIMC_SOURCE_DIR) + "/presets/";

std::string error_of(const std::string& text) {
  try {
    parse_architecture(text, "x.yaml");
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kBadInput) << error.what();
    return error.what();
  }
  return "";
}

TEST(ChipSection, DefaultsAndValues) {
  Architecture defaults = parse_architecture("", "x.yaml");
  EXPECT_EQ(defaults.chip.tiles, 16);
  EXPECT_EQ(defaults.chip.cores_per_tile, 8);
  EXPECT_EQ(defaults.chip.arrays_per_core, 16);
  EXPECT_EQ(defaults.chip.acam_units_per_core, 0);
  EXPECT_EQ(defaults.chip.adcs_per_array, 1.0);
  EXPECT_EQ(defaults.chip.clock_hz, 1e9);
  EXPECT_EQ(defaults.components.size(), component_names().size());
  EXPECT_EQ(defaults.component("adc").energy, 0.0);

  Architecture arch = parse_architecture(
      "chip: {tiles: 3, cores_per_tile: 5, arrays_per_core: 7, acam_units_per_core: 2,\n"
      "       adcs_per_array: 0.125, clock_hz: 2e9}\n"
      "components:\n"
      "  adc: {energy: 1.5e-12, leakage: 2e-4, area: 1.2e-9, latency: 1e-9}\n"
      "  router: {energy: 3e-14}\n",
      "x.yaml");
  EXPECT_EQ(arch.chip.tiles, 3);
  EXPECT_EQ(arch.chip.cores_per_tile, 5);
  EXPECT_EQ(arch.chip.arrays_per_core, 7);
  EXPECT_EQ(arch.chip.acam_units_per_core, 2);
  EXPECT_EQ(arch.chip.adcs_per_array, 0.125);
  EXPECT_EQ(arch.chip.clock_hz, 2e9);
  EXPECT_EQ(arch.component("adc").energy, 1.5e-12);
  EXPECT_EQ(arch.component("adc").leakage, 2e-4);
  EXPECT_EQ(arch.component("adc").area, 1.2e-9);
  EXPECT_EQ(arch.component("adc").latency, 1e-9);
  EXPECT_EQ(arch.component("router").energy, 3e-14);
  EXPECT_EQ(arch.component("router").area, 0.0);

  Architecture again = parse_architecture(to_yaml(arch), "round_trip.yaml");
  EXPECT_EQ(again.chip.adcs_per_array, 0.125);
  EXPECT_EQ(again.chip.tiles, 3);
  EXPECT_EQ(again.component("adc").latency, 1e-9);
  EXPECT_EQ(again.component("router").energy, 3e-14);
}

TEST(ChipSection, ValidationErrorsNameTheKey) {
  EXPECT_NE(error_of("chip: {tile: 3}\n").find("chip.tile: unknown key (did you mean chip.tiles?)"),
            std::string::npos)
      << error_of("chip: {tile: 3}\n");
  EXPECT_NE(error_of("chip: {tiles: 0}\n").find("chip.tiles: 0 is out of range"),
            std::string::npos);
  EXPECT_NE(error_of("chip: {adcs_per_array: 0}\n")
                .find("chip.adcs_per_array: 0 is out of range (0, 65536]"),
            std::string::npos);
  EXPECT_NE(error_of("chip: {clock_hz: -1}\n").find("chip.clock_hz"), std::string::npos);
  EXPECT_NE(error_of("components: {adcc: {energy: 1}}\n")
                .find("components.adcc: unknown key (did you mean components.adc?)"),
            std::string::npos);
  EXPECT_NE(error_of("components: {adc: {energyy: 1}}\n")
                .find("components.adc.energyy: unknown key (did you mean components.adc.energy?)"),
            std::string::npos);
  EXPECT_NE(
      error_of("components: {adc: {area: -1}}\n").find("components.adc.area: -1 is out of range"),
      std::string::npos);
  EXPECT_NE(error_of("components: {adc: 3}\n").find("components.adc: expected a mapping"),
            std::string::npos);
  EXPECT_NE(describe_schema().find("components.<name>.energy"), std::string::npos);
  EXPECT_NE(describe_schema().find("chip.adcs_per_array"), std::string::npos);
}

TEST(ChipSection, NetworkAndBufferDefaultsValuesAndRoundTrip) {
  Architecture defaults = parse_architecture("", "x.yaml");
  EXPECT_EQ(defaults.chip.network.topology, NetworkTopology::kMesh);
  EXPECT_EQ(defaults.chip.network.link_width, 32);
  EXPECT_EQ(defaults.chip.buffer.bytes_per_core, 2048);
  EXPECT_EQ(defaults.chip.buffer.width_bits, 256);

  Architecture arch = parse_architecture(
      "chip:\n"
      "  network: {topology: ring, link_width: 64}\n"
      "  buffer: {bytes_per_core: 65536, width_bits: 128}\n",
      "x.yaml");
  EXPECT_EQ(arch.chip.network.topology, NetworkTopology::kRing);
  EXPECT_EQ(arch.chip.network.link_width, 64);
  EXPECT_EQ(arch.chip.buffer.bytes_per_core, 65536);
  EXPECT_EQ(arch.chip.buffer.width_bits, 128);
  // A section given in part keeps the other key's default.
  EXPECT_EQ(parse_architecture("chip: {network: {link_width: 8}}", "x.yaml").chip.network.topology,
            NetworkTopology::kMesh);

  Architecture again = parse_architecture(to_yaml(arch), "round_trip.yaml");
  EXPECT_EQ(again.chip.network.topology, NetworkTopology::kRing);
  EXPECT_EQ(again.chip.network.link_width, 64);
  EXPECT_EQ(again.chip.buffer.bytes_per_core, 65536);
  EXPECT_EQ(again.chip.buffer.width_bits, 128);

  Architecture overridden = parse_architecture(
      "", "x.yaml", {"chip.network.topology=ring", "chip.buffer.width_bits=512"});
  EXPECT_EQ(overridden.chip.network.topology, NetworkTopology::kRing);
  EXPECT_EQ(overridden.chip.buffer.width_bits, 512);
}

TEST(ChipSection, NetworkAndBufferErrorsNameTheKey) {
  EXPECT_EQ(error_of("chip: {network: {topology: ring2}}\n"),
            "x.yaml: chip.network.topology: unknown value \"ring2\" (expected one of: mesh, "
            "ring) (did you mean ring?)");
  EXPECT_EQ(error_of("chip: {network: {topology: torus}}\n"),
            "x.yaml: chip.network.topology: unknown value \"torus\" (expected one of: mesh, "
            "ring)");
  EXPECT_EQ(error_of("chip: {network: {link_widht: 8}}\n"),
            "x.yaml: chip.network.link_widht: unknown key (did you mean chip.network.link_width?)");
  EXPECT_EQ(error_of("chip: {network: {link_width: 0}}\n"),
            "x.yaml: chip.network.link_width: 0 is out of range [1, 1048576]");
  EXPECT_EQ(error_of("chip: {network: {link_width: 1.5}}\n"),
            "x.yaml: chip.network.link_width: expected an integer, got \"1.5\"");
  EXPECT_EQ(error_of("chip: {network: mesh}\n"),
            "x.yaml: chip.network: expected a mapping, got a scalar");
  EXPECT_EQ(error_of("chip: {netwrok: {topology: mesh}}\n"),
            "x.yaml: chip.netwrok: unknown key (did you mean chip.network?)");
  EXPECT_EQ(error_of("chip: {buffer: {bytes_per_cor: 8}}\n"),
            "x.yaml: chip.buffer.bytes_per_cor: unknown key (did you mean "
            "chip.buffer.bytes_per_core?)");
  EXPECT_EQ(error_of("chip: {buffer: {bytes_per_core: 0}}\n"),
            "x.yaml: chip.buffer.bytes_per_core: 0 is out of range [1, 1099511627776]");
  EXPECT_EQ(error_of("chip: {buffer: {width_bits: wide}}\n"),
            "x.yaml: chip.buffer.width_bits: expected an integer, got \"wide\"");
  for (const char* key : {"chip.network.topology", "chip.network.link_width",
                          "chip.buffer.bytes_per_core", "chip.buffer.width_bits"})
    EXPECT_NE(describe_schema().find(key), std::string::npos) << key;
}

TEST(ChipSection, PresetsCarryTheirNumbers) {
  Architecture isaac = load_architecture(kPresets + "isaac.yaml");
  EXPECT_EQ(isaac.chip.tiles, 168);
  EXPECT_EQ(isaac.chip.cores_per_tile, 12);
  EXPECT_EQ(isaac.chip.arrays_per_core, 8);
  EXPECT_EQ(isaac.component("adc").energy, 1.6667e-12);
  EXPECT_EQ(isaac.component("crossbar").latency, 1e-7);
  Architecture puma = load_architecture(kPresets + "puma.yaml");
  EXPECT_EQ(puma.chip.adcs_per_array, 0.25);
  EXPECT_EQ(puma.component("dac").leakage, 3.9e-7);
  Architecture race = load_architecture(kPresets + "race.yaml");
  EXPECT_GT(race.chip.acam_units_per_core, 0);
  EXPECT_GT(race.component("acam").energy, 0.0);
  for (const Architecture* arch : {&isaac, &puma, &race}) {
    EXPECT_EQ(arch->chip.network.topology, NetworkTopology::kMesh) << arch->name;
    EXPECT_EQ(arch->chip.network.link_width, 32) << arch->name;
    EXPECT_EQ(arch->chip.buffer.bytes_per_core, 2048) << arch->name;
    EXPECT_EQ(arch->chip.buffer.width_bits, 256) << arch->name;
  }
  // ISAAC's eDRAM: 20.45 pJ per 256-bit access, given per byte.
  EXPECT_NEAR(isaac.component("buffer").energy * isaac.chip.buffer.width_bits / 8, 20.45e-12,
              0.01e-12);
}

}  // namespace
}  // namespace aimc::arch

namespace aimc::arch {
namespace {

// components.adc.bits: the ADC numbers are for that resolution and double per bit above it.
TEST(ComponentsSection, AdcNumbersScaleWithTheirBits) {
  const std::string text =
      "adc: {bits: 10}\ncomponents:\n  adc: {energy: 8e-12, leakage: 1e-4, area: 4e-9, "
      "latency: 1e-9, bits: 10}\n";
  const ComponentCost at10 = parse_architecture(text, "x.yaml").component("adc");
  EXPECT_EQ(at10.energy, 8e-12);
  EXPECT_EQ(at10.bits, 10);
  const Architecture at8 = parse_architecture(text, "x.yaml", {"adc.bits=8"});
  EXPECT_DOUBLE_EQ(at8.component("adc").energy, 2e-12);
  EXPECT_DOUBLE_EQ(at8.component("adc").leakage, 2.5e-5);
  EXPECT_DOUBLE_EQ(at8.component("adc").area, 1e-9);
  EXPECT_EQ(at8.component("adc").latency, 1e-9);  // the same rate
  EXPECT_DOUBLE_EQ(parse_architecture(text, "x.yaml", {"adc.bits=12"}).component("adc").energy,
                   32e-12);
  // Printed and read again, the numbers stay those of adc.bits = 8 (no second scaling).
  const Architecture again = parse_architecture(to_yaml(at8), "printed.yaml");
  EXPECT_EQ(again.component("adc").energy, at8.component("adc").energy);
  EXPECT_EQ(again.component("adc").bits, 8);
  // Without bits the numbers hold for any resolution.
  EXPECT_EQ(parse_architecture("components:\n  adc: {energy: 8e-12}\n", "x.yaml", {"adc.bits=6"})
                .component("adc")
                .energy,
            8e-12);
  EXPECT_NE(error_of("components:\n  adc: {bits: 25}\n").find("components.adc.bits"),
            std::string::npos);
  EXPECT_NE(error_of("components:\n  dac: {bits: 4}\n").find("components.dac"), std::string::npos);
  // race.yaml's 10-bit ADC at 8 bits costs a quarter.
  EXPECT_DOUBLE_EQ(
      load_architecture(kPresets + "race.yaml", {"adc.bits=8"}).component("adc").energy,
      load_architecture(kPresets + "race.yaml").component("adc").energy / 4);
}

}  // namespace
// readout.* (NL-DPE's ADC-less readout, docs/architecture-yaml.md).
TEST(ReadoutSection, DefaultsValuesAndTheirChecks) {
  const Architecture defaults = parse_architecture("", "x.yaml");
  EXPECT_EQ(defaults.readout.mode, ReadoutMode::kAdc);
  EXPECT_EQ(defaults.readout.depth("identity"), 8);
  EXPECT_EQ(defaults.readout.depth("exp"), 0);  // not a readout function
  const Architecture a = parse_architecture(
      "readout: {mode: acam, depth_gelu: 5, depth_relu: 0, out_bits: 6, encoding: binary,\n"
      "          rows_per_column: 99, threshold_sigma: 0.01, input_sigma: 0.02, percentile: 99}\n",
      "x.yaml");
  EXPECT_EQ(a.readout.mode, ReadoutMode::kAcam);
  EXPECT_EQ(a.readout.depth("gelu"), 5);
  EXPECT_EQ(a.readout.depth("relu"), 0);
  const AcamConfig unit = a.readout.unit_config("gelu");
  EXPECT_EQ(unit.in_bits, 5);
  EXPECT_EQ(unit.out_bits, 6);
  EXPECT_EQ(unit.encoding, AcamEncoding::kBinary);
  EXPECT_EQ(unit.threshold_sigma, 0.01);
  EXPECT_EQ(unit.input_sigma, 0.02);
  EXPECT_EQ(a.readout.rows_per_column, 99);
  EXPECT_EQ(a.readout.percentile, 99.0);

  EXPECT_NE(error_of("readout: {mode: acam, depth_identity: 0}")
                .find("x.yaml: readout.depth_identity: must be >= 1 with readout.mode acam"),
            std::string::npos);
  EXPECT_EQ(error_of("readout: {depth_identity: 0}"), "");  // ADC readout: unused
  EXPECT_NE(error_of("readout: {mode: acam}\ndmmul: {mode: crossbar}")
                .find("x.yaml: readout.mode: acam does not take dmmul.mode crossbar"),
            std::string::npos);
  EXPECT_NE(error_of("readout: {mode: flash}").find("readout.mode"), std::string::npos);
  EXPECT_NE(error_of("readout: {depth_gelu: 17}").find("readout.depth_gelu"), std::string::npos);
  EXPECT_NE(error_of("readout: {depth_exp: 8}").find("readout.depth_exp: unknown key"),
            std::string::npos);
  // --set reaches every key, and the readout unit is a component.
  const Architecture race = load_architecture(
      kPresets + "race.yaml",
      {"readout.mode=acam", "readout.depth_tanh=3", "components.acam_readout.energy=1e-12"});
  EXPECT_EQ(race.readout.mode, ReadoutMode::kAcam);
  EXPECT_EQ(race.readout.depth("tanh"), 3);
  EXPECT_EQ(race.component("acam_readout").energy, 1e-12);
  const Architecture nldpe = load_architecture(kPresets + "nldpe.yaml");
  EXPECT_EQ(nldpe.readout.mode, ReadoutMode::kAcam);
  EXPECT_GT(nldpe.component("acam_readout").energy, 0.0);
  EXPECT_EQ(nldpe.component("adc").energy, 0.0);
}

TEST(ReadoutSection, ReadoutUnitNumbersScaleWithTheDeepestTree) {
  const std::string base =
      "readout: {mode: acam, depth_identity: 8, depth_relu: 8, depth_gelu: 8, depth_silu: 8, "
      "depth_sigmoid: 8, depth_tanh: 8}\n"
      "components: {acam_readout: {energy: 4.0e-12, leakage: 1.0e-5, area: 2.0e-11, "
      "latency: 4.0e-9, depth: 8}}\n";
  const Architecture at8 = parse_architecture(base, "x.yaml");
  EXPECT_EQ(at8.component("acam_readout").energy, 4.0e-12);
  EXPECT_EQ(at8.component("acam_readout").depth, 8);
  // The deepest tree sets the unit: depth 6 everywhere is 1/4, one function at 10 is 4x.
  std::vector<std::string> six;
  for (const char* f : {"identity", "relu", "gelu", "silu", "sigmoid", "tanh"})
    six.push_back(std::string("readout.depth_") + f + "=6");
  const Architecture at6 = parse_architecture(base, "x.yaml", six);
  EXPECT_DOUBLE_EQ(at6.component("acam_readout").energy, 1.0e-12);
  EXPECT_DOUBLE_EQ(at6.component("acam_readout").leakage, 2.5e-6);
  EXPECT_DOUBLE_EQ(at6.component("acam_readout").area, 5.0e-12);
  EXPECT_EQ(at6.component("acam_readout").latency, 4.0e-9);
  EXPECT_EQ(at6.component("acam_readout").depth, 6);
  const Architecture at10 = parse_architecture(base, "x.yaml", {"readout.depth_gelu=10"});
  EXPECT_DOUBLE_EQ(at10.component("acam_readout").energy, 16.0e-12);
  // Printing and re-reading keep the scaled numbers.
  const Architecture again = parse_architecture(to_yaml(at6), "again.yaml");
  EXPECT_DOUBLE_EQ(again.component("acam_readout").energy, 1.0e-12);
  EXPECT_EQ(again.component("acam_readout").depth, 6);
  // Without depth the numbers hold for any depth.
  const Architecture any = parse_architecture(
      "readout: {mode: acam, depth_identity: 4}\ncomponents: {acam_readout: {energy: 1.0e-12}}",
      "x.yaml");
  EXPECT_EQ(any.component("acam_readout").energy, 1.0e-12);
  EXPECT_NE(error_of("components: {acam_readout: {depth: 17}}").find("acam_readout.depth"),
            std::string::npos);
  EXPECT_NE(error_of("components: {adc: {depth: 8}}").find("unknown key"), std::string::npos);
}

}  // namespace aimc::arch
