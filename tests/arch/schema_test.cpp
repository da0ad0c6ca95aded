// The schema rows are the one truth of the architecture YAML: every bound of every key is
// enforced with a message naming the key and its range, the bounds themselves are accepted,
// every preset round-trips through to_yaml, and docs/architecture-yaml.md lists every key.
#include "aimc/arch/schema.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "aimc/arch/architecture.h"
#include "aimc/core/error.h"

namespace aimc::arch {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;

// The message of the bad-input error that parsing with `overrides` throws ("" if none).
std::string rejection(const std::vector<std::string>& overrides) {
  try {
    parse_architecture("", "x.yaml", overrides);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    return e.what();
  }
  return "";
}

// Overrides that let a bound of `row` be tried alone (input.dac_bits up to 15 needs in_bits 16).
std::vector<std::string> with_context(const schema::KeyRow& row, const std::string& value) {
  std::vector<std::string> overrides;
  if (row.path == "input.dac_bits") overrides.push_back("input.in_bits=16");
  overrides.push_back(row.path + "=" + value);
  return overrides;
}

std::string number_text(double v) {
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

TEST(Schema, EveryNumericBoundIsEnforcedWithTheKeyAndItsRange) {
  int checked = 0;
  for (const schema::KeyRow& row : schema::key_rows()) {
    if (!row.scalar()) continue;
    SCOPED_TRACE(row.path);
    if (row.type == schema::KeyType::kInt) {
      const int64_t lo = static_cast<int64_t>(row.range.lo);
      std::string message = rejection(with_context(row, std::to_string(lo - 1)));
      EXPECT_NE(message.find(row.path), std::string::npos) << message;
      EXPECT_NE(message.find("out of range"), std::string::npos) << message;
      EXPECT_EQ(rejection(with_context(row, std::to_string(lo))), "");
      if (row.range.hi < 9e18) {
        const int64_t hi = static_cast<int64_t>(row.range.hi);
        message = rejection(with_context(row, std::to_string(hi + 1)));
        EXPECT_NE(message.find(row.path), std::string::npos) << message;
        EXPECT_NE(message.find(std::to_string(hi) + "]"), std::string::npos) << message;
        EXPECT_EQ(rejection(with_context(row, std::to_string(hi))), "");
      }
      ++checked;
    } else if (row.type == schema::KeyType::kFloat) {
      const double lo = row.range.lo;
      const std::string below = number_text(row.range.lo_open ? lo : lo - 1.0);
      const std::string message = rejection(with_context(row, below));
      EXPECT_NE(message.find(row.path + ": " + below + " is out of range " + row.range.text()),
                std::string::npos)
          << message;
      if (!row.range.lo_open && row.range_note.empty()) {
        EXPECT_EQ(rejection(with_context(row, number_text(lo))), "");
      }
      if (std::isfinite(row.range.hi)) {
        EXPECT_NE(rejection(with_context(row, number_text(row.range.hi * 2 + 1))), "");
        EXPECT_EQ(rejection(with_context(row, number_text(row.range.hi))), "");
      }
      EXPECT_NE(rejection(with_context(row, "nan")), "");
      ++checked;
    } else if (row.type == schema::KeyType::kEnum) {
      const std::string message = rejection(with_context(row, "no_such_value"));
      EXPECT_NE(message.find(row.path), std::string::npos) << message;
      for (const std::string& name : row.names) {
        EXPECT_NE(message.find(name), std::string::npos) << message;
        EXPECT_EQ(rejection(with_context(row, name)), "") << name;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 50);  // every scalar key of the file format
}

TEST(Schema, CrossKeyConstraintsNameTheKeys) {
  EXPECT_NE(rejection({"array.g_min=1e-4", "array.g_max=1e-5"}).find("array.g_max"),
            std::string::npos);
  // 65536 rows of 8-bit cells with 2-bit DAC steps read 65536 x 3 x 255 > 2^24: not exact.
  const std::string message =
      rejection({"array.rows=65536", "array.cell_bits=8", "input.dac_bits=2"});
  EXPECT_NE(message.find("array.rows x (2^input.dac_bits - 1) x (2^array.cell_bits - 1)"),
            std::string::npos)
      << message;
  EXPECT_EQ(rejection({"array.rows=65536", "array.cell_bits=8"}), "");  // 65536 x 255 < 2^24
}

std::vector<std::string> presets() {
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(kSource + "/presets"))
    if (entry.path().extension() == ".yaml" && entry.path().stem() != "gpu-a100")
      paths.push_back(entry.path().string());
  return paths;
}

TEST(Schema, DuplicateKeysAndExtraDocumentsAreRejected) {
  auto error_of = [](const std::string& text) -> std::string {
    try {
      parse_architecture(text, "x.yaml");
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(error_of("array: {rows: 64, rows: 128}"), "x.yaml: array.rows: the key is set twice");
  EXPECT_EQ(error_of("adc: {bits: 8}\nadc: {bits: 6}\n"), "x.yaml: adc: the key is set twice");
  EXPECT_NE(error_of("name: a\n---\nname: b\n").find("2 YAML documents"), std::string::npos);
  EXPECT_EQ(error_of("array: {rows: 64}\n"), "");
}

TEST(Schema, EveryPresetRoundTripsThroughToYaml) {
  ASSERT_GE(presets().size(), 5u);
  for (const std::string& path : presets()) {
    SCOPED_TRACE(path);
    const std::string once = to_yaml(load_architecture(path));
    EXPECT_EQ(to_yaml(parse_architecture(once, "again.yaml")), once);
  }
}

TEST(Schema, DerivedQuantitiesFollowTheirFormulas) {
  const Architecture a =
      parse_architecture("", "x.yaml",
                         {"weights.w_bits=8", "array.cell_bits=3", "input.in_bits=9",
                          "input.dac_bits=3", "adc.bits=6", "array.rows=64"});
  EXPECT_EQ(a.weight_slices(), 3);  // ceil(7 / 3)
  EXPECT_EQ(a.input_steps(), 3);    // ceil(8 / 3)
  EXPECT_EQ(a.input_limit(), 255);
  EXPECT_EQ(a.weight_limit(), 127);
  EXPECT_EQ(a.digit_max(), 7);
  EXPECT_EQ(a.level_max(), 7);
  EXPECT_EQ(a.adc_codes(), 31);
  EXPECT_EQ(a.full_scale(), 64.0 * 7 * 7);
}

TEST(Schema, TheDocsListEveryKey) {
  std::ifstream file(kSource + "/docs/architecture-yaml.md");
  std::stringstream text;
  text << file.rdbuf();
  const std::string doc = text.str();
  for (const schema::KeyRow& row : schema::key_rows()) {
    if (doc.find("`" + row.path + "`") != std::string::npos) continue;
    // Grouped rows: "| `acam_array.g_hrs`, `g_lrs` |".
    bool grouped = false;
    std::istringstream lines(doc);
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("| `" + row.section() + ".", 0) == 0 &&
          line.find("`" + row.key() + "`") != std::string::npos)
        grouped = true;
    EXPECT_TRUE(grouped) << row.path << " is not in docs/architecture-yaml.md";
  }
}

}  // namespace
}  // namespace aimc::arch
