# Common part of the Cortex-M toolchain files: arm-none-eabi-gcc (Debian's
# gcc-arm-none-eabi + newlib) for bare-metal targets. A per-core file sets
# TINYFORGE_TARGET and includes this one; the core's flags come from targets/targets.json,
# the same table `tinyforge firmware` uses, so the two can never disagree.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_AR arm-none-eabi-ar)
set(CMAKE_RANLIB arm-none-eabi-ranlib)
# No host OS to link executables against during compiler checks.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

file(READ "${CMAKE_CURRENT_LIST_DIR}/../targets.json" _tf_targets_json)
string(JSON _tf_flag_count LENGTH "${_tf_targets_json}" targets ${TINYFORGE_TARGET} cpu_flags)
set(_tf_cpu_flags "")
math(EXPR _tf_last "${_tf_flag_count} - 1")
foreach(_i RANGE ${_tf_last})
  string(JSON _flag GET "${_tf_targets_json}" targets ${TINYFORGE_TARGET} cpu_flags ${_i})
  string(APPEND _tf_cpu_flags " ${_flag}")
endforeach()

set(CMAKE_C_FLAGS_INIT "${_tf_cpu_flags} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${_tf_cpu_flags} -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti")
set(CMAKE_ASM_FLAGS_INIT "${_tf_cpu_flags}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs --specs=nosys.specs -Wl,--gc-sections")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
