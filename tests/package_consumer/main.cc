// Runs the packaged model "digits" once on one input and reports the output bytes.
// Host: `consumer IN OUT` reads the input tensor from IN and writes the output to OUT.
// Bare metal (QEMU mps2-an386): the input is at `consumer_input`, written by QEMU's loader
// before reset; the output is printed in hex over semihosting.
#include <cstdio>
#include <cstring>

#include "digits_model.h"
#include "tinyforge/runtime.h"

namespace {

alignas(DIGITS_ARENA_ALIGNMENT) uint8_t g_arena[DIGITS_ARENA_BYTES];
tinyforge::Runtime g_runtime;

// The output's bytes, or nullptr when the runtime refuses the plan.
const uint8_t* infer(const uint8_t* input) {
  if (g_runtime.init(digits_model_plan, digits_model_plan_size, g_arena, sizeof g_arena) !=
      tinyforge::Status::ok)
    return nullptr;
  std::memcpy(g_runtime.input(0).data, input, DIGITS_INPUT0_BYTES);
  if (g_runtime.invoke() != tinyforge::Status::ok) return nullptr;
  return g_runtime.output(0).as<const uint8_t>();
}

}  // namespace

#if defined(__arm__)
#include "semihost.h"

extern "C" {
alignas(8) __attribute__((section(".noinit"), used)) uint8_t consumer_input[DIGITS_INPUT0_BYTES];
}

int main() {
  const uint8_t* out = infer(consumer_input);
  if (out == nullptr) {
    tinyforge::firmware::semihost_write0("consumer: the runtime refused the plan\n");
    return 1;
  }
  static char line[32 + 2 * DIGITS_OUTPUT0_BYTES];
  int at = std::snprintf(line, sizeof line, "consumer: output=");
  for (uint32_t i = 0; i < DIGITS_OUTPUT0_BYTES; ++i)
    at += std::snprintf(line + at, sizeof line - at, "%02x", out[i]);
  std::snprintf(line + at, sizeof line - at, "\n");
  tinyforge::firmware::semihost_write0(line);
  return 0;
}
#else
int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: consumer INPUT OUTPUT\n");
    return 2;
  }
  static uint8_t input[DIGITS_INPUT0_BYTES];
  std::FILE* in = std::fopen(argv[1], "rb");
  const bool read = in != nullptr && std::fread(input, 1, sizeof input, in) == sizeof input;
  if (in != nullptr) std::fclose(in);
  const uint8_t* out = read ? infer(input) : nullptr;
  std::FILE* f = out != nullptr ? std::fopen(argv[2], "wb") : nullptr;
  const bool written =
      f != nullptr && std::fwrite(out, 1, DIGITS_OUTPUT0_BYTES, f) == DIGITS_OUTPUT0_BYTES;
  if (f != nullptr) std::fclose(f);
  return written ? 0 : 1;
}
#endif
