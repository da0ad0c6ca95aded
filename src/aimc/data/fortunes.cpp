#include "aimc/data/fortunes.h"

#include <zlib.h>

#include <filesystem>

#include "aimc/core/error.h"
#include "aimc/core/npy.h"

namespace aimc::data {

const std::vector<std::string>& fortunes_files() {
  static const std::vector<std::string> files = {
      "art",           "ascii-art",  "computers", "cookie",       "debian",   "definitions",
      "disclaimer",    "drugs",      "education", "ethnic",       "food",     "fortunes",
      "goedel",        "humorists",  "kids",      "knghtbrd",     "law",      "linux",
      "linuxcookie",   "literature", "love",      "magic",        "medicine", "men-women",
      "miscellaneous", "news",       "paradoxum", "people",       "perl",     "pets",
      "platitudes",    "politics",   "pratchett", "riddles",      "science",  "songs-poems",
      "sports",        "startrek",   "tao",       "translate-me", "wisdom",   "work",
      "zippy"};
  return files;
}

FortunesText load_fortunes(const std::string& dir) {
  FortunesText text;
  for (const std::string& name : fortunes_files()) {
    std::string path = (std::filesystem::path(dir) / name).string();
    if (!std::filesystem::exists(path))
      throw_bad_input(
          "{}: not found (install the Debian packages fortunes and fortunes-min, "
          "or point --data-dir at a folder holding the fortunes files)",
          path);
    text.bytes += read_file_bytes(path);
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes lengths as uInt: feed it in chunks.
  for (size_t at = 0; at < text.bytes.size(); at += 1 << 30) {
    size_t n = std::min<size_t>(1 << 30, text.bytes.size() - at);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(text.bytes.data() + at), static_cast<uInt>(n));
  }
  text.matches_reference = static_cast<int64_t>(text.bytes.size()) == kFortunesBytes &&
                           static_cast<uint32_t>(crc) == kFortunesCrc32;
  return text;
}

int64_t fortunes_token(unsigned char byte) {
  if (byte >= 32 && byte <= 126) return byte - 32;
  if (byte == '\n') return 95;
  if (byte == '\t') return 96;
  return 97;
}

std::vector<int64_t> fortunes_tokens(std::string_view text) {
  std::vector<int64_t> tokens(text.size());
  for (size_t i = 0; i < text.size(); ++i)
    tokens[i] = fortunes_token(static_cast<unsigned char>(text[i]));
  return tokens;
}

std::vector<int64_t> fortunes_validation(const std::vector<int64_t>& tokens) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t n_train = n * 9 / 10;
  return std::vector<int64_t>(tokens.begin() + n_train, tokens.end());
}

int64_t fortunes_window_count(const std::vector<int64_t>& validation, int64_t context) {
  AIMC_ASSERT(context > 0, "context {}", context);
  if (validation.empty()) return 0;
  return (static_cast<int64_t>(validation.size()) - 1) / context;
}

Tensor fortunes_batch(const std::vector<int64_t>& validation, int64_t context, int64_t begin,
                      int64_t end) {
  AIMC_ASSERT(0 <= begin && begin <= end && end <= fortunes_window_count(validation, context),
              "windows [{}, {})", begin, end);
  Tensor batch(DType::kI64, {end - begin, context});
  int64_t* dst = batch.data<int64_t>();
  for (int64_t k = begin; k < end; ++k)
    for (int64_t i = 0; i < context; ++i) *dst++ = validation[k * context + i];
  return batch;
}

}  // namespace aimc::data
