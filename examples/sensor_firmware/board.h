// The board this firmware runs on: Arm's MPS2 with the AN386 Cortex-M4 image, as QEMU
// models it (`qemu-system-arm -M mps2-an386`). Output goes to the host over semihosting.
#pragma once
#include <cstdint>

namespace sensor_firmware {

// GPIO port 0 (CMSDK AHB GPIO at 0x40010000 on MPS2; register offsets from Arm's "Cortex-M
// System Design Kit Technical Reference Manual", AHB GPIO: DATAOUT 0x004, OUTENSET 0x010).
void gpio_set_outputs(uint32_t pins);

// One line on the debug console (semihosting SYS_WRITE0).
void console_print(const char* line);

}  // namespace sensor_firmware
