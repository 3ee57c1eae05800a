// The addon's entry: per-environment state, CPU info and the ISA cap; each kernel family adds its own functions.
#include "binding/util.h"
#include "cpu/dispatch.h"
#include "cpu/features.h"

#if !defined(_WIN32)
#include <dlfcn.h>
#endif
#include <mutex>

namespace simdtensor {
namespace binding {

void init_f32(Napi::Env env, Napi::Object exports);
void init_train(Napi::Env env, Napi::Object exports);
void init_half(Napi::Env env, Napi::Object exports);
void init_async(Napi::Env env, Napi::Object exports);
void init_sparse(Napi::Env env, Napi::Object exports);
void init_s8(Napi::Env env, Napi::Object exports);
void init_onnx(Napi::Env env, Napi::Object exports);
void init_alloc(Napi::Env env, Napi::Object exports);
void init_conv(Napi::Env env, Napi::Object exports);
void init_pool(Napi::Env env, Napi::Object exports);
void init_conv_grad(Napi::Env env, Napi::Object exports);
void init_steps(Napi::Env env, Napi::Object exports);
// Families append their init here (one line each).

namespace {

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CpuFeatures& f = cpu_features();
  Napi::Object o = Napi::Object::New(env);
  o.Set("vendor", f.vendor);
  o.Set("brand", f.brand);
  o.Set("logicalCpus", f.logical_cpus);
#if defined(__x86_64__) || defined(_M_X64)
  o.Set("arch", "x64");
#elif defined(__aarch64__)
  o.Set("arch", "arm64");
#else
  o.Set("arch", "other");
#endif
  Napi::Object flags = Napi::Object::New(env);
  const std::pair<const char*, bool> fl[] = {
      {"sse4.2", f.sse42},        {"avx", f.avx},           {"avx2", f.avx2},
      {"fma", f.fma},             {"f16c", f.f16c},         {"avxvnni", f.avxvnni},
      {"avx512f", f.avx512f},     {"avx512bw", f.avx512bw}, {"avx512vl", f.avx512vl},
      {"avx512dq", f.avx512dq},   {"avx512vnni", f.avx512vnni}, {"avx512bf16", f.avx512bf16},
      {"avx512fp16", f.avx512fp16}, {"amx-tile", f.amx_tile}, {"amx-int8", f.amx_int8},
      {"amx-bf16", f.amx_bf16},   {"amxPermitted", f.amx_permitted}, {"osAvx", f.os_avx},
      {"osAvx512", f.os_avx512},  {"osAmx", f.os_amx},      {"neon", f.neon},
      {"neonDot", f.neon_dot},    {"neonFp16", f.neon_fp16}, {"neonI8mm", f.neon_i8mm},
  };
  for (const auto& p : fl) flags.Set(p.first, p.second);
  o.Set("flags", flags);
  o.Set("bestIsa", isa_name(best_supported_isa()));
  o.Set("maxIsa", isa_name(max_isa()));
  Napi::Array supported = Napi::Array::New(env);
  uint32_t si = 0;
  for (const char* name : {"scalar", "avx2", "avxvnni", "avx512", "avx512vnni", "avx512bf16", "avx512fp16", "amx", "neon",
                           "neondot", "neonfp16", "neoni8mm"}) {
    Isa isa;
    if (parse_isa(name, &isa) && isa_supported(isa)) supported.Set(si++, name);
  }
  o.Set("supportedIsas", supported);
  OpKernel rows[128];
  size_t n = op_kernels(rows, 128);
  Napi::Object kernels = Napi::Object::New(env);
  for (size_t i = 0; i < n && i < 128; i++) kernels.Set(rows[i].op, rows[i].kernel);
  o.Set("kernels", kernels);
  return o;
}

// setMaxIsa(name) -> effective cap name. Unknown names and ISAs this CPU lacks are RangeErrors.
Napi::Value SetMaxIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "setMaxIsa: isa must be a string");
  std::string name = info[0].As<Napi::String>();
  Isa isa;
  if (!parse_isa(name, &isa))
    throw Napi::RangeError::New(env, "setMaxIsa: unknown isa '" + name +
                                         "' (expected one of scalar, avx2, avxvnni, avx512, avx512vnni, avx512bf16, "
                                         "avx512fp16, amx, neon, neondot, neonfp16, neoni8mm)");
  if (!isa_supported(isa))
    throw Napi::RangeError::New(env, "setMaxIsa: isa '" + name + "' is not supported by this CPU (best: " +
                                         isa_name(best_supported_isa()) + ")");
  return Napi::String::New(env, isa_name(set_max_isa(isa)));
}

Napi::Value GetMaxIsa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), isa_name(max_isa())); }

// kernelForM(op, m) -> the kernel op runs for m rows under the current cap (op_kernel_for_m); an unknown op is a
// RangeError.
Napi::Value KernelForM(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "kernelForM: op must be a string");
  std::string op = info[0].As<Napi::String>();
  const size_t m = size_arg(info, 1, "kernelForM", "m");
  const char* k = op_kernel_for_m(op.c_str(), m);
  if (!k) throw Napi::RangeError::New(env, "kernelForM: unknown op '" + op + "' (a cpuInfo().kernels key)");
  return Napi::String::New(env, k);
}

// Keeps this shared object mapped until the process exits. Node dlclose()s an addon when the last environment that
// loaded it is torn down (e.g. the only worker_thread using it terminates), but the process-wide thread pool's
// threads run code from here, and a torn-down env's uv_async_t is closed with a callback defined here that libuv runs
// after the teardown: unmapping the code under them crashed the process (a jump into unmapped memory from
// uv__finish_close; test/fixtures/terminate-rounds.mjs). Before this, the library stayed mapped only by accident:
// glibc pins a library while a thread holds one of its thread_local objects with a destructor, and the pool threads
// touched such scratch on most (not all) paths. One extra reference with RTLD_NODELETE makes it unconditional.
void pin_library() {
#if !defined(_WIN32)
  static std::once_flag once;
  std::call_once(once, [] {
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(&pin_library), &info) && info.dli_fname)
      (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);  // never closed, on purpose
  });
#endif
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pin_library();
  env.SetInstanceData(new AddonData());
  export_fn<CpuInfo>(env, exports, "cpuInfo");
  export_fn<SetMaxIsa>(env, exports, "setMaxIsa");
  export_fn<GetMaxIsa>(env, exports, "getMaxIsa");
  export_fn<KernelForM>(env, exports, "kernelForM");
  init_f32(env, exports);
  init_async(env, exports);
  init_train(env, exports);
  init_half(env, exports);
  init_sparse(env, exports);
  init_s8(env, exports);
  init_alloc(env, exports);
  init_conv(env, exports);
  init_pool(env, exports);
  init_conv_grad(env, exports);
  init_steps(env, exports);
  init_onnx(env, exports);
  return exports;
}

}  // namespace binding
}  // namespace simdtensor

static Napi::Object InitSimdtensorAddon(Napi::Env env, Napi::Object exports) {
  return simdtensor::binding::Init(env, exports);
}
NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitSimdtensorAddon)
