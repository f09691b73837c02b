// Sensor firmware: one frame from the light sensor -> int8 input quantized with the
// model's own scale and zero point (digits_model.h, so a retrained model keeps working) ->
// the digits model -> the recognised digit on GPIO pins 0..3 (pin 4: confident) and on the
// console. One frame per boot, so that QEMU ends the run; a device would loop.
#include <cmath>
#include <cstdio>

#include "board.h"
#include "digits_model.h"
#include "light_sensor.h"
#include "tinyforge/runtime.h"

static_assert(DIGITS_INPUT0_ELEMENTS == sensor_firmware::kFramePixels,
              "the model takes one 8x8 frame");
static_assert(DIGITS_INPUT0_DTYPE == 2 && DIGITS_OUTPUT0_DTYPE == 2,
              "export the model quantized with int8 input and output (quantize --io int8)");

namespace {

using namespace sensor_firmware;

alignas(DIGITS_ARENA_ALIGNMENT) uint8_t g_arena[DIGITS_ARENA_BYTES];
tinyforge::Runtime g_model;

// Brightness 0..255 -> the model's input range 0..1 -> int8 with the input's quantization.
void quantize_frame(const uint8_t* pixels, int8_t* input) {
  for (int i = 0; i < kFramePixels; ++i) {
    const float brightness = static_cast<float>(pixels[i]) / 255.0f;
    const long q = std::lround(brightness / DIGITS_INPUT0_SCALE) + DIGITS_INPUT0_ZERO_POINT;
    input[i] = static_cast<int8_t>(q < -128 ? -128 : q > 127 ? 127 : q);
  }
}

}  // namespace

int main() {
  char line[96];
  const tinyforge::Status init =
      g_model.init(digits_model_plan, digits_model_plan_size, g_arena, sizeof g_arena);
  if (init != tinyforge::Status::ok) {
    std::snprintf(line, sizeof line, "sensor: model refused: %s\n", tinyforge::status_name(init));
    console_print(line);
    return 1;
  }
  uint8_t pixels[kFramePixels];
  const bool from_dma = light_sensor_read(pixels);
  quantize_frame(pixels, g_model.input(0).as<int8_t>());
  if (g_model.invoke() != tinyforge::Status::ok) return 1;

  const tinyforge::TensorView out = g_model.output(0);
  const int8_t* scores = out.as<const int8_t>();
  int digit = 0;
  for (int i = 1; i < out.elements(); ++i)
    if (scores[i] > scores[digit]) digit = i;
  const float probability =
      DIGITS_OUTPUT0_SCALE * static_cast<float>(scores[digit] - DIGITS_OUTPUT0_ZERO_POINT);
  const bool confident = probability >= 0.5f;
  gpio_set_outputs(static_cast<uint32_t>(digit) | (confident ? 0x10u : 0u));

  int at =
      std::snprintf(line, sizeof line,
                    "sensor: frame=%s digit=%d p=%d%% scores=", from_dma ? "dma" : "test-pattern",
                    digit, static_cast<int>(probability * 100.0f + 0.5f));
  for (int i = 0; i < out.elements(); ++i)
    at += std::snprintf(line + at, sizeof line - at, "%02x", static_cast<uint8_t>(scores[i]));
  std::snprintf(line + at, sizeof line - at, "\n");
  console_print(line);
  return 0;
}
