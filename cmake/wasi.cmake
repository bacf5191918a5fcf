# Toolchain file for WASI (clang-14 + Debian's wasi-libc). Debian ships no wasi sysroot, so a
# private one is made of two symlinks; without it clang also searches the host /usr/include
# (see ../shared/TOOLCHAIN.md section 3).
set(CMAKE_SYSTEM_NAME WASI)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
set(CMAKE_C_COMPILER clang-14)
set(CMAKE_C_COMPILER_TARGET wasm32-wasi)
set(VF_WASI_SYSROOT ${CMAKE_BINARY_DIR}/wasi-sysroot)
file(MAKE_DIRECTORY ${VF_WASI_SYSROOT}/include ${VF_WASI_SYSROOT}/lib)
if(NOT EXISTS ${VF_WASI_SYSROOT}/include/wasm32-wasi)
  file(CREATE_LINK /usr/include/wasm32-wasi ${VF_WASI_SYSROOT}/include/wasm32-wasi SYMBOLIC)
endif()
if(NOT EXISTS ${VF_WASI_SYSROOT}/lib/wasm32-wasi)
  file(CREATE_LINK /usr/lib/wasm32-wasi ${VF_WASI_SYSROOT}/lib/wasm32-wasi SYMBOLIC)
endif()
set(CMAKE_SYSROOT ${VF_WASI_SYSROOT})
set(CMAKE_EXECUTABLE_SUFFIX_C ".wasm")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_CROSSCOMPILING_EMULATOR node;${CMAKE_CURRENT_LIST_DIR}/run-wasi.mjs)
