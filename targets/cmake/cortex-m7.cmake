# Toolchain file for cortex-m7 (-mcpu=cortex-m7 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard).
# Use: cmake --preset cortex-m7  (or -DCMAKE_TOOLCHAIN_FILE=targets/cmake/cortex-m7.cmake)
set(TINYFORGE_TARGET cortex-m7)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
