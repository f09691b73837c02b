// A simulated NOR flash for tests and fuzzing (not device code), behaving like real parts:
//  - erase_page() sets a page to 0xFF; write() may only program erased bytes (0xFF), so
//    both "a 1 over a 0" and "write without erase" are caught; writes must be aligned to
//    the write unit and stay inside one page. Each breach returns flash_error and is
//    counted in violations(), which tests expect to stay 0.
//  - power cut: armed at any erase/write operation, before it (nothing happens), after it
//    (it completes) or inside it (torn: a write leaves a random prefix written and one byte
//    half-programmed; an erase leaves every byte old, 0xFF or random). The operation
//    returns power_lost and so does every call until power_on().
//  - read errors (ECC, bus timeouts): a read can be armed to fail once (transient) or to
//    make its page unreadable until the page is erased (sticky, an ECC error). With ECC
//    enabled, a torn write or erase also leaves its page unreadable, as on parts whose
//    ECC words were left half-programmed.
//  - a silent write fault: the armed write reports ok but some bits stay 1 (a worn cell);
//    only reading back finds it.
// Freestanding (no heap): the caller provides the memory.
#pragma once
#include <cstdint>

#include "tinyforge/ota/flash.h"

namespace tinyforge::ota::testing {

class NorFlashSim {
 public:
  enum class Cut : uint8_t { before, after, torn };
  enum class ReadFault : uint8_t { transient, sticky };

  static constexpr uint32_t kMaxPages = 256;

  // `memory` holds `size` bytes (a multiple of page_size, at most kMaxPages pages); it is
  // set to 0xFF, like a new chip.
  void init(uint8_t* memory, uint32_t size, uint32_t page_size, uint32_t write_unit);
  Flash flash();  // callbacks bound to this object

  // Cut power at the operation with this index (counted by operations(), from 0).
  void arm_cut(uint32_t operation, Cut kind, uint32_t seed);
  // Fail the read with this index (counted by reads(), from 0): transient fails it and the
  // next burst - 1 reads (a timeout that outlasts retries); sticky makes its page unreadable.
  void arm_read_error(uint32_t read, ReadFault kind, uint32_t burst = 1);
  uint32_t last_read_error_address() const { return read_error_address_; }
  // The write operation with this index programs only some of its 1->0 bits, reports ok.
  void arm_weak_write(uint32_t operation, uint32_t seed);
  void disarm() { armed_ = read_armed_ = weak_armed_ = false; }
  void set_ecc(bool on) { ecc_ = on; }
  void set_unreadable(uint32_t address) { unreadable_[address / page_size_] = true; }
  void clear_read_errors() {
    for (bool& u : unreadable_) u = false;
    read_armed_ = false;
  }
  bool unreadable(uint32_t address) const { return unreadable_[address / page_size_]; }
  void power_on() { powered_ = true; }
  bool powered() const { return powered_; }
  bool cut_happened() const { return cut_happened_; }
  bool read_error_happened() const { return read_error_happened_; }

  uint32_t operations() const { return operations_; }  // erases + writes attempted with power
  uint32_t reads() const { return reads_; }
  uint32_t erases() const { return erases_; }
  uint32_t writes() const { return writes_; }
  uint32_t violations() const { return violations_; }
  const uint8_t* memory() const { return memory_; }
  uint8_t* memory() { return memory_; }
  uint32_t size() const { return size_; }

 private:
  static Status read_cb(void* self, uint32_t address, uint8_t* out, uint32_t size);
  static Status write_cb(void* self, uint32_t address, const uint8_t* data, uint32_t size);
  static Status erase_cb(void* self, uint32_t address);
  Status read(uint32_t address, uint8_t* out, uint32_t size);
  Status write(uint32_t address, const uint8_t* data, uint32_t size);
  Status erase(uint32_t address);
  bool cut_now(Cut* kind);  // counts the operation; true if power goes now
  uint32_t random();

  uint8_t* memory_ = nullptr;
  uint32_t size_ = 0, page_size_ = 0, write_unit_ = 0;
  bool powered_ = true, armed_ = false, cut_happened_ = false, ecc_ = false;
  bool read_armed_ = false, read_error_happened_ = false, weak_armed_ = false;
  Cut cut_kind_ = Cut::before;
  ReadFault read_kind_ = ReadFault::transient;
  uint32_t cut_at_ = 0, read_at_ = 0, read_burst_ = 0, read_error_address_ = 0, weak_at_ = 0;
  uint32_t rng_ = 1;
  uint32_t operations_ = 0, reads_ = 0, erases_ = 0, writes_ = 0, violations_ = 0;
  bool unreadable_[kMaxPages] = {};
};

}  // namespace tinyforge::ota::testing
