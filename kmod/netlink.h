/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHM_NETLINK_H
#define _SHM_NETLINK_H

#include "session.h"

int shm_netlink_init(void);
void shm_netlink_exit(void);

/* Events on the multicast group; each is a no-op without listeners. */
void shm_nl_notify_new(const struct shm_session *s);
void shm_nl_notify_state(const struct shm_session *s, enum shm_state old);
void shm_nl_notify_del(const struct shm_session *s);
void shm_nl_notify_progress(const struct shm_session *s);
void shm_nl_notify_scan(const struct shm_session *s, u32 round);

#endif /* _SHM_NETLINK_H */
