/* freshness.h - frames that are new: no duplicates inside a package, none seen in an earlier
 * package, plausible timestamps (stub: to be written) */
#ifndef VF_SRV_FRESHNESS_H
#define VF_SRV_FRESHNESS_H
#endif
