// The OTA agent's only view of flash: three callbacks and the geometry. Each callback
// returns Status::ok, Status::flash_error, or (simulation) Status::power_lost; the agent
// passes any failure straight back to its caller by ordinary returns.
//
// Contract the agent keeps (and runtime/ota/testing/nor_flash_sim.h enforces):
//  - erase_page() gets a page-aligned address; afterwards the page reads 0xFF;
//  - write() gets an address and size that are multiples of write_unit, never crosses a
//    page boundary, and only targets bytes erased since they were last written;
//  - read() may be called with any address and size inside the configured regions; it may
//    fail (ECC error, bus timeout): the agent retries, then treats the data as damaged;
//  - every write() is followed by a read() of the same bytes, compared.
#pragma once
#include <cstdint>

#include "tinyforge/status.h"

namespace tinyforge::ota {

constexpr uint32_t kMaxWriteUnit = 32;  // e.g. 256-bit flash words of STM32H7

struct Flash {
  void* context;
  Status (*read)(void* context, uint32_t address, uint8_t* out, uint32_t size);
  Status (*write)(void* context, uint32_t address, const uint8_t* data, uint32_t size);
  Status (*erase_page)(void* context, uint32_t address);
  uint32_t page_size;   // erase unit in bytes, a power of two
  uint32_t write_unit;  // program unit in bytes, a power of two <= kMaxWriteUnit
};

}  // namespace tinyforge::ota
