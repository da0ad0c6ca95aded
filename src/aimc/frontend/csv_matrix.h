// Numeric CSV tables (tree-ensemble data: `aimc trees`): no header, one sample per line,
// comma-separated; an empty cell or "nan" (any case) is a missing value (NaN).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aimc::frontend {

struct CsvMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> values;  // [rows, cols] row-major
};

// Error(kBadInput) naming the file, line and column of a malformed cell or a line with
// another number of cells than the first. Blank lines at the end are ignored.
CsvMatrix read_csv_matrix(const std::string& path);
CsvMatrix parse_csv_matrix(const std::string& text, const std::string& source);
// The same, one line and one cell after the other (parse_csv_matrix parses chunks in
// parallel and falls back to this one for the error message); for tests.
CsvMatrix parse_csv_matrix_reference(const std::string& text, const std::string& source);

// One line per row, "%.9g" values (NaN as "nan").
std::string format_csv_matrix(const float* values, int64_t rows, int64_t cols);

}  // namespace aimc::frontend
