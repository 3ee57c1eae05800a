// Async ops for every kernel family: validate on the JS thread, pin what JS owns, run on OUR pool's workers (never
// libuv's threadpool), settle a Promise back on the JS thread. A family's async op is about ten lines:
//
//   Napi::Value MatmulAsync(const Napi::CallbackInfo& info) {
//     const char* fn = "matmulAsync";
//     AsyncOp op(info, fn, /*id_arg=*/6);                          // info[6]: op id for cancelAsync (0 = none)
//     const size_t m = size_arg(info, 1, fn, "m"), ...;
//     const float* a = op.in<float>(0, "a", m * k);                 // validates, pins, registers a read range
//     float* out = op.out<float>(3, "out", m * n);                  // ... a write range (busy until settled)
//     op.keep(weights_shared_ptr);                                  // native objects the work uses
//     F32GemmArgs g{...};                                           // plain C++ args struct: no napi inside
//     return op.submit([=] { f32_gemm_run(v, g); }, info[3]);       // Promise resolved with info[3]
//   }
//
// Guarantees: the work runs on a pool worker as a top-level task (it may use parallel_for); every pinned value
// stays referenced until the Promise settles; an output range is handed back only after the work returned; an op
// whose write range overlaps a range of any op still in flight (any env: SharedArrayBuffers cross workers), or whose
// read range overlaps an in-flight write, is refused with an Error whose code is ERR_SIMDTENSOR_BUSY; ops from one
// env run FIFO and envs are served round-robin; env teardown (worker.terminate(), exit) cancels queued ops and waits
// for running ones, so no worker ever writes into freed memory.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "binding/util.h"

namespace simdtensor {
namespace binding {

struct AsyncEnv;
struct OpRecord;

class AsyncOp {
 public:
  // id_arg: index of the optional op id (a uint32 chosen by the caller, for cancelAsync); SIZE_MAX for none.
  AsyncOp(const Napi::CallbackInfo& info, const char* fn, size_t id_arg = SIZE_MAX);
  ~AsyncOp();
  AsyncOp(const AsyncOp&) = delete;
  AsyncOp& operator=(const AsyncOp&) = delete;

  // A validated TypedArray argument the work reads (pinned; its byte range registered at submit).
  template <class T>
  const T* in(size_t i, const char* arg, size_t min_len, bool nullable = false) {
    size_t len = 0;
    const T* p = typed_data<T>(info_, i, fn_, arg, min_len, nullable, &len);
    if (p) {
      pin(info_[i], arg);
      reads(p, min_len * sizeof(T), arg);
    }
    return p;
  }
  // A validated TypedArray argument the work writes.
  template <class T>
  T* out(size_t i, const char* arg, size_t min_len) {
    size_t len = 0;
    T* p = typed_data<T>(info_, i, fn_, arg, min_len, false, &len);
    pin(info_[i], arg);
    writes(p, min_len * sizeof(T), arg);
    return p;
  }

  // Keeps `v` referenced until the op settles. For a TypedArray (`arg` names it in errors), an op that is queued
  // (not run inline) also refuses a resizable ArrayBuffer or growable SharedArrayBuffer behind it (TypeError: a
  // shrink would unmap memory a worker uses) and marks its ArrayBuffer untransferable (the transfer guard set by
  // src/native.ts): a transfer would detach it and let V8 free the memory while a worker still uses it.
  void pin(napi_value v, const char* arg = nullptr);
  // `arg` names the memory in a busy-conflict message; it must be a string literal (stored, not copied).
  void reads(const void* p, size_t bytes, const char* arg = "an input");
  void writes(void* p, size_t bytes, const char* arg = "out");
  void keep(std::shared_ptr<const void> p);

  // Queues `work` and returns the Promise, resolved with `result` (pinned) after work() returns, or rejected with
  // an Error carrying the message of a std::exception work() threw. Throws ERR_SIMDTENSOR_BUSY on a range conflict.
  // `cost` (arithmetic ops, e.g. 2·m·n·k; < 0 = unknown): work cheaper than async_inline_ops() runs right here on
  // the JS thread and the Promise is already resolved, because handing a ~1 µs op to another thread and waking
  // the event loop afterwards costs tens of µs and blocks nothing less.
  Napi::Value submit(std::function<void()> work, napi_value result, double cost = -1);

 private:
  void guard_buffers();

  const Napi::CallbackInfo& info_;
  const char* fn_;
  std::unique_ptr<OpRecord> rec_;
  std::vector<std::pair<napi_value, const char*>> buffers_;  // ArrayBuffers behind pinned TypedArrays, and names
};

// Async ops below this many arithmetic ops run inline (default 131072, ~1 µs; SIMDTENSOR_ASYNC_INLINE_OPS overrides,
// 0 sends every op to the pool).
double async_inline_ops();

// For sync ops writing `bytes` at `p`: throws ERR_SIMDTENSOR_BUSY if an async op in flight reads or writes that
// memory (one relaxed load when nothing is in flight).
void check_sync_write(napi_env env, const char* fn, const void* p, size_t bytes);

// For sync ops reading `bytes` at `p` (named `arg`, a string literal): throws ERR_SIMDTENSOR_BUSY if an async op
// in flight writes that memory (its result is not complete yet). One relaxed load when nothing is in flight.
void check_sync_read(napi_env env, const char* fn, const char* arg, const void* p, size_t bytes);

// Whether an async op in flight reads or writes any of the `bytes` at `p` (binding/alloc.cc: a scope never hands
// such a block back to the pool). One relaxed load when nothing is in flight.
bool busy_overlaps(const void* p, size_t bytes);

// setNumThreads, getNumThreads, defaultNumThreads, cancelAsync, asyncStats.
void init_async(Napi::Env env, Napi::Object exports);

}  // namespace binding
}  // namespace simdtensor
