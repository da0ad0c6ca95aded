#include "aimc/cli/commands.h"

#include <charconv>
#include <cstdint>

namespace aimc::cli {

CLI::Validator seed_in_range() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        uint64_t value = 0;
        const char* end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (text.empty() || ec != std::errc() || ptr != end)
          return "expected an integer in [0, 18446744073709551615], got " + text;
        return "";
      },
      "an integer in [0, 2^64)");
}

std::string sanitize_file_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    out += ok ? c : '_';
  }
  // Never a hidden file, "." or "..".
  if (out.empty() || out[0] == '.') out = "_" + out;
  return out;
}

}  // namespace aimc::cli
