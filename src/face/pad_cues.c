/* pad_cues.c - hand-made presentation-attack cues (stub: to be written) */
#include "face.h"
