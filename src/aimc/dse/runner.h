// Runs a sweep's points and writes their results (docs/sweep.md): points go dynamically to
// `jobs` threads of this process, or, under mpirun, to every MPI rank; rank 0 writes the
// lines in point order, so the file does not depend on how many workers there were. A rerun
// on the same file keeps its finished points and runs the rest.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "aimc/dse/results.h"
#include "aimc/dse/sweep_spec.h"

namespace aimc::dse {

// A point's result: "metrics" and whatever else the report shows ("layers",
// "energy_by_component"). Error(kBadInput) marks the point failed (the line records the
// message and the sweep goes on); any other error stops the sweep.
using PointFn = std::function<nlohmann::json(const Point&)>;

struct RunOptions {
  int jobs = 1;                                               // points run at once in this process
  std::function<void(int64_t done, int64_t total)> progress;  // points run by this call
  std::function<void(const std::string&)> warn;
};

struct RunSummary {
  bool writer = true;  // false on MPI ranks other than 0: they print nothing
  int ranks = 1;
  nlohmann::json header;
  std::vector<nlohmann::json> lines;  // every point's line, in point order
  int64_t resumed = 0;                // lines kept from the file
  int64_t computed = 0;               // points run now
  int64_t failed = 0;                 // lines with an error
  int64_t feasible = 0;
};

RunSummary run_sweep(const SweepSpec& spec, const std::string& output, const PointFn& point_fn,
                     const RunOptions& options);

// True when this process was started by mpirun with more than one rank.
bool under_mpirun();
// Built with MPI (AIMC_WITH_MPI): run_sweep uses it under mpirun.
bool built_with_mpi();

namespace detail {

// The bookkeeping of rank 0 (or of a run without MPI): what the file holds, the points left,
// and the writer that appends results in point order. Thread-safe.
class SweepRun {
 public:
  SweepRun(const SweepSpec& spec, const std::string& output,
           const std::function<void(const std::string&)>& warn);
  const Point& point(int64_t index) const { return points_[static_cast<size_t>(index)]; }
  int64_t todo() const { return static_cast<int64_t>(todo_.size()); }
  // The next point to run; -1 when none is left (or the run was stopped).
  int64_t next();
  // Records a point's result (body from PointFn, or {"error": ...}) and writes every line
  // that is now next in order.
  void submit(int64_t index, nlohmann::json body);
  // Runs points until none is left or the run failed; `after_each` (may be empty) is called
  // after each point. Any exception fails the run instead of escaping.
  void work(const PointFn& point_fn, const std::function<void()>& after_each = {});
  // Keeps the first failure and hands out no more points.
  void fail(std::exception_ptr error);
  int64_t written() const;
  // Rethrows the first failure; else the summary, the file re-sorted when it needs to be.
  RunSummary finish();

 private:
  const SweepSpec& spec_;
  std::string output_;
  std::vector<Point> points_;
  nlohmann::json header_;
  std::vector<nlohmann::json> lines_;  // by point index; null until done
  std::vector<int64_t> todo_;
  size_t next_todo_ = 0, next_write_ = 0;
  bool resorted_ = false;
  std::exception_ptr failure_;  // the first one; non-null stops the run
  int64_t resumed_ = 0, written_ = 0;
  std::unique_ptr<ResultsAppender> appender_;
  mutable std::mutex mutex_;
};

// The line body of a point run by `point_fn`: its result, or {"error": message} when it threw
// Error(kBadInput). Other errors propagate.
nlohmann::json run_point(const PointFn& point_fn, const Point& point);

// Starts `count` threads running `body`, fewer when the system refuses more.
std::vector<std::thread> start_threads(int count, const std::function<void()>& body);

RunSummary run_sweep_mpi(const SweepSpec& spec, const std::string& output, const PointFn& point_fn,
                         const RunOptions& options);

}  // namespace detail

}  // namespace aimc::dse
