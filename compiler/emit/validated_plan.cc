#include "emit/validated_plan.h"

#include <fmt/format.h>

#include <cstring>

#include "ir/graph.h"
#include "tinyforge/runtime.h"

namespace tinyforge::emit {
namespace {

std::vector<uint32_t> aligned_copy(const std::vector<uint8_t>& bytes) {
  std::vector<uint32_t> words((bytes.size() + 3) / 4);
  if (!bytes.empty()) std::memcpy(words.data(), bytes.data(), bytes.size());
  return words;
}

// Validates before the reader reads the header: a short blob must not be read past its end.
const uint8_t* validated(const std::vector<uint32_t>& words, size_t size,
                         const std::string& source) {
  const auto* blob = reinterpret_cast<const uint8_t*>(words.data());
  const Status s = size > UINT32_MAX ? Status::too_large
                                     : validate_plan(blob, static_cast<uint32_t>(size));
  if (s != Status::ok)
    throw tinyforge::Error(fmt::format("{}: invalid plan blob: {}", source, status_name(s)));
  return blob;
}

}  // namespace

ValidatedPlan::ValidatedPlan(const std::vector<uint8_t>& bytes, const std::string& source)
    : words_(aligned_copy(bytes)),
      size_(static_cast<uint32_t>(bytes.size())),
      reader_(validated(words_, bytes.size(), source)) {}

uint32_t ValidatedPlan::input_bytes() const {
  uint32_t total = 0;
  for (uint32_t i = 0; i < header().num_inputs; ++i)
    total += reader_.tensor(reader_.model_input(i)).size_bytes;
  return total;
}

uint32_t ValidatedPlan::output_bytes() const {
  uint32_t total = 0;
  for (uint32_t i = 0; i < header().num_outputs; ++i)
    total += reader_.tensor(reader_.model_output(i)).size_bytes;
  return total;
}

}  // namespace tinyforge::emit
