// A plan blob on the host, checked by the device runtime's own validator and read through
// the runtime's PlanReader: what `inspect`, the AOT emitter, firmware and host runs use
// instead of parsing the format again.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tinyforge/plan_reader.h"

namespace tinyforge::emit {

class ValidatedPlan {
 public:
  // Copies `bytes` 4-byte aligned and runs validate_plan(); throws tinyforge::Error
  // "<source>: invalid plan blob: <status>" when it fails.
  ValidatedPlan(const std::vector<uint8_t>& bytes, const std::string& source);

  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(words_.data()); }
  uint32_t size() const { return size_; }
  const PlanReader& reader() const { return reader_; }
  const PlanHeader& header() const { return reader_.header(); }

  // Bytes of all model inputs / outputs together.
  uint32_t input_bytes() const;
  uint32_t output_bytes() const;

 private:
  std::vector<uint32_t> words_;  // the blob, 4-byte aligned
  uint32_t size_;
  PlanReader reader_;
};

}  // namespace tinyforge::emit
