// Test firmware for sim/emulator_test.cc (cortex-m4): follows the measurement protocol
// without the tinyforge runtime, and exercises what the counters must get right: IT
// blocks whose condition fails, SDIV, VDIV, PUSH/POP, loads after loads, taken branches.
// Variants for the error paths: FAULT (writes to unmapped memory inside the measurement),
// EXIT_EARLY (exits by semihosting before tinyforge_bench_begin), SPIN (never ends).
#include <cstdint>

#include "semihost.h"

extern "C" {
__attribute__((section(".noinit"), used)) uint8_t tinyforge_input[64];
__attribute__((section(".noinit"), used)) uint8_t tinyforge_output[64];
__attribute__((used)) volatile uint32_t tinyforge_arena_used;
__attribute__((noinline, noipa, used)) void tinyforge_bench_begin() {
  asm volatile("" ::: "memory");
}
__attribute__((noinline, noipa, used)) void tinyforge_bench_end() { asm volatile("" ::: "memory"); }
__attribute__((noinline, noipa, used)) void tinyforge_done() { asm volatile("" ::: "memory"); }
}

namespace {

struct Table {
  uint8_t v[256];
};
constexpr Table make_table() {
  Table t{};
  for (int i = 0; i < 256; ++i) t.v[i] = static_cast<uint8_t>((i * 37 + 11) & 0xFF);
  return t;
}
__attribute__((section(".tinyforge.model"), used)) const Table table = make_table();

__attribute__((noinline)) int32_t select_max(int32_t a, int32_t b) {
  int32_t r;
  asm("cmp %1, %2\n\tite gt\n\tmovgt %0, %1\n\tmovle %0, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
  return r;
}

__attribute__((noinline)) int32_t divide(int32_t a, int32_t b) { return a / b; }
__attribute__((noinline)) float fdivide(float a, float b) { return a / b; }

}  // namespace

int main() {
  tinyforge::firmware::semihost_write0("protocol firmware start\n");
#if defined(EXIT_EARLY)
  static volatile bool exit_now = true;  // volatile: the code after stays in the image
  if (exit_now) tinyforge::firmware::semihost_exit(true);
#endif
  tinyforge_arena_used = 1234;
  tinyforge_bench_begin();
#if defined(FAULT)
  *reinterpret_cast<volatile uint32_t*>(0x60000000u) = 1;
#endif
#if defined(SPIN)
  for (volatile int i = 0; i >= 0; i = 0) {
  }
#endif
  for (int i = 0; i < 64; ++i) {
    const int32_t a = tinyforge_input[i], b = table.v[a];
    const int32_t m = select_max(a, b);
    const int32_t q = divide(m + 1000, (i & 7) + 1);
    const int32_t f = static_cast<int32_t>(fdivide(static_cast<float>(a), 3.0f));
    tinyforge_output[i] = static_cast<uint8_t>(m ^ q ^ f);
  }
  tinyforge_bench_end();
  tinyforge_done();
  tinyforge::firmware::semihost_write0("protocol firmware done\n");
  return 0;
}
