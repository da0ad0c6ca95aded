#include "aimc/ir/text_syntax.h"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstring>

namespace aimc::ir::text {

namespace {

bool is_word_byte(unsigned char c) {
  if (c >= 0x80) return true;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("_./-+#$~!^|\\;&'", c) != nullptr && c != '\0';
}

}  // namespace

size_t bare_word_length(std::string_view text, size_t pos) {
  size_t end = pos;
  while (end < text.size()) {
    auto c = static_cast<unsigned char>(text[end]);
    bool next_is_word =
        end + 1 < text.size() && is_word_byte(static_cast<unsigned char>(text[end + 1]));
    if (c == ':' && next_is_word) {
      ++end;
      continue;
    }
    if (c == '-' && end + 1 < text.size() && text[end + 1] == '>') break;
    if (!is_word_byte(c)) break;
    ++end;
  }
  return end - pos;
}

bool is_bare_word(std::string_view name, bool not_numeric) {
  if (name.empty() || bare_word_length(name, 0) != name.size()) return false;
  if (name.starts_with("//")) return false;
  if (name == "none") return false;
  if (not_numeric) {
    char c = name[0];
    if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.') return false;
  }
  return true;
}

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string name_text(std::string_view name, bool not_numeric) {
  return is_bare_word(name, not_numeric) ? std::string(name) : quote(name);
}

namespace {

// fmt's "{}" is the shortest text that reads back to the same value; an integral value needs a
// ".0" so that it is read as floating point.
template <typename T>
std::string exact_number(T value) {
  if (std::isnan(value)) {
    if constexpr (sizeof(T) == 8) {
      return fmt::format("nan:0x{:016x}", std::bit_cast<uint64_t>(value));
    } else {
      return fmt::format("nan:0x{:08x}", std::bit_cast<uint32_t>(value));
    }
  }
  std::string s = fmt::format("{}", value);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // 'n': inf
  return s;
}

template <typename T>
void append_integers(const Tensor& tensor, std::string& out) {
  auto values = tensor.values<T>();
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    if constexpr (std::is_same_v<T, bool>) {
      out += values[i] ? '1' : '0';
    } else {
      out += fmt::format("{}", values[i]);
    }
  }
}

template <typename T, typename Format>
void append_floats(const Tensor& tensor, std::string& out, Format format) {
  auto values = tensor.values<T>();
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    out += format(values[i]);
  }
}

}  // namespace

std::string exact_double(double value) {
  return exact_number(value);
}

std::string exact_float(float value) {
  return exact_number(value);
}

std::string tensor_values_text(const Tensor& tensor) {
  std::string out = "[";
  switch (tensor.dtype()) {
    case DType::kF32:
      append_floats<float>(tensor, out, exact_float);
      break;
    case DType::kF64:
      append_floats<double>(tensor, out, exact_double);
      break;
    case DType::kF16:
      // A half NaN keeps its own 16 bits; other halves are exact as floats.
      append_floats<Float16>(tensor, out, [](Float16 h) {
        float f = float16_to_float(h);
        return std::isnan(f) ? fmt::format("nan:0x{:04x}", h.bits) : exact_float(f);
      });
      break;
    case DType::kI64:
      append_integers<int64_t>(tensor, out);
      break;
    case DType::kI32:
      append_integers<int32_t>(tensor, out);
      break;
    case DType::kI16:
      append_integers<int16_t>(tensor, out);
      break;
    case DType::kI8:
      append_integers<int8_t>(tensor, out);
      break;
    case DType::kU64:
      append_integers<uint64_t>(tensor, out);
      break;
    case DType::kU32:
      append_integers<uint32_t>(tensor, out);
      break;
    case DType::kU16:
      append_integers<uint16_t>(tensor, out);
      break;
    case DType::kU8:
      append_integers<uint8_t>(tensor, out);
      break;
    case DType::kBool:
      append_integers<bool>(tensor, out);
      break;
  }
  return out + "]";
}

}  // namespace aimc::ir::text
