// A simulated 8x8 light sensor: each read gives one frame of 8-bit brightness counts, the
// way a camera or photodiode array delivers them by DMA into a RAM buffer. Here the buffer
// `light_sensor_dma` is filled from outside before reset (QEMU's `-device loader`, as a test
// harness does); when nothing was put there, the sensor "sees" a built-in test pattern.
#pragma once
#include <cstdint>

namespace sensor_firmware {

constexpr int kFrameSide = 8;
constexpr int kFramePixels = kFrameSide * kFrameSide;

// What the DMA writes: a marker saying a frame is there, then the pixels row by row
// (0 = dark, 255 = brightest).
constexpr uint32_t kFrameReady = 0x4D415246;  // "FRAM" in little-endian ASCII
struct DmaFrame {
  uint32_t ready;
  uint8_t pixels[kFramePixels];
};

// Copies the latest frame into `pixels`; returns false when the built-in pattern was used.
bool light_sensor_read(uint8_t pixels[kFramePixels]);

}  // namespace sensor_firmware
