// ARM semihosting calls (BKPT 0xAB) used by the firmware to print its result and stop.
// Answered by QEMU -semihosting, a debugger, m4sim and tinyforge's own emulator; on a
// board without a debugger attached a BKPT faults, so only call these after
// tinyforge_done(). Operation numbers: Arm "Semihosting for AArch32 and AArch64",
// SYS_WRITE0 = 0x04, SYS_EXIT = 0x18 with reason ADP_Stopped_ApplicationExit = 0x20026.
#pragma once
#include <cstdint>

namespace tinyforge::firmware {

inline uint32_t semihost_call(uint32_t op, const void* arg) {
  register uint32_t r0 asm("r0") = op;
  register const void* r1 asm("r1") = arg;
  asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

inline void semihost_write0(const char* text) { semihost_call(0x04, text); }

// ok: exit status 0 under QEMU; otherwise a non-zero status (ADP_Stopped_RunTimeErrorUnknown).
[[noreturn]] inline void semihost_exit(bool ok) {
  semihost_call(0x18, reinterpret_cast<const void*>(ok ? 0x20026u : 0x20023u));
  for (;;) {
  }
}

}  // namespace tinyforge::firmware
