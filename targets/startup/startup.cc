// Startup code shared by every Cortex-M target: the vector table (first thing in flash,
// so the core and emulators find the initial SP and reset handler there) and the reset
// handler that makes C++ ready -- copy .data from flash, zero .bss, enable the FPU when
// the core has one, run static constructors -- then calls main(). The symbols come from
// the linker script targets/link/cortex_m.ld.in. .noinit is left untouched on purpose:
// an emulator writes the model input there before reset.
#include <cstdint>

#include "semihost.h"

extern "C" {
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __StackTop[];
using InitFunction = void (*)();
extern InitFunction __init_array_start[], __init_array_end[];
int main();
[[noreturn]] void Reset_Handler();
[[noreturn]] void tinyforge_fault_handler();
}

namespace {

// Armv7-M/Armv8-M exception numbers 1..15 (Armv7-M ARM B1.5.2): reset, NMI, HardFault,
// MemManage, BusFault, UsageFault, SecureFault (v8-M), 3 reserved, SVCall, DebugMonitor,
// reserved, PendSV, SysTick. The firmware enables no interrupt, so every other exception
// is a fault.
struct VectorTable {
  uint32_t* initial_sp;
  void (*handlers[15])();
};

}  // namespace

extern "C" const VectorTable tinyforge_vector_table;
__attribute__((section(".isr_vector"), used)) const VectorTable tinyforge_vector_table = {
    __StackTop,
    {Reset_Handler, tinyforge_fault_handler, tinyforge_fault_handler, tinyforge_fault_handler,
     tinyforge_fault_handler, tinyforge_fault_handler, tinyforge_fault_handler, nullptr, nullptr,
     nullptr, tinyforge_fault_handler, tinyforge_fault_handler, nullptr, tinyforge_fault_handler,
     tinyforge_fault_handler}};

// Under QEMU -semihosting a fault ends the run with a failure status instead of hanging.
void tinyforge_fault_handler() {
  tinyforge::firmware::semihost_write0("tinyforge: fault\n");
  tinyforge::firmware::semihost_exit(false);
}

void Reset_Handler() {
  const uint32_t* src = __data_load;
  for (uint32_t* dst = __data_start; dst < __data_end;) *dst++ = *src++;
  for (uint32_t* dst = __bss_start; dst < __bss_end;) *dst++ = 0;
#if defined(__ARM_FP)
  // CPACR (0xE000ED88): full access to coprocessors CP10 and CP11, the FPU
  // (Armv7-M ARM B3.2.20). Barriers so the next instruction sees the FPU enabled.
  *reinterpret_cast<volatile uint32_t*>(0xE000ED88u) |= 0xFu << 20;
  asm volatile("dsb\n\tisb" ::: "memory");
#endif
  for (InitFunction* f = __init_array_start; f < __init_array_end; ++f) (*f)();
  const int rc = main();
  tinyforge::firmware::semihost_exit(rc == 0);
}
