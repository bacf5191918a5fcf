/* planarity.c - see planarity.h (stub: to be written) */
#include "planarity.h"
