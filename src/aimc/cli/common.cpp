#include "aimc/cli/commands.h"

namespace aimc::cli {

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
