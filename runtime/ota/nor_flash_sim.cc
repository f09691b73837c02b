// Simulated NOR flash with power-cut injection; see tinyforge/ota/nor_flash_sim.h.
#include "tinyforge/ota/nor_flash_sim.h"

#include <cstring>

namespace tinyforge::ota {

void NorFlashSim::init(uint8_t* memory, uint32_t size, uint32_t page_size, uint32_t write_unit) {
  memory_ = memory;
  size_ = size;
  page_size_ = page_size;
  write_unit_ = write_unit;
  std::memset(memory_, 0xFF, size_);
  powered_ = true;
  armed_ = false;
  cut_happened_ = false;
  operations_ = erases_ = writes_ = violations_ = 0;
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
    }
    return Status::power_lost;
  }
  ++writes_;
  std::memcpy(memory_ + address, data, size);
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
    }
    return Status::power_lost;
  }
  ++erases_;
  std::memset(page, 0xFF, page_size_);
  return Status::ok;
}

}  // namespace tinyforge::ota
