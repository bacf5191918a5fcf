/* freshness.c - see freshness.h (stub: to be written) */
#include "freshness.h"
