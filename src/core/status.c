/* status.c - version and status strings. */
#include "veriface.h"

const char *vf_version(void) { return VF_VERSION_STRING; }

const char *vf_status_string(vf_status s) {
    switch (s) {
    case VF_OK: return "ok";
    case VF_E_INVALID_ARG: return "invalid argument";
    case VF_E_NO_MEMORY: return "out of memory or size overflow";
    case VF_E_MODEL: return "model is corrupt, truncated or inconsistent";
    case VF_E_NO_MODEL: return "required model is not available";
    case VF_E_UNSUPPORTED: return "not supported by this build or backend";
    case VF_E_BACKEND: return "backend library failure";
    case VF_E_IMAGE: return "image is corrupt, too large or of a bad format";
    case VF_E_IO: return "file could not be read or written";
    case VF_E_INTERNAL: return "internal error";
    }
    return "unknown status";
}
