#include "aimc/dse/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <map>
#include <system_error>
#include <thread>

#include "aimc/core/error.h"

namespace aimc::dse {

namespace detail {

SweepRun::SweepRun(const SweepSpec& spec, const std::string& output,
                   const std::function<void(const std::string&)>& warn)
    : spec_(spec), output_(output), points_(sweep_points(spec)) {
  header_ = header_json(spec, static_cast<int64_t>(points_.size()));
  lines_.assign(points_.size(), nullptr);
  std::map<std::string, int64_t> by_axes;
  for (const Point& p : points_) by_axes.emplace(p.axes.dump(), p.index);

  ResultsFile file = read_results(output);
  for (const std::string& w : file.warnings)
    if (warn) warn(w);
  if (!file.header.is_null() && file.header.value("fingerprint", "") != header_["fingerprint"])
    throw_bad_input(
        "{}: holds the results of another sweep (a different model, architecture, data set, "
        "limit, trials, seed, batch, chips or aimc version); choose another -o or remove it",
        output);
  int64_t last_kept = -1;
  for (nlohmann::json& line : file.points) {
    auto it = by_axes.find(line["axes"].dump());
    if (it == by_axes.end())
      throw_bad_input(
          "{}: holds point {} which is not one of {}'s points (were its axes "
          "changed?); choose another -o or remove it",
          output, line["axes"].dump(), spec.file);
    const int64_t index = it->second;
    if (!lines_[static_cast<size_t>(index)].is_null()) continue;  // a duplicate: keep the first
    line["point"] = index;
    apply_constraints(line, spec.constraints);  // they may have changed since
    lines_[static_cast<size_t>(index)] = std::move(line);
    ++resumed_;
    last_kept = std::max(last_kept, index);
  }
  for (const Point& p : points_)
    if (lines_[static_cast<size_t>(p.index)].is_null()) todo_.push_back(p.index);
  // Kept lines that are not the first points in order: the finished file is re-sorted.
  resorted_ = last_kept + 1 != resumed_;
  // The file starts as the header and the kept lines, in point order; new lines follow.
  std::vector<nlohmann::json> kept;
  for (const nlohmann::json& line : lines_)
    if (!line.is_null()) kept.push_back(line);
  write_results_atomically(output, header_, kept);
  appender_ = std::make_unique<ResultsAppender>(output);
}

int64_t SweepRun::next() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (failure_ || next_todo_ >= todo_.size()) return -1;
  return todo_[next_todo_++];
}

void SweepRun::fail(std::exception_ptr error) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!failure_) failure_ = error;
}

void SweepRun::work(const PointFn& point_fn, const std::function<void()>& after_each) {
  for (int64_t index; (index = next()) >= 0;) {
    try {
      submit(index, run_point(point_fn, point(index)));
    } catch (...) {
      fail(std::current_exception());
      return;
    }
    if (after_each) after_each();
  }
}

int64_t SweepRun::written() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return written_;
}

void SweepRun::submit(int64_t index, nlohmann::json body) {
  const Point& p = point(index);
  nlohmann::json line = std::move(body);
  line["point"] = p.index;
  line["axes"] = p.axes;
  apply_constraints(line, spec_.constraints);
  std::lock_guard<std::mutex> lock(mutex_);
  lines_[static_cast<size_t>(index)] = std::move(line);
  while (next_write_ < todo_.size() && !lines_[static_cast<size_t>(todo_[next_write_])].is_null()) {
    appender_->append(lines_[static_cast<size_t>(todo_[next_write_])]);
    ++next_write_;
    ++written_;
  }
}

RunSummary SweepRun::finish() {
  appender_.reset();
  if (failure_) std::rethrow_exception(failure_);
  RunSummary summary;
  summary.header = header_;
  summary.resumed = resumed_;
  summary.computed = written_;
  for (const nlohmann::json& line : lines_) {
    if (line.is_null()) continue;
    summary.lines.push_back(line);
    if (line.contains("error")) ++summary.failed;
    if (line.value("feasible", false)) ++summary.feasible;
  }
  if (resorted_) write_results_atomically(output_, header_, summary.lines);
  return summary;
}

nlohmann::json run_point(const PointFn& point_fn, const Point& point) {
  try {
    return point_fn(point);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::kBadInput) throw;
    return {{"error", e.what()}};
  }
}

std::vector<std::thread> start_threads(int count, const std::function<void()>& body) {
  std::vector<std::thread> threads;
  for (int j = 0; j < count; ++j) {
    try {
      threads.emplace_back(body);
    } catch (const std::system_error&) {
      break;  // the system refused another thread: run on those that started
    }
  }
  return threads;
}

}  // namespace detail

bool under_mpirun() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) {
    const char* value = std::getenv(name);
    if (value && std::atoi(value) > 1) return true;
  }
  return false;
}

RunSummary run_sweep(const SweepSpec& spec, const std::string& output, const PointFn& point_fn,
                     const RunOptions& options) {
  if (under_mpirun()) {
    if (!built_with_mpi())
      throw_bad_input(
          "aimc sweep was started by mpirun, but this aimc was built without MPI (install "
          "libopenmpi-dev and rebuild with -DAIMC_WITH_MPI=ON); every rank would run the whole "
          "sweep");
    return detail::run_sweep_mpi(spec, output, point_fn, options);
  }
  detail::SweepRun run(spec, output, options.warn);
  const int64_t total = run.todo();
  if (options.progress) options.progress(0, total);  // the clock of the ETA starts here
  std::mutex progress_mutex;
  auto work = [&] {
    run.work(point_fn, [&] {
      if (!options.progress) return;
      std::lock_guard<std::mutex> lock(progress_mutex);
      options.progress(run.written(), total);
    });
  };
  const int jobs =
      static_cast<int>(std::clamp<int64_t>(options.jobs, 1, std::max<int64_t>(total, 1)));
  std::vector<std::thread> threads = detail::start_threads(jobs - 1, work);
  work();
  for (std::thread& t : threads) t.join();
  return run.finish();
}

#ifndef AIMC_HAS_MPI
bool built_with_mpi() {
  return false;
}

namespace detail {
RunSummary run_sweep_mpi(const SweepSpec&, const std::string&, const PointFn&, const RunOptions&) {
  throw_runtime("internal error: run_sweep_mpi in a build without MPI");
}
}  // namespace detail
#endif

}  // namespace aimc::dse
