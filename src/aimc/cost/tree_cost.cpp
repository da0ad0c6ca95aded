#include "aimc/cost/tree_cost.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "aimc/core/error.h"

namespace aimc::cost {

namespace {

// Current of one half cell (a bound's cell) at `level`, capped by the transistor that
// discharges the match line (X-TIME acam.cc calcPowerSL).
double half_cell_current(const arch::AcamArrayConfig& a, double conductance) {
  double cap = 0.5 * a.k1 * (a.v_ml - a.v_th) * (a.v_ml - a.v_th);
  return std::min(a.v_sl * conductance, cap);
}

double level_conductance(const arch::AcamArrayConfig& a, int64_t level) {
  int64_t top = (int64_t{1} << a.cell_bits) - 1;
  return a.g_min + static_cast<double>(level) * (a.g_max - a.g_min) / static_cast<double>(top);
}

// Source-line power of one row's bound stored over cells (a don't-care bound sits in the
// high- or low-resistance state). `code` is clamped to the code range.
double bound_power(const arch::AcamArrayConfig& a, const ir::TreeRows& rows, bool active,
                   int64_t code, bool low_bound) {
  double power = 0;
  int64_t top_code = (int64_t{1} << rows.in_bits) - 1;
  code = std::clamp<int64_t>(code, 0, top_code);
  for (int cell = 0; cell < rows.cells_per_threshold; ++cell) {
    double g;
    if (!active) {
      g = low_bound ? a.g_hrs : a.g_lrs;
    } else {
      int64_t digit = (code >> (rows.cell_bits * cell)) & ((int64_t{1} << rows.cell_bits) - 1);
      g = level_conductance(a, digit);
    }
    power += a.v_sl * half_cell_current(a, g);
  }
  return power;
}

}  // namespace

TreeCost estimate_trees(const ir::TreeRows& rows, const arch::Architecture& arch) {
  const arch::AcamArrayConfig& a = arch.acam_array;
  TreeCost cost;
  cost.rows = rows.rows();
  cost.arrays = rows.arrays();
  const double t_clk = 1.0 / a.clock_hz;
  cost.search_s = a.search_cycles * t_clk;
  std::set<int32_t> trees(rows.row_tree.begin(), rows.row_tree.end());
  int reduction_levels =
      trees.size() > 1 ? static_cast<int>(std::ceil(std::log2(static_cast<double>(trees.size()))))
                       : 0;
  cost.reduction_s = reduction_levels * t_clk;
  cost.latency_s = cost.search_s + cost.reduction_s;
  cost.throughput = 1.0 / cost.search_s;

  // Data lines: every column of every used array is driven for the search.
  double r_out = t_clk / (a.rows * a.c_dl) - 0.5 * a.r_w * (a.rows - 1);
  if (!(r_out > 0))
    throw_bad_input(
        "acam_array: the data-line output resistance T_clk/(rows*c_dl) - r_w*(rows-1)/2 = {} "
        "ohm is not positive",
        r_out);
  double p_data_line = a.v_dd * a.v_dd / r_out * a.cols * static_cast<double>(cost.arrays);
  // Match lines and registers: every used row of every column block is enabled.
  double rows_enabled = static_cast<double>(cost.rows) * static_cast<double>(rows.col_blocks);
  double p_match_line = rows_enabled * 0.5 * (a.c_ml * a.cols + a.c_pre + a.c_mlso) / t_clk *
                        (a.v_ml - a.v_ns) * (a.v_ml - a.v_ns);
  double p_register =
      static_cast<double>(cost.arrays) * a.rows * a.p_reg_static + rows_enabled * a.p_reg_dynamic;
  // Source lines: per enabled row, every column's low and high bound cells.
  double p_source_line = 0;
  const int64_t columns = rows.col_blocks * a.cols;
  std::vector<const ir::RowInterval*> by_feature(columns, nullptr);
  for (int64_t r = 0; r < rows.rows(); ++r) {
    std::fill(by_feature.begin(), by_feature.end(), nullptr);
    for (int64_t i = rows.row_begin[r]; i < rows.row_begin[r + 1]; ++i)
      by_feature[rows.intervals[i].feature] = &rows.intervals[i];
    for (int64_t column = 0; column < columns; ++column) {
      const ir::RowInterval* interval = by_feature[column];
      bool lo_active = interval && interval->lo_active, hi_active = interval && interval->hi_active;
      p_source_line += bound_power(a, rows, lo_active, interval ? interval->lo : 0, true);
      p_source_line += bound_power(a, rows, hi_active, interval ? interval->hi : 0, false);
    }
  }
  cost.energy_data_line_j = p_data_line * cost.search_s;
  cost.energy_match_line_j = p_match_line * cost.search_s;
  cost.energy_source_line_j = p_source_line * cost.search_s;
  cost.energy_register_j = p_register * cost.search_s;
  cost.energy_j = cost.energy_data_line_j + cost.energy_match_line_j + cost.energy_source_line_j +
                  cost.energy_register_j;
  cost.area_m2 = static_cast<double>(cost.arrays) * a.rows * a.cols * a.cell_area;
  return cost;
}

}  // namespace aimc::cost
