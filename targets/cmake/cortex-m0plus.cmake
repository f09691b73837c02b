# Toolchain file for cortex-m0plus (-mcpu=cortex-m0plus -mthumb -mfloat-abi=soft).
# Use: cmake --preset cortex-m0plus  (or -DCMAKE_TOOLCHAIN_FILE=targets/cmake/cortex-m0plus.cmake)
set(TINYFORGE_TARGET cortex-m0plus)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
