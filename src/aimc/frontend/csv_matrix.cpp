#include "aimc/frontend/csv_matrix.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>

#include "aimc/core/error.h"
#include "aimc/core/parallel.h"

namespace aimc::frontend {

namespace {

std::string_view trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

bool is_nan_text(std::string_view cell) {
  if (cell.size() != 3) return false;
  return (cell[0] | 0x20) == 'n' && (cell[1] | 0x20) == 'a' && (cell[2] | 0x20) == 'n';
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

// std::from_chars for float, with a fast path for short decimals (as "%.9g" writes them):
// w * 10^e with w < 2^53 and |e| <= 22 is one correctly rounded double operation (both
// operands are exact), and rounding that double to float gives the correctly rounded float
// unless the double lies exactly halfway between two floats (then, and for anything else,
// std::from_chars decides). The syntax and the end pointer are from_chars' own.
std::from_chars_result parse_float(const char* first, const char* last, float& value) {
  static constexpr double kPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                            1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const char* p = first;
  const bool negative = p != last && *p == '-';
  if (negative) ++p;
  uint64_t mantissa = 0;
  int digits = 0, exponent = 0;
  const char* digits_begin = p;
  while (p != last && *p >= '0' && *p <= '9') {
    mantissa = mantissa * 10 + static_cast<uint64_t>(*p - '0');
    digits += mantissa != 0;  // leading zeros are not significant
    ++p;
  }
  bool any_digit = p != digits_begin;
  if (p != last && *p == '.') {
    const char* fraction_begin = ++p;
    while (p != last && *p >= '0' && *p <= '9') {
      mantissa = mantissa * 10 + static_cast<uint64_t>(*p - '0');
      digits += mantissa != 0;
      ++p;
    }
    exponent = -static_cast<int>(p - fraction_begin);
    any_digit = any_digit || p != fraction_begin;
  }
  if (!any_digit || digits > 15) return std::from_chars(first, last, value);
  if (p != last && (*p == 'e' || *p == 'E')) {
    const char* q = p + 1;
    const bool exponent_negative = q != last && *q == '-';
    if (q != last && (*q == '-' || *q == '+')) ++q;
    if (q != last && *q >= '0' && *q <= '9') {
      int written = 0;
      while (q != last && *q >= '0' && *q <= '9' && written < 1000) {
        written = written * 10 + (*q - '0');
        ++q;
      }
      if (q != last && *q >= '0' && *q <= '9') return std::from_chars(first, last, value);
      exponent += exponent_negative ? -written : written;
      p = q;
    }
  }
  if (exponent < -22 || exponent > 22) return std::from_chars(first, last, value);
  double exact = static_cast<double>(mantissa);
  exact = exponent < 0 ? exact / kPowersOfTen[-exponent] : exact * kPowersOfTen[exponent];
  if (exact != 0 && (exact < 0x1p-125 || exact > 0x1p127))
    return std::from_chars(first, last, value);
  // A float keeps 23 of the double's 52 fraction bits: halfway when the other 29 are 100...0.
  const uint64_t bits = std::bit_cast<uint64_t>(exact);
  if ((bits & ((uint64_t{1} << 29) - 1)) == (uint64_t{1} << 28))
    return std::from_chars(first, last, value);
  value = static_cast<float>(negative ? -exact : exact);
  return {p, std::errc()};
}

// One cell of the fast parser at `p` (a line ends at `end`): the same cells as
// parse_csv_matrix_reference accepts, or false. On success `p` is at the ',' or `end`.
bool parse_cell(const char*& p, const char* end, float& value) {
  while (p != end && is_blank(*p)) ++p;
  if (p == end || *p == ',') {
    value = std::numeric_limits<float>::quiet_NaN();
    return true;
  }
  const char* number_end;
  if (end - p >= 3 && is_nan_text(std::string_view(p, 3))) {
    value = std::numeric_limits<float>::quiet_NaN();
    number_end = p + 3;
  } else {
    const char* digits = *p == '+' ? p + 1 : p;
    auto [stop, error] = parse_float(digits, end, value);
    if (error != std::errc() || !std::isfinite(value)) return false;
    number_end = stop;
  }
  p = number_end;
  while (p != end && is_blank(*p)) ++p;
  return p == end || *p == ',';
}

// The lines of [text, end) (each ends at '\n' or at `end`) of `cols` cells each into values;
// false on anything unusual (the reference parser then names the fault).
bool parse_lines(const char* text, const char* end, int64_t cols, float* values) {
  for (;;) {
    const char* line_end = static_cast<const char*>(std::memchr(text, '\n', end - text));
    if (line_end == nullptr) line_end = end;
    for (int64_t c = 0; c < cols; ++c) {
      if (c > 0) {
        if (text == line_end || *text != ',') return false;
        ++text;
      }
      if (!parse_cell(text, line_end, values[c])) return false;
    }
    if (text != line_end) return false;  // more cells than the first line
    if (line_end == end) return true;
    values += cols;
    text = line_end + 1;
  }
}

}  // namespace

CsvMatrix parse_csv_matrix_reference(const std::string& text, const std::string& source) {
  CsvMatrix matrix;
  // Blank lines at the end are ignored.
  std::string_view rest(text);
  size_t last = rest.find_last_not_of(" \t\r\n");
  rest = last == std::string_view::npos ? std::string_view() : rest.substr(0, last + 1);
  int64_t line_number = 0;
  while (!rest.empty()) {
    size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    ++line_number;
    int64_t column = 0;
    size_t position = 0;
    while (true) {
      size_t comma = line.find(',', position);
      std::string_view cell = trim(line.substr(
          position, comma == std::string_view::npos ? std::string_view::npos : comma - position));
      ++column;
      if (cell.empty() || is_nan_text(cell)) {
        matrix.values.push_back(std::numeric_limits<float>::quiet_NaN());
      } else {
        std::string_view digits = cell[0] == '+' ? cell.substr(1) : cell;
        float number = 0;
        auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
        if (error != std::errc() || end != digits.data() + digits.size() || !std::isfinite(number))
          throw_bad_input("{}: line {}, column {}: \"{}\" is not a finite number", source,
                          line_number, column, cell);
        matrix.values.push_back(number);
      }
      if (comma == std::string_view::npos) break;
      position = comma + 1;
    }
    if (line_number == 1) matrix.cols = column;
    if (column != matrix.cols)
      throw_bad_input("{}: line {}: {} columns, expected {} (as on line 1)", source, line_number,
                      column, matrix.cols);
    ++matrix.rows;
  }
  return matrix;
}

// Chunks of about 1 MiB that end at line ends are parsed in parallel into their rows (the
// split depends on the text only); on any fault the reference parser reruns for the message.
CsvMatrix parse_csv_matrix(const std::string& text, const std::string& source) {
  std::string_view body(text);
  const size_t last = body.find_last_not_of(" \t\r\n");
  if (last == std::string_view::npos) return {};
  body = body.substr(0, last + 1);
  constexpr size_t kChunkBytes = size_t{1} << 20;
  std::vector<size_t> chunk_begin = {0};
  while (body.size() - chunk_begin.back() > kChunkBytes) {
    const size_t newline = body.find('\n', chunk_begin.back() + kChunkBytes);
    if (newline == std::string_view::npos) break;
    chunk_begin.push_back(newline + 1);
  }
  chunk_begin.push_back(body.size() + 1);  // as if a newline followed the last line
  const int64_t chunks = static_cast<int64_t>(chunk_begin.size()) - 1;
  std::vector<int64_t> chunk_rows(chunks + 1, 0);
  parallel_for(0, chunks, 1, [&](int64_t k) {
    const size_t end = chunk_begin[k + 1] - 1;  // the chunk's last '\n', or the end
    chunk_rows[k + 1] = std::count(body.begin() + chunk_begin[k], body.begin() + end, '\n') + 1;
  });
  for (int64_t k = 0; k < chunks; ++k) chunk_rows[k + 1] += chunk_rows[k];
  CsvMatrix matrix;
  matrix.rows = chunk_rows[chunks];
  const std::string_view first_line = body.substr(0, body.find('\n'));
  matrix.cols = std::count(first_line.begin(), first_line.end(), ',') + 1;
  matrix.values.resize(matrix.rows * matrix.cols);
  std::vector<char> chunk_ok(chunks, 0);
  parallel_for(0, chunks, 1, [&](int64_t k) {
    const char* begin = body.data() + chunk_begin[k];
    const char* end = body.data() + chunk_begin[k + 1] - 1;
    chunk_ok[k] =
        parse_lines(begin, end, matrix.cols, matrix.values.data() + chunk_rows[k] * matrix.cols);
  });
  if (std::find(chunk_ok.begin(), chunk_ok.end(), 0) != chunk_ok.end())
    return parse_csv_matrix_reference(text, source);
  return matrix;
}

CsvMatrix read_csv_matrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input("{}: cannot open the file", path);
  in.seekg(0, std::ios::end);
  std::string text(static_cast<size_t>(std::max<std::streamoff>(0, in.tellg())), '\0');
  in.seekg(0, std::ios::beg);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (!in) throw_bad_input("{}: cannot read the file", path);
  return parse_csv_matrix(text, path);
}

// std::to_chars with a precision formats as printf's "%.9g" does (the tests check it against
// fmt's "{:.9g}"). Rows are formatted in parallel in fixed chunks.
std::string format_csv_matrix(const float* values, int64_t rows, int64_t cols) {
  constexpr int64_t kChunkRows = 8192;
  const int64_t chunks = (rows + kChunkRows - 1) / kChunkRows;
  std::vector<std::string> parts(chunks);
  parallel_for(0, chunks, 1, [&](int64_t k) {
    const int64_t first = k * kChunkRows, last = std::min(rows, first + kChunkRows);
    std::string& part = parts[k];
    char cell[64];
    for (int64_t r = first; r < last; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        const float v = values[r * cols + c];
        if (c) part.push_back(',');
        if (std::isnan(v)) {
          part.append("nan");
        } else {
          auto result = std::to_chars(cell, cell + sizeof(cell), v, std::chars_format::general, 9);
          part.append(cell, result.ptr);
        }
      }
      part.push_back('\n');
    }
  });
  size_t size = 0;
  for (const std::string& part : parts) size += part.size();
  std::string out;
  out.reserve(size);
  for (const std::string& part : parts) out += part;
  return out;
}

}  // namespace aimc::frontend
