// The sweep across MPI ranks (AIMC_WITH_MPI). Rank 0 owns the results file: its main thread
// answers the other ranks (a request gets the next point, a result is written in point order)
// while its own worker threads run points too. Only rank 0's main thread calls MPI
// (MPI_THREAD_FUNNELED).
#include <mpi.h>

#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "aimc/core/error.h"
#include "aimc/dse/runner.h"

namespace aimc::dse {

namespace {

enum Tag : int { kRequest = 1, kAssign = 2, kResult = 3, kFailure = 4 };

std::string receive_text(int source, int tag, MPI_Status* status) {
  MPI_Probe(source, tag, MPI_COMM_WORLD, status);
  int count = 0;
  MPI_Get_count(status, MPI_CHAR, &count);
  std::string text(static_cast<size_t>(count), '\0');
  MPI_Recv(text.data(), count, MPI_CHAR, status->MPI_SOURCE, status->MPI_TAG, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  return text;
}

void send_text(const std::string& text, int tag) {
  MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, 0, tag, MPI_COMM_WORLD);
}

// Ranks 1..N-1: ask for a point, run it, send its line; until rank 0 says there is none.
void serve_as_worker(const SweepSpec& spec, const PointFn& point_fn) {
  const std::vector<Point> points = sweep_points(spec);
  for (;;) {
    int none = 0;
    MPI_Send(&none, 1, MPI_INT, 0, kRequest, MPI_COMM_WORLD);
    long long index = -1;
    MPI_Recv(&index, 1, MPI_LONG_LONG, 0, kAssign, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (index < 0 || index >= static_cast<long long>(points.size())) return;
    std::string text;
    int tag = kResult;
    try {
      text = std::to_string(index) + "\n" +
             detail::run_point(point_fn, points[static_cast<size_t>(index)]).dump();
    } catch (const std::exception& e) {
      text = e.what();
      tag = kFailure;
    }
    // After a failure rank 0 hands out no more points: the next request ends the loop.
    send_text(text, tag);
  }
}

}  // namespace

bool built_with_mpi() {
  return true;
}

namespace detail {

RunSummary run_sweep_mpi(const SweepSpec& spec, const std::string& output, const PointFn& point_fn,
                         const RunOptions& options) {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (rank != 0) {
    serve_as_worker(spec, point_fn);
    MPI_Finalize();
    RunSummary summary;
    summary.writer = false;
    summary.ranks = size;
    return summary;
  }

  // Rank 0. A bad results file still has to release the other ranks before it is reported.
  std::unique_ptr<SweepRun> run;
  std::exception_ptr setup_failure;
  try {
    run = std::make_unique<SweepRun>(spec, output, options.warn);
  } catch (...) {
    setup_failure = std::current_exception();
  }
  const int64_t total = run ? run->todo() : 0;
  if (options.progress && run) options.progress(0, total);
  std::vector<std::thread> threads;
  if (run) threads = start_threads(std::max(1, options.jobs), [&] { run->work(point_fn); });

  int active = size - 1;
  while (active > 0) {
    MPI_Status status;
    MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &status);
    if (status.MPI_TAG == kRequest) {
      int none = 0;
      MPI_Recv(&none, 1, MPI_INT, status.MPI_SOURCE, kRequest, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      long long index = run ? run->next() : -1;
      MPI_Send(&index, 1, MPI_LONG_LONG, status.MPI_SOURCE, kAssign, MPI_COMM_WORLD);
      if (index < 0) --active;
    } else {
      const int source = status.MPI_SOURCE;
      std::string text = receive_text(source, status.MPI_TAG, &status);
      if (status.MPI_TAG == kFailure) {
        run->fail(std::make_exception_ptr(
            Error(ErrorKind::kRuntime, "rank " + std::to_string(source) + ": " + text)));
        continue;
      }
      const size_t newline = text.find('\n');
      try {
        run->submit(std::stoll(text.substr(0, newline)),
                    nlohmann::json::parse(text.substr(newline + 1)));
      } catch (...) {
        run->fail(std::current_exception());
      }
    }
    if (options.progress && run) options.progress(run->written(), total);
  }
  for (std::thread& t : threads) t.join();
  if (options.progress && run) options.progress(run->written(), total);
  MPI_Finalize();
  if (setup_failure) std::rethrow_exception(setup_failure);
  RunSummary summary = run->finish();
  summary.ranks = size;
  return summary;
}

}  // namespace detail

}  // namespace aimc::dse
