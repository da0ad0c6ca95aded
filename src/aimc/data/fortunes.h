// Character-level English text from Debian's fortunes files: the fixed file list, the 98-token
// vocabulary, the 90/10 train/validation split and the evaluation windows. docs/datasets.md is
// the definition.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aimc/core/tensor.h"

namespace aimc::data {

inline constexpr const char* kFortunesDir = "/usr/share/games/fortunes";
inline constexpr int kFortunesVocab = 98;
inline constexpr int64_t kFortunesContext = 128;
// The concatenation Debian 12's fortunes 1:1.99.1-7.3 gives: its length and zlib CRC-32.
inline constexpr int64_t kFortunesBytes = 2576674;
inline constexpr uint32_t kFortunesCrc32 = 0xf3a3e381u;

// The 43 file names, in concatenation order.
const std::vector<std::string>& fortunes_files();

struct FortunesText {
  std::string bytes;       // the raw concatenation
  bool matches_reference;  // length and CRC-32 equal the documented ones
};

// Error(kBadInput) names a missing or unreadable file.
FortunesText load_fortunes(const std::string& dir);

// One token per byte: 32..126 -> b - 32, '\n' -> 95, '\t' -> 96, anything else -> 97.
int64_t fortunes_token(unsigned char byte);
std::vector<int64_t> fortunes_tokens(std::string_view text);

// Tokens [N*9/10, N): the validation text.
std::vector<int64_t> fortunes_validation(const std::vector<int64_t>& tokens);

// floor((|V| - 1) / context): windows whose inputs and shifted targets fit in V.
int64_t fortunes_window_count(const std::vector<int64_t>& validation, int64_t context);

// Inputs of windows [begin, end): int64 [end - begin, context], window k = V[k*context ...].
Tensor fortunes_batch(const std::vector<int64_t>& validation, int64_t context, int64_t begin,
                      int64_t end);

}  // namespace aimc::data
