#include "aimc/frontend/csv_matrix.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>

#include "aimc/core/error.h"

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

}  // namespace

CsvMatrix parse_csv_matrix(const std::string& text, const std::string& source) {
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

CsvMatrix read_csv_matrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input("{}: cannot open the file", path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_csv_matrix(text.str(), path);
}

std::string format_csv_matrix(const float* values, int64_t rows, int64_t cols) {
  fmt::memory_buffer out;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      float v = values[r * cols + c];
      if (c) out.push_back(',');
      if (std::isnan(v)) {
        fmt::format_to(std::back_inserter(out), "nan");
      } else {
        fmt::format_to(std::back_inserter(out), "{:.9g}", v);
      }
    }
    out.push_back('\n');
  }
  return fmt::to_string(out);
}

}  // namespace aimc::frontend
