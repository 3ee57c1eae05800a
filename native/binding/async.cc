// Async op machinery (see async.h): per-env completion queue on a uv_async_t, busy-range registry, cancel, teardown.
//
// Why not napi_threadsafe_function: at env teardown Node deletes a TSFN in its own cleanup hook, so a pool worker
// finishing late could call into freed memory. Here the env's cleanup hook (registered after the env exists, so it
// runs before N-API's own teardown) first stops new work, cancels queued ops, waits for running ones, and only
// then closes the uv handle: no worker can touch it afterwards.
#include "binding/async.h"

#include <uv.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "runtime/core/parallel.h"
#include "runtime/core/thread_pool.h"

namespace simdtensor {
namespace binding {

namespace {

struct BusyRange {
  uintptr_t lo, hi;  // [lo, hi)
  bool write;
  const char* arg;
  const char* fn;
  const void* owner;
};

// Process-wide (SharedArrayBuffers are shared between worker_threads). Leaked so exit() never destroys it.
struct BusyRegistry {
  std::mutex mu;
  std::vector<BusyRange> ranges;
  std::atomic<size_t> count{0};
};
BusyRegistry& busy() {
  static BusyRegistry* r = new BusyRegistry();
  return *r;
}

std::atomic<uint64_t> g_next_lane{1};

}  // namespace

struct OpRecord {
  AsyncEnv* owner = nullptr;
  const char* fn = "";
  uint32_t id = 0;
  napi_deferred deferred = nullptr;
  std::vector<napi_ref> refs;
  napi_ref result = nullptr;
  std::vector<std::shared_ptr<const void>> keep;
  std::vector<BusyRange> ranges;
  bool registered = false;
  std::function<void()> work;
  std::string error;
  bool range_error = false;  // error is an allocation failure: rejected with a RangeError
  bool aborted = false;
  PoolTask* task = nullptr;  // while queued or running; guarded by owner->mu
};

struct AsyncEnv {
  napi_env env = nullptr;
  uint64_t lane = 0;
  uv_async_t* handle = nullptr;
  napi_ref resource = nullptr;
  napi_async_context actx = nullptr;
  std::atomic<bool> closing{false};

  std::mutex mu;
  std::condition_variable cv;
  std::vector<OpRecord*> done;  // finished on a worker, not yet settled (mu)
  size_t in_pool = 0;           // queued or running (mu)

  // JS thread only.
  size_t pending = 0;  // submitted, not yet settled
  std::unordered_set<OpRecord*> live;
  std::unordered_map<uint32_t, OpRecord*> by_id;
};

namespace {

void unregister_ranges(OpRecord* r) {
  if (!r->registered) return;
  BusyRegistry& b = busy();
  std::lock_guard<std::mutex> lk(b.mu);
  auto& v = b.ranges;
  v.erase(std::remove_if(v.begin(), v.end(), [&](const BusyRange& x) { return x.owner == r; }), v.end());
  b.count.store(v.size(), std::memory_order_relaxed);
  r->registered = false;
}

std::string conflict_message(const char* fn, const BusyRange& mine, const BusyRange& theirs) {
  std::string s = std::string(fn) + ": " + mine.arg + " overlaps ";
  if (theirs.write)
    s += std::string("the output (") + theirs.arg + ") of " + theirs.fn + ", still in flight";
  else
    s += std::string("an input (") + theirs.arg + ") of " + theirs.fn + ", still in flight";
  s += mine.write ? "; await it first or write to another tensor" : "; await it first (its result is not complete)";
  return s;
}

[[noreturn]] void throw_busy(napi_env env, const std::string& msg) {
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, "ERR_SIMDTENSOR_BUSY"));
  throw e;
}

void register_ranges(napi_env env, OpRecord* r) {
  BusyRegistry& b = busy();
  std::lock_guard<std::mutex> lk(b.mu);
  for (const BusyRange& mine : r->ranges)
    for (const BusyRange& theirs : b.ranges)
      if (mine.lo < theirs.hi && theirs.lo < mine.hi && (mine.write || theirs.write))
        throw_busy(env, conflict_message(r->fn, mine, theirs));
  for (const BusyRange& mine : r->ranges) b.ranges.push_back(mine);
  b.count.store(b.ranges.size(), std::memory_order_relaxed);
  r->registered = true;
}

void delete_refs(napi_env env, OpRecord* r) {
  for (napi_ref ref : r->refs) napi_delete_reference(env, ref);
  r->refs.clear();
  if (r->result) napi_delete_reference(env, r->result);
  r->result = nullptr;
}

class OpTask : public PoolTask {
 public:
  explicit OpTask(OpRecord* r) : rec_(r) {}
  OpRecord* record() const { return rec_; }
  void run() noexcept override {
    OpRecord* r = rec_;
    AsyncEnv* e = r->owner;
    if (!e->closing.load(std::memory_order_acquire)) {
      try {
        r->work();
      } catch (const std::bad_alloc& ex) {
        r->error = oom_text(ex);
        r->range_error = true;
      } catch (const std::exception& ex) {
        r->error = ex.what()[0] ? ex.what() : "native error";
      } catch (...) {
        r->error = "unknown native error";
      }
    }
    std::lock_guard<std::mutex> lk(e->mu);
    r->task = nullptr;  // from here this OpTask may be freed; cancel() must not look for it
    e->done.push_back(r);
    uv_async_send(e->handle);  // under mu: teardown closes the handle only after in_pool reaches 0
    if (--e->in_pool == 0) e->cv.notify_all();
  }

