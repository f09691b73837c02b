#include "light_sensor.h"

#include <cstring>

extern "C" {
// The DMA target: in .noinit, so the startup code leaves what was loaded before reset.
alignas(8)
    __attribute__((section(".noinit"), used)) volatile sensor_firmware::DmaFrame light_sensor_dma;
}

namespace sensor_firmware {
namespace {

// A "7" as the sensor would see it: a bright bar on top and a slanted stroke.
const uint8_t kTestPattern[kFramePixels] = {0, 40, 200, 255, 255, 255, 180, 0,   //
                                            0, 30, 120, 120, 140, 255, 160, 0,   //
                                            0, 0,  0,   0,   150, 240, 20,  0,   //
                                            0, 0,  0,   40,  255, 150, 0,   0,   //
                                            0, 0,  30,  220, 255, 180, 60,  0,   //
                                            0, 0,  60,  255, 140, 40,  10,  0,   //
                                            0, 0,  120, 200, 0,   0,   0,   0,   //
                                            0, 0,  160, 120, 0,   0,   0,   0};  //

}  // namespace

bool light_sensor_read(uint8_t pixels[kFramePixels]) {
  if (light_sensor_dma.ready != kFrameReady) {
    std::memcpy(pixels, kTestPattern, kFramePixels);
    return false;
  }
  for (int i = 0; i < kFramePixels; ++i) pixels[i] = light_sensor_dma.pixels[i];
  light_sensor_dma.ready = 0;  // consumed: the next read waits for a new frame
  return true;
}

}  // namespace sensor_firmware
