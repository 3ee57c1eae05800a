// N-API glue for recorded step sequences (runtime/core/chunk_steps.h): a ChunkSteps handle, recordSteps (while on,
// every sync op is validated as usual and recorded instead of run) and runSteps. No math here.
#include <string>
#include <utility>

#include "binding/op.h"
#include "runtime/core/chunk_steps.h"

namespace simdtensor {
namespace binding {

// new ChunkSteps(lanes, chunks, inFloats)
const HandleKind<ChunkSteps> kChunkStepsHandle{
    "ChunkSteps", "ChunkSteps", "steps must be a ChunkSteps handle from new ChunkSteps()",
    {0x5c81e0a4d29b7f36ull, 0x0b6f3d92e4a1c875ull},
    [](const Napi::CallbackInfo& info, const char* fn) {
      OpArgs a(info, fn, nullptr);
      const size_t lanes = a.size(0, "lanes", 256), chunks = a.size(1, "chunks", 1 << 20);
      const size_t in_floats = a.size(2, "inFloats", size_t(1) << 36);
      if (lanes == 0 || chunks == 0 || in_floats == 0) a.range_error("lanes, chunks and inFloats must be positive");
      a.mul(chunks, in_floats);  // the input's size must not overflow
      return std::make_shared<ChunkSteps>(lanes, chunks, in_floats);
    },
    {{"lanes", [](const ChunkSteps& s) { return double(s.lanes()); }, false},
     {"chunks", [](const ChunkSteps& s) { return double(s.chunks()); }, false},
     {"steps", [](const ChunkSteps& s) { return double(s.steps()); }, false}}};

void record_step(AddonData& d, std::function<void()> step) {
  d.recording->add(d.recording_chunk, d.recording_lane, std::move(step));
}

namespace {

// recordSteps(steps|null, chunk, lane): from now on sync ops are recorded into (chunk, lane) of steps; null stops.
// The caller owns every array a recorded op touches and keeps it alive (and in place) as long as the handle.
Napi::Value RecordSteps(const Napi::CallbackInfo& info) {
  const char* fn = "recordSteps";
  AddonData* d = addon_data(info.Env());
  if (!d) throw Napi::Error::New(info.Env(), std::string(fn) + ": addon not initialised");
  OpArgs a(info, fn, nullptr);
  if (a.is_null(0)) {
    d->recording.reset();
    t_recording = false;
    return info.Env().Undefined();
  }
  const std::shared_ptr<ChunkSteps>& s = Handle<ChunkSteps>::unwrap(info.Env(), info[0], fn, kChunkStepsHandle)->weights();
  const size_t chunk = a.size(1, "chunk"), lane = a.size(2, "lane");
  if (chunk >= s->chunks()) a.range_error("chunk (" + std::to_string(chunk) + ") must be below chunks (" + std::to_string(s->chunks()) + ")");
  if (lane >= s->lanes()) a.range_error("lane (" + std::to_string(lane) + ") must be below lanes (" + std::to_string(s->lanes()) + ")");
  d->recording = s;
  t_recording = true;
  d->recording_chunk = chunk;
  d->recording_lane = lane;
  return info.Env().Undefined();
}

// runSteps(steps, x: Float32Array, stage: Float32Array): runs every chunk (see ChunkSteps::run); x and stage hold
// chunks·inFloats floats and must not overlap; stage is the array the recorded steps read their input from.
Napi::Value RunSteps(const Napi::CallbackInfo& info) {
  const char* fn = "runSteps";
  AddonData* d = addon_data(info.Env());
  if (d && d->recording) throw Napi::Error::New(info.Env(), std::string(fn) + ": recordSteps is still on (call recordSteps(null) first)");
  const std::shared_ptr<ChunkSteps> s = Handle<ChunkSteps>::unwrap(info.Env(), info[0], fn, kChunkStepsHandle)->weights();
  OpArgs a(info, fn, nullptr);
  const size_t n = s->total_in_floats();
  const float* x = a.in<float>(1, "x", n);
  float* stage = a.out<float>(2, "stage", n);
  if (x < stage + n && stage < x + n) a.range_error("stage must not overlap x");
  s->run(x, stage);
  return info.Env().Undefined();
}

}  // namespace

void init_steps(Napi::Env env, Napi::Object exports) {
  exports.Set("ChunkSteps", Handle<ChunkSteps>::Define(env, kChunkStepsHandle));
  export_fn<RecordSteps, true>(env, exports, "recordSteps");
  export_fn<RunSteps, true>(env, exports, "runSteps");  // refuses itself while recording, with its own message
}

}  // namespace binding
}  // namespace simdtensor
