/* planarity.h - does a face move as one plane (print, screen) or as a 3-D head? (stub: to be written) */
#ifndef VF_PLANARITY_H
#define VF_PLANARITY_H
#include "face.h"
#endif
