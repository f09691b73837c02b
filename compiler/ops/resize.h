// IR params of ResizeNearestNeighbor and ResizeBilinear: declared here so importers and tests
// can build nodes.
#pragma once

namespace tinyforge::ops {

// TFLite's ResizeNearestNeighborOptions / ResizeBilinearOptions (at most one of them set).
struct ResizeAttrs {
  bool align_corners = false;
  bool half_pixel_centers = false;
  friend bool operator==(const ResizeAttrs& a, const ResizeAttrs& b) {
    return a.align_corners == b.align_corners && a.half_pixel_centers == b.half_pixel_centers;
  }
};

}  // namespace tinyforge::ops
