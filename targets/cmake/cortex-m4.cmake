# Toolchain file for cortex-m4 (-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard).
# Use: cmake --preset cortex-m4  (or -DCMAKE_TOOLCHAIN_FILE=targets/cmake/cortex-m4.cmake)
set(TINYFORGE_TARGET cortex-m4)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
