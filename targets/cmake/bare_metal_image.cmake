# tinyforge_bare_metal_image(TARGET): makes the executable TARGET a bootable Cortex-M image
# with tinyforge's startup code (targets/startup/startup.cc: vector table, .data and .bss,
# FPU, static constructors, then main(); main's return value ends a QEMU -semihosting run)
# and the generic memory map's linker script (targets/link/cortex_m.ld.in: flash 4 MiB at
# 0x0, RAM 4 MiB at 0x20000000, the memory of QEMU's mps2-an386). For projects configured
# with one of the toolchain files beside this one (targets/cmake/<core>.cmake).
set(_tinyforge_targets_dir ${CMAKE_CURRENT_LIST_DIR}/..)
# Linked by arm-none-eabi-gcc, as `tinyforge firmware` does: the firmware needs no libstdc++
# (no exceptions, no heap), and Debian's toolchain has no libstdc++ built for nano.specs.
enable_language(C)

function(tinyforge_bare_metal_image target)
  set(FLASH_ORIGIN 0x00000000)
  set(FLASH_LENGTH 0x00400000)
  set(RAM_ORIGIN 0x20000000)
  set(RAM_LENGTH 0x00400000)
  set(MIN_STACK 0x00002000)
  set(_ld ${CMAKE_CURRENT_BINARY_DIR}/${target}.ld)
  configure_file(${_tinyforge_targets_dir}/link/cortex_m.ld.in ${_ld} @ONLY)
  target_sources(${target} PRIVATE ${_tinyforge_targets_dir}/startup/startup.cc)
  target_include_directories(${target} PRIVATE ${_tinyforge_targets_dir}/firmware)
  target_link_options(${target} PRIVATE -nostartfiles -T ${_ld})
  set_target_properties(${target} PROPERTIES SUFFIX .elf LINK_DEPENDS ${_ld} LINKER_LANGUAGE C)
endfunction()
