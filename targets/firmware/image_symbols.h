// What the single-model firmware mains (bench_main.cc, listen_main.cc) share: the
// model-specific symbols of the generated model_data.cc (emit/firmware.h) and the markers
// an emulator reads its counters at (../shared/tools/m4sim/README.md). It defines the
// markers: one file of an image includes it.
#pragma once
#include <cstdint>

extern "C" {
extern const uint8_t tinyforge_model_blob[];
extern const uint32_t tinyforge_model_blob_size;
extern uint8_t tinyforge_arena[];
extern const uint32_t tinyforge_arena_capacity;
extern uint8_t tinyforge_input[];
extern const uint32_t tinyforge_input_size;
extern uint8_t tinyforge_output[];
extern const uint32_t tinyforge_output_size;

// Markers: never inlined nor merged with each other (noipa: no identical-code folding),
// and the memory clobber keeps the measured loads and stores between them.
__attribute__((noinline, noipa, used)) void tinyforge_bench_begin() {
  asm volatile("" ::: "memory");
}
__attribute__((noinline, noipa, used)) void tinyforge_bench_end() { asm volatile("" ::: "memory"); }
__attribute__((noinline, noipa, used)) void tinyforge_done() { asm volatile("" ::: "memory"); }
}