 private:
  OpRecord* rec_;
};

// JS thread: settles the Promise and frees the record. Needs an open handle scope.
void settle(AsyncEnv* e, OpRecord* r) {
  napi_env env = e->env;
  unregister_ranges(r);
  if (r->id) e->by_id.erase(r->id);
  e->live.erase(r);
  r->work = nullptr;
  if (r->aborted || !r->error.empty()) {
    napi_value msg, code, err;
    const std::string text = std::string(r->fn) + ": " + (r->aborted ? "the operation was aborted" : r->error);
    napi_create_string_utf8(env, text.c_str(), text.size(), &msg);
    napi_create_string_utf8(env, r->aborted ? "ABORT_ERR" : "ERR_SIMDTENSOR_NATIVE", NAPI_AUTO_LENGTH, &code);
    if (!r->aborted && r->range_error) napi_create_range_error(env, code, msg, &err);
    else napi_create_error(env, code, msg, &err);
    if (r->aborted) {
      napi_value name;
      napi_create_string_utf8(env, "AbortError", NAPI_AUTO_LENGTH, &name);
      napi_set_named_property(env, err, "name", name);
    }
    napi_reject_deferred(env, r->deferred, err);
  } else {
    napi_value v;
    napi_get_reference_value(env, r->result, &v);
    napi_resolve_deferred(env, r->deferred, v);
  }
  delete_refs(env, r);
  delete r;
  if (--e->pending == 0) uv_unref(reinterpret_cast<uv_handle_t*>(e->handle));
}

void on_async(uv_async_t* h) {
  AsyncEnv* e = static_cast<AsyncEnv*>(h->data);
  std::vector<OpRecord*> batch;
  {
    std::lock_guard<std::mutex> lk(e->mu);
    batch.swap(e->done);
  }
  if (batch.empty()) return;
  napi_env env = e->env;
  napi_handle_scope hs;
  if (napi_open_handle_scope(env, &hs) != napi_ok) return;
  napi_value resource;
  napi_get_reference_value(env, e->resource, &resource);
  // A callback scope: promise continuations (microtasks) and nextTicks run when it closes, as after any callback.
  napi_callback_scope cs;
  const bool scoped = napi_open_callback_scope(env, resource, e->actx, &cs) == napi_ok;
  for (OpRecord* r : batch) settle(e, r);
  if (scoped) napi_close_callback_scope(env, cs);
  napi_close_handle_scope(env, hs);
}

void on_env_cleanup(void* arg) {
  AsyncEnv* e = static_cast<AsyncEnv*>(arg);
  e->closing.store(true, std::memory_order_release);
  {
    std::unique_lock<std::mutex> lk(e->mu);
    // Queued ops never start; running ones finish (an op is bounded work), then nothing touches this env.
    auto cancelled = ThreadPool::instance().cancel_lane(e->lane);
    e->in_pool -= cancelled.size();
    for (auto& t : cancelled) static_cast<OpTask*>(t.get())->record()->task = nullptr;
    e->cv.wait(lk, [&] { return e->in_pool == 0; });
    e->done.clear();  // every record is still in `live`
  }
  // Free every unsettled op. The promises stay pending: this env runs no more JS.
  for (OpRecord* r : e->live) {
    unregister_ranges(r);
    delete_refs(e->env, r);
    delete r;
  }
  e->live.clear();
  e->by_id.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(e->handle), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
  if (e->actx) napi_async_destroy(e->env, e->actx);
  if (e->resource) napi_delete_reference(e->env, e->resource);
  if (AddonData* d = addon_data(e->env)) d->async_env = nullptr;
  delete e;
}

AsyncEnv* env_state(napi_env env, bool create) {
  AddonData* d = addon_data(env);
  if (!d) throw Napi::Error::New(env, "async ops: the addon is not initialized in this environment");
  if (d->async_env || !create) return static_cast<AsyncEnv*>(d->async_env);
  auto e = std::make_unique<AsyncEnv>();
  e->env = env;
  e->lane = g_next_lane.fetch_add(1);
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop)
    throw Napi::Error::New(env, "async ops: no event loop for this environment");
  auto* h = new uv_async_t;
  if (uv_async_init(loop, h, on_async) != 0) {
    delete h;
    throw Napi::Error::New(env, "async ops: uv_async_init failed");
  }
  h->data = e.get();
  uv_unref(reinterpret_cast<uv_handle_t*>(h));  // referenced only while ops are pending
  e->handle = h;
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_reference(env, resource, 1, &e->resource);
  napi_create_string_utf8(env, "simdtensor.async", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &e->actx);
  napi_add_env_cleanup_hook(env, on_env_cleanup, e.get());
  d->async_env = e.get();
  return e.release();
}

}  // namespace

