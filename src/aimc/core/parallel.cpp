#include "aimc/core/parallel.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace aimc {

namespace {

thread_local bool t_inside_worker = false;

// Workers wait on a condition variable for a job (a generation number changes), run their
// chunk, and report back. The calling thread runs chunk 0 itself.
class ThreadPool {
 public:
  explicit ThreadPool(int threads) : threads_(std::max(1, threads)) {
    for (int w = 1; w < threads_; ++w) {
      try {
        workers_.emplace_back([this, w] { worker_loop(w); });
      } catch (const std::system_error&) {
        // The system refused another thread (a process limit): run on those that started,
        // rather than leave a half-built pool behind. Results do not depend on the count.
        std::fprintf(stderr, "aimc: warning: could start only %d of %d threads\n", w, threads_);
        threads_ = w;
        break;
      }
    }
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      ++generation_;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int threads() const { return threads_; }

  void run(int64_t begin, int64_t end, int64_t grain,
           const std::function<void(int64_t, int64_t)>& body) {
    int64_t n = end - begin;
    int64_t chunks =
        std::min<int64_t>(threads_, std::max<int64_t>(1, n / std::max<int64_t>(1, grain)));
    std::lock_guard<std::mutex> serial(run_mutex_);  // one parallel region at a time
    {
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = &body;
      begin_ = begin;
      end_ = end;
      chunks_ = chunks;
      pending_ = chunks - 1;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    run_chunk(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void run_chunk(int64_t chunk) {
    int64_t n = end_ - begin_;
    int64_t first = begin_ + n * chunk / chunks_;
    int64_t last = begin_ + n * (chunk + 1) / chunks_;
    bool was_inside = t_inside_worker;
    t_inside_worker = true;
    try {
      if (first < last) (*body_)(first, last);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    t_inside_worker = was_inside;
  }

  void worker_loop(int index) {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (stopping_) return;
        if (index >= chunks_) continue;
      }
      run_chunk(index);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--pending_ == 0) done_.notify_one();
      }
    }
  }

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  const std::function<void(int64_t, int64_t)>* body_ = nullptr;
  int64_t begin_ = 0, end_ = 0, chunks_ = 1, pending_ = 0;
  std::exception_ptr error_;
};

std::mutex g_pool_mutex;
std::unique_ptr<ThreadPool> g_pool;

int default_threads() {
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

ThreadPool& pool() {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (!g_pool) g_pool = std::make_unique<ThreadPool>(default_threads());
  return *g_pool;
}

}  // namespace

int num_threads() {
  return pool().threads();
}

int max_threads() {
  return std::min(4 * default_threads(), 256);
}

void set_num_threads(int threads) {
  if (threads <= 0) threads = default_threads();
  threads = std::min(threads, max_threads());  // never a pool that starves the machine
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (g_pool && g_pool->threads() == threads) return;
  g_pool = std::make_unique<ThreadPool>(threads);
}

void parallel_for_ranges(int64_t begin, int64_t end, int64_t grain,
                         const std::function<void(int64_t, int64_t)>& range_body) {
  if (end <= begin) return;
  if (t_inside_worker || end - begin <= grain) {
    range_body(begin, end);
    return;
  }
  ThreadPool& p = pool();
  if (p.threads() <= 1) {
    range_body(begin, end);
    return;
  }
  p.run(begin, end, grain, range_body);
}

}  // namespace aimc
