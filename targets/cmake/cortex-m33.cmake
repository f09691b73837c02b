# Toolchain file for cortex-m33 (-mcpu=cortex-m33 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard).
# Use: cmake --preset cortex-m33  (or -DCMAKE_TOOLCHAIN_FILE=targets/cmake/cortex-m33.cmake)
set(TINYFORGE_TARGET cortex-m33)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