AsyncOp::AsyncOp(const Napi::CallbackInfo& info, const char* fn, size_t id_arg)
    : info_(info), fn_(fn), rec_(new OpRecord) {
  rec_->fn = fn;
  if (id_arg != SIZE_MAX && id_arg < info.Length() && info[id_arg].IsNumber()) {
    const double d = info[id_arg].As<Napi::Number>().DoubleValue();
    if (!(d >= 0 && d <= 4294967295.0 && d == double(uint32_t(d))))
      throw Napi::RangeError::New(info.Env(), std::string(fn) + ": op id must be a uint32");
    rec_->id = uint32_t(d);
  }
}

AsyncOp::~AsyncOp() {
  if (rec_) {  // never submitted (a validation error was thrown)
    unregister_ranges(rec_.get());
    delete_refs(info_.Env(), rec_.get());
  }
}

void AsyncOp::pin(napi_value v, const char* arg) {
  napi_env env = info_.Env();
  napi_ref ref;
  if (napi_create_reference(env, v, 1, &ref) != napi_ok)
    throw Napi::Error::New(env, std::string(fn_) + ": cannot reference an argument");
  rec_->refs.push_back(ref);
  bool is_ta = false;
  napi_value ab = nullptr;
  if (napi_is_typedarray(env, v, &is_ta) == napi_ok && is_ta &&
      napi_get_typedarray_info(env, v, nullptr, nullptr, nullptr, &ab, nullptr) == napi_ok && ab)
    buffers_.emplace_back(ab, arg ? arg : "an argument");
}

// Only for ops that leave the JS thread: an inline op finishes before JS can resize or transfer anything.
void AsyncOp::guard_buffers() {
  napi_env env = info_.Env();
  AddonData* d = addon_data(env);
  for (const auto& b : buffers_) {
    bool is_ab = false;
    napi_is_arraybuffer(env, b.first, &is_ab);  // false for a SharedArrayBuffer
    napi_value flag;
    bool on = false;
    if (napi_get_named_property(env, b.first, is_ab ? "resizable" : "growable", &flag) == napi_ok)
      napi_get_value_bool(env, flag, &on);  // not a boolean (an engine without the property): stays false
    if (on)
      throw Napi::TypeError::New(env, std::string(fn_) + ": " + b.second + " is backed by a " +
                                          (is_ab ? "resizable ArrayBuffer" : "growable SharedArrayBuffer") +
                                          "; async ops need a fixed-length buffer");
    if (is_ab && d && !d->transfer_guard.IsEmpty()) d->transfer_guard.Call({Napi::Value(env, b.first)});
  }
}

void AsyncOp::reads(const void* p, size_t bytes, const char* arg) {
  if (p && bytes) rec_->ranges.push_back({uintptr_t(p), uintptr_t(p) + bytes, false, arg, fn_, rec_.get()});
}
void AsyncOp::writes(void* p, size_t bytes, const char* arg) {
  if (p && bytes) rec_->ranges.push_back({uintptr_t(p), uintptr_t(p) + bytes, true, arg, fn_, rec_.get()});
}
void AsyncOp::keep(std::shared_ptr<const void> p) { rec_->keep.push_back(std::move(p)); }

