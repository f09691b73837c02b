// Minimal bare-metal start for the OTA benchmark ELF: vector table (initial SP, reset),
// copy .data, zero .bss, enable the FPU (CPACR, Armv7-M ARM B3.2.20), call main().
#include <cstdint>

extern "C" {
extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[];
int main();
[[noreturn]] void ota_bench_reset();
}

struct Vectors {
  uint32_t* sp;
  void (*reset)();
};
__attribute__((section(".isr_vector"), used))
const Vectors ota_bench_vectors = {__stack_top, ota_bench_reset};

void ota_bench_reset() {
  const uint32_t* src = __data_load;
  for (uint32_t* dst = __data_start; dst < __data_end;) *dst++ = *src++;
  for (uint32_t* dst = __bss_start; dst < __bss_end;) *dst++ = 0;
  *reinterpret_cast<volatile uint32_t*>(0xE000ED88u) |= 0xFu << 20;
  asm volatile("dsb\n\tisb" ::: "memory");
  main();
  for (;;) {
  }
}
