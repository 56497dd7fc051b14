/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels shm supports (Debian's 6.1 and 6.12),
 * force-included into every file of the module by Kbuild so that the code
 * itself never tests a kernel version.
 */
#ifndef _SHM_COMPAT_H
#define _SHM_COMPAT_H

#include <linux/version.h>

#endif /* _SHM_COMPAT_H */