double async_inline_ops() {
  static const double v = [] {
    const char* s = std::getenv("SIMDTENSOR_ASYNC_INLINE_OPS");
    if (s && *s) {
      char* end = nullptr;
      const double d = std::strtod(s, &end);
      if (end != s && d >= 0) return d;
    }
    return 131072.0;
  }();
  return v;
}

Napi::Value AsyncOp::submit(std::function<void()> work, napi_value result, double cost) {
  napi_env env = info_.Env();
  if (cost >= 0 && cost < async_inline_ops()) {
    // Inline: still refused if it touches memory an op in flight owns; nothing to pin, it is done on return.
    register_ranges(env, rec_.get());
    std::string error;
    bool range_error = false;
    try {
      work();
    } catch (const std::bad_alloc& ex) {
      error = oom_text(ex);
      range_error = true;
    } catch (const std::exception& ex) {
      error = ex.what()[0] ? ex.what() : "native error";
    } catch (...) {
      error = "unknown native error";
    }
    unregister_ranges(rec_.get());
    napi_deferred deferred;
    napi_value promise;
    if (napi_create_promise(env, &deferred, &promise) != napi_ok)
      throw Napi::Error::New(env, std::string(fn_) + ": cannot create a promise");
    if (error.empty()) {
      napi_resolve_deferred(env, deferred, result);
    } else {
      Napi::Error err = range_error ? Napi::RangeError::New(env, std::string(fn_) + ": " + error)
                                    : Napi::Error::New(env, std::string(fn_) + ": " + error);
      err.Set("code", Napi::String::New(env, "ERR_SIMDTENSOR_NATIVE"));
      napi_reject_deferred(env, deferred, err.Value());
    }
    return Napi::Value(env, promise);
  }
  guard_buffers();
  AsyncEnv* e = env_state(env, true);
  if (e->closing.load()) throw Napi::Error::New(env, std::string(fn_) + ": the environment is shutting down");
  if (rec_->id && e->by_id.count(rec_->id))
    throw Napi::Error::New(env, std::string(fn_) + ": op id " + std::to_string(rec_->id) + " is already in flight");
  register_ranges(env, rec_.get());
  napi_ref rref;
  napi_create_reference(env, result, 1, &rref);
  rec_->result = rref;
  napi_value promise;
  if (napi_create_promise(env, &rec_->deferred, &promise) != napi_ok)
    throw Napi::Error::New(env, std::string(fn_) + ": cannot create a promise");
  rec_->work = std::move(work);
  rec_->owner = e;
  OpRecord* r = rec_.release();
  e->live.insert(r);
  if (r->id) e->by_id[r->id] = r;
  if (e->pending++ == 0) uv_ref(reinterpret_cast<uv_handle_t*>(e->handle));
  auto task = std::make_unique<OpTask>(r);
  {
    std::lock_guard<std::mutex> lk(e->mu);
    r->task = task.get();
    e->in_pool++;
  }
  ThreadPool::instance().submit(e->lane, std::move(task));
  return Napi::Value(env, promise);
}

void check_sync_write(napi_env env, const char* fn, const void* p, size_t bytes) {
  BusyRegistry& b = busy();
  if (b.count.load(std::memory_order_relaxed) == 0 || !p || !bytes) return;
  const uintptr_t lo = uintptr_t(p), hi = lo + bytes;
  std::lock_guard<std::mutex> lk(b.mu);
  for (const BusyRange& theirs : b.ranges)
    if (lo < theirs.hi && theirs.lo < hi)
      throw_busy(env, conflict_message(fn, BusyRange{lo, hi, true, "out", fn, nullptr}, theirs));
}

bool busy_overlaps(const void* p, size_t bytes) {
  BusyRegistry& b = busy();
  if (b.count.load(std::memory_order_relaxed) == 0 || !p || !bytes) return false;
  const uintptr_t lo = uintptr_t(p), hi = lo + bytes;
  std::lock_guard<std::mutex> lk(b.mu);
  for (const BusyRange& theirs : b.ranges)
    if (lo < theirs.hi && theirs.lo < hi) return true;
  return false;
}

void check_sync_read(napi_env env, const char* fn, const char* arg, const void* p, size_t bytes) {
  BusyRegistry& b = busy();
  if (b.count.load(std::memory_order_relaxed) == 0 || !p || !bytes) return;
  const uintptr_t lo = uintptr_t(p), hi = lo + bytes;
  std::lock_guard<std::mutex> lk(b.mu);
  for (const BusyRange& theirs : b.ranges)
    if (theirs.write && lo < theirs.hi && theirs.lo < hi)
      throw_busy(env, conflict_message(fn, BusyRange{lo, hi, false, arg, fn, nullptr}, theirs));
}

