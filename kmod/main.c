// SPDX-License-Identifier: GPL-2.0
/*
 * shm: shared-nothing live migration for KVM hosts.
 */

#include <linux/module.h>

#include "netlink.h"
#include "session.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static int __init shm_init(void)
{
	int err;

	err = shm_session_init();
	if (err)
		return err;
	err = shm_netlink_init();
	if (err) {
		shm_session_exit();
		return err;
	}
	pr_info("shm %s loaded, protocol %u\n", SHM_VERSION,
		SHM_PROTOCOL_VERSION);
	return 0;
}

static void __exit shm_exit(void)
{
	/* No request can reach a session once the family is gone. */
	shm_netlink_exit();
	shm_session_exit();
}

module_init(shm_init);
module_exit(shm_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Shared-nothing live migration for KVM hosts");
MODULE_VERSION(SHM_VERSION);
