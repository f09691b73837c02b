#include "board.h"

#include "semihost.h"

namespace sensor_firmware {
namespace {

constexpr uintptr_t kGpio0 = 0x40010000u;
volatile uint32_t& gpio_register(uint32_t offset) {
  return *reinterpret_cast<volatile uint32_t*>(kGpio0 + offset);
}

}  // namespace

void gpio_set_outputs(uint32_t pins) {
  gpio_register(0x010) = 0xFFu;  // OUTENSET: pins 0..7 drive
  gpio_register(0x004) = pins;   // DATAOUT
}

void console_print(const char* line) { tinyforge::firmware::semihost_write0(line); }

}  // namespace sensor_firmware
