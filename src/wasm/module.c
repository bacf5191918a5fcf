/* module.c - the browser module's entry point. The exported API is include/veriface.h itself
 * (see EXPORTED_FUNCTIONS in CMakeLists.txt); JS passes model bytes in memory. This file only
 * keeps the module from having a main(). */
#include "veriface.h"

/* Referenced so the linker keeps the library's objects even without a main(). */
const char *vf_wasm_version(void) { return vf_version(); }