namespace {

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "setNumThreads: n must be a number");
  const double d = info[0].As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= ThreadPool::kMaxThreads && d == double(int(d))))
    throw Napi::RangeError::New(env, "setNumThreads: n must be an integer in [1, " +
                                         std::to_string(ThreadPool::kMaxThreads) + "], got " + std::to_string(d));
  return Napi::Number::New(env, set_num_threads(int(d)));
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), num_threads()); }
Napi::Value DefaultNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), default_num_threads());
}

// cancelAsync(id) -> true if the op had not started (its Promise is now rejected with an AbortError).
Napi::Value CancelAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AsyncEnv* e = env_state(env, false);
  if (!e || !info[0].IsNumber()) return Napi::Boolean::New(env, false);
  const double d = info[0].As<Napi::Number>().DoubleValue();
  if (!(d > 0 && d <= 4294967295.0 && d == double(uint32_t(d)))) return Napi::Boolean::New(env, false);
  auto it = e->by_id.find(uint32_t(d));
  if (it == e->by_id.end()) return Napi::Boolean::New(env, false);
  OpRecord* r = it->second;
  std::unique_ptr<PoolTask> t;
  {
    // Under e->mu the task is alive (a finishing worker clears r->task under it before the task is freed).
    std::lock_guard<std::mutex> lk(e->mu);
    if (r->task) t = ThreadPool::instance().cancel(r->task);
    if (t) {
      r->task = nullptr;
      e->in_pool--;
    }
  }
  if (!t) return Napi::Boolean::New(env, false);
  t.reset();
  r->aborted = true;
  settle(e, r);
  return Napi::Boolean::New(env, true);
}

// setTransferGuard(fn): fn(arrayBuffer) makes a buffer untransferable (worker_threads.markAsUntransferable);
// called by src/native.ts when the addon loads in an environment.
Napi::Value SetTransferGuard(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "setTransferGuard: fn must be a function");
  AddonData* d = addon_data(env);
  if (d) d->transfer_guard = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

Napi::Value AsyncStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  AsyncEnv* e = env_state(env, false);
  size_t in_pool = 0;
  if (e) {
    std::lock_guard<std::mutex> lk(e->mu);
    in_pool = e->in_pool;
  }
  o.Set("pending", double(e ? e->pending : 0));
  o.Set("inPool", double(in_pool));
  o.Set("busyRanges", double(busy().count.load()));
  const PoolStats s = ThreadPool::instance().stats();
  o.Set("threads", s.threads);
  o.Set("workers", s.workers);
  o.Set("queued", double(s.queued_tasks));
  o.Set("activeJobs", double(s.active_jobs));
  o.Set("jobsSplit", double(s.jobs_split));
  o.Set("helperJoins", double(s.helper_joins));
  o.Set("tasksRun", double(s.tasks_run));
  o.Set("sleeping", s.sleeping);
  o.Set("spinning", s.spinning);
  o.Set("spinUs", pool_spin_us());
  o.Set("inlineOps", async_inline_ops());
  return o;
}

// threadCpuTimes() -> { caller: ms of the calling thread, workers: [ms per pool worker] } (CPU time used so far;
// the bench uses it to show how work is split between threads, whatever the host's scheduling).
Napi::Value ThreadCpuTimes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("caller", double(thread_cpu_ns()) / 1e6);
  const std::vector<uint64_t> w = ThreadPool::instance().worker_cpu_ns();
  Napi::Array a = Napi::Array::New(env, w.size());
  for (size_t i = 0; i < w.size(); i++) a.Set(uint32_t(i), double(w[i]) / 1e6);
  o.Set("workers", a);
  return o;
}

}  // namespace

void init_async(Napi::Env env, Napi::Object exports) {
  export_fn<ThreadCpuTimes>(env, exports, "threadCpuTimes");
  export_fn<SetNumThreads>(env, exports, "setNumThreads");
  export_fn<GetNumThreads>(env, exports, "getNumThreads");
  export_fn<DefaultNumThreads>(env, exports, "defaultNumThreads");
  export_fn<CancelAsync>(env, exports, "cancelAsync");
  export_fn<AsyncStats>(env, exports, "asyncStats");
  export_fn<SetTransferGuard>(env, exports, "setTransferGuard");
}

}  // namespace binding
}  // namespace simdtensor
