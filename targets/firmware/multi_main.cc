// main() of a firmware image holding several models over one arena buffer
// (emit::build_shared_arena_firmware, `tinyforge compile --shared-arena`). Each model has
// its own Runtime, validated once and bound to its region of the shared arena
// (tinyforge_arena + tinyforge_arena_offsets[i]); models whose regions overlap must not run
// at the same time, and they don't here. Between tinyforge_bench_begin and _end it runs
// every model in turn, kRounds times over, each run complete (inputs in, invoke, outputs
// out) before the next model touches the arena:
//   tinyforge_input   every model's inputs, model order, written by the emulator
//   tinyforge_output  every model's outputs, model order, once per round
// so a test sees whether a model's output is still its own after the others overwrote the
// shared memory. Then tinyforge_done(), one semihosting line, exit.
#include <cstdint>
#include <cstring>

#include "semihost.h"
#include "tinyforge/runtime.h"

extern "C" {
extern const uint8_t* const tinyforge_models[];
extern const uint32_t tinyforge_num_models;
extern const uint32_t tinyforge_model_sizes[];
extern const uint32_t tinyforge_arena_offsets[];
extern const uint32_t tinyforge_arena_regions[];
extern uint8_t tinyforge_arena[];
extern const uint32_t tinyforge_arena_capacity;
extern uint8_t tinyforge_input[];
extern const uint32_t tinyforge_input_size;
extern uint8_t tinyforge_output[];
extern const uint32_t tinyforge_output_size;

__attribute__((used)) volatile uint32_t tinyforge_arena_used;

__attribute__((noinline, noipa, used)) void tinyforge_bench_begin() {
  asm volatile("" ::: "memory");
}
__attribute__((noinline, noipa, used)) void tinyforge_bench_end() { asm volatile("" ::: "memory"); }
__attribute__((noinline, noipa, used)) void tinyforge_done() { asm volatile("" ::: "memory"); }
}

namespace {

constexpr uint32_t kMaxModels = 8;  // emit::kMaxSharedArenaModels
constexpr uint32_t kRounds = 2;     // emit::kSharedArenaRounds

tinyforge::Runtime runtimes[kMaxModels];

// Runs model `m` on its inputs at tinyforge_input + in_at; its outputs go to
// tinyforge_output + out_at. Returns false when a buffer is too small or invoke fails.
bool run_model(uint32_t m, uint32_t in_at, uint32_t out_at) {
  tinyforge::Runtime& rt = runtimes[m];
  for (uint32_t i = 0; i < rt.num_inputs(); ++i) {
    const tinyforge::TensorView in = rt.input(i);
    if (in_at + in.bytes > tinyforge_input_size) return false;
    std::memcpy(in.data, tinyforge_input + in_at, in.bytes);
    in_at += in.bytes;
  }
  if (rt.invoke() != tinyforge::Status::ok) return false;
  for (uint32_t i = 0; i < rt.num_outputs(); ++i) {
    const tinyforge::TensorView out = rt.output(i);
    if (out_at + out.bytes > tinyforge_output_size) return false;
    std::memcpy(tinyforge_output + out_at, out.data, out.bytes);
    out_at += out.bytes;
  }
  return true;
}

uint32_t bytes_of(const tinyforge::Runtime& rt, bool inputs) {
  uint32_t n = 0;
  const uint32_t count = inputs ? rt.num_inputs() : rt.num_outputs();
  for (uint32_t i = 0; i < count; ++i) n += (inputs ? rt.input(i) : rt.output(i)).bytes;
  return n;
}

}  // namespace

int main() {
  bool ok = tinyforge_num_models <= kMaxModels;
  for (uint32_t m = 0; ok && m < tinyforge_num_models; ++m) {
    ok = tinyforge_arena_offsets[m] + tinyforge_arena_regions[m] <= tinyforge_arena_capacity &&
         runtimes[m].init(tinyforge_models[m], tinyforge_model_sizes[m],
                          tinyforge_arena + tinyforge_arena_offsets[m],
                          tinyforge_arena_regions[m]) == tinyforge::Status::ok;
  }
  tinyforge_arena_used = tinyforge_arena_capacity;

  tinyforge_bench_begin();
  uint32_t out_at = 0;
  for (uint32_t round = 0; ok && round < kRounds; ++round) {
    uint32_t in_at = 0;
    for (uint32_t m = 0; ok && m < tinyforge_num_models; ++m) {
      ok = run_model(m, in_at, out_at);
      in_at += bytes_of(runtimes[m], true);
      out_at += bytes_of(runtimes[m], false);
    }
  }
  tinyforge_bench_end();
  tinyforge_done();

  tinyforge::firmware::semihost_write0(ok ? "tinyforge: status=ok\n"
                                          : "tinyforge: status=failed\n");
  return ok ? 0 : 1;
}
