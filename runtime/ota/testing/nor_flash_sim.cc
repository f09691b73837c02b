// Simulated NOR flash with power-cut and read-error injection; see nor_flash_sim.h.
#include "runtime/ota/testing/nor_flash_sim.h"

#include <cstring>

namespace tinyforge::ota::testing {

void NorFlashSim::init(uint8_t* memory, uint32_t size, uint32_t page_size, uint32_t write_unit) {
  memory_ = memory;
  size_ = size;
  page_size_ = page_size;
  write_unit_ = write_unit;
  std::memset(memory_, 0xFF, size_);
  powered_ = true;
  armed_ = read_armed_ = weak_armed_ = false;
  cut_happened_ = read_error_happened_ = ecc_ = false;
  operations_ = reads_ = erases_ = writes_ = violations_ = 0;
  for (bool& u : unreadable_) u = false;
  if (size / page_size > kMaxPages) ++violations_;  // the test set the sim up wrongly
}

void NorFlashSim::arm_read_error(uint32_t read, ReadFault kind, uint32_t burst) {
  read_armed_ = true;
  read_at_ = read;
  read_kind_ = kind;
  read_burst_ = burst == 0 ? 1 : burst;
  read_error_happened_ = false;
}

void NorFlashSim::arm_weak_write(uint32_t operation, uint32_t seed) {
  weak_armed_ = true;
  weak_at_ = operation;
  rng_ = seed | 1;
}

Flash NorFlashSim::flash() {
  return Flash{this, &NorFlashSim::read_cb, &NorFlashSim::write_cb, &NorFlashSim::erase_cb,
               page_size_, write_unit_};
}

void NorFlashSim::arm_cut(uint32_t operation, Cut kind, uint32_t seed) {
  armed_ = true;
  cut_at_ = operation;
  cut_kind_ = kind;
  cut_happened_ = false;
  rng_ = seed | 1;
}

uint32_t NorFlashSim::random() {  // xorshift32: reproducible "unknown" states
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 17;
  rng_ ^= rng_ << 5;
  return rng_;
}

bool NorFlashSim::cut_now(Cut* kind) {
  const uint32_t index = operations_++;
  if (!armed_ || index != cut_at_) return false;
  armed_ = false;
  powered_ = false;
  cut_happened_ = true;
  *kind = cut_kind_;
  return true;
}

Status NorFlashSim::read_cb(void* self, uint32_t address, uint8_t* out, uint32_t size) {
  return static_cast<NorFlashSim*>(self)->read(address, out, size);
}
Status NorFlashSim::write_cb(void* self, uint32_t address, const uint8_t* data, uint32_t size) {
  return static_cast<NorFlashSim*>(self)->write(address, data, size);
}
Status NorFlashSim::erase_cb(void* self, uint32_t address) {
  return static_cast<NorFlashSim*>(self)->erase(address);
}

Status NorFlashSim::read(uint32_t address, uint8_t* out, uint32_t size) {
  if (!powered_) return Status::power_lost;
  if (address > size_ || size > size_ - address) {
    ++violations_;
    return Status::flash_error;
  }
  const uint32_t index = reads_++;
  if (read_armed_ && index >= read_at_ && index - read_at_ < read_burst_) {
    if (index - read_at_ + 1 == read_burst_ || read_kind_ == ReadFault::sticky) read_armed_ = false;
    if (!read_error_happened_) read_error_address_ = address;
    read_error_happened_ = true;
    if (read_kind_ == ReadFault::sticky) unreadable_[address / page_size_] = true;
    return Status::flash_error;
  }
  for (uint32_t page = address / page_size_; size > 0 && page <= (address + size - 1) / page_size_;
       ++page)
    if (unreadable_[page]) return Status::flash_error;  // ECC: the page reads as an error
  std::memcpy(out, memory_ + address, size);
  return Status::ok;
}

Status NorFlashSim::write(uint32_t address, const uint8_t* data, uint32_t size) {
  if (!powered_) return Status::power_lost;
  const bool in_range = address <= size_ && size <= size_ - address;
  const bool aligned = address % write_unit_ == 0 && size % write_unit_ == 0 && size > 0;
  const bool one_page = in_range && size > 0 && address / page_size_ == (address + size - 1) / page_size_;
  bool erased = in_range;
  for (uint32_t i = 0; erased && i < size; ++i) erased = memory_[address + i] == 0xFF;
  if (erased && unreadable_[address / page_size_]) erased = false;  // erase it first
  if (!in_range || !aligned || !one_page || !erased) {
    ++violations_;  // the agent broke the flash contract: not a simulated hardware fault
    return Status::flash_error;
  }
  Cut kind;
  if (cut_now(&kind)) {
    if (kind == Cut::after) {
      std::memcpy(memory_ + address, data, size);
    } else if (kind == Cut::torn) {
      const uint32_t done = random() % size;  // bytes fully programmed
      std::memcpy(memory_ + address, data, done);
      // The byte being programmed: some of its 1->0 bits made it, others did not.
      memory_[address + done] &= static_cast<uint8_t>(data[done] | random());
      if (ecc_) unreadable_[address / page_size_] = true;
    }
    return Status::power_lost;
  }
  ++writes_;
  std::memcpy(memory_ + address, data, size);
  if (weak_armed_ && operations_ - 1 == weak_at_) {
    weak_armed_ = false;
    // Some bits that should have gone to 0 stay 1: at least one, if any was programmed.
    const uint32_t first = random() % size;
    for (uint32_t k = 0; k < size; ++k) {
      const uint32_t i = (first + k) % size;
      const uint8_t programmed = static_cast<uint8_t>(~data[i]);
      if (programmed == 0) continue;
      memory_[address + i] |= static_cast<uint8_t>(programmed & (0u - programmed));  // lowest
      break;
    }
  }
  return Status::ok;
}

Status NorFlashSim::erase(uint32_t address) {
  if (!powered_) return Status::power_lost;
  if (address % page_size_ != 0 || address >= size_) {
    ++violations_;
    return Status::flash_error;
  }
  uint8_t* page = memory_ + address;
  Cut kind;
  if (cut_now(&kind)) {
    if (kind == Cut::after) {
      std::memset(page, 0xFF, page_size_);
    } else if (kind == Cut::torn) {
      for (uint32_t i = 0; i < page_size_; ++i) {
        const uint32_t r = random();
        const uint32_t choice = r % 3;
        if (choice == 1) page[i] = 0xFF;
        else if (choice == 2) page[i] = static_cast<uint8_t>(r >> 8);  // else: still old
      }
      if (ecc_) unreadable_[address / page_size_] = true;
    } else if (kind == Cut::after) {
      unreadable_[address / page_size_] = false;
    }
    return Status::power_lost;
  }
  ++erases_;
  std::memset(page, 0xFF, page_size_);
  unreadable_[address / page_size_] = false;
  return Status::ok;
}

}  // namespace tinyforge::ota::testing
