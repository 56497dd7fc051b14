/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels shm supports (Debian's 6.1 and 6.12),
 * force-included into every file of the module by Kbuild so that the code
 * itself never tests a kernel version.
 */
#ifndef _SHM_COMPAT_H
#define _SHM_COMPAT_H

#include <linux/version.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <linux/bvec.h>

/* x86 has two memslot address spaces (normal and SMM); 6.8 renamed this. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define SHM_KVM_ADDRESS_SPACES KVM_MAX_NR_ADDRESS_SPACES
#else
#define SHM_KVM_ADDRESS_SPACES KVM_ADDRESS_SPACE_NUM
#endif

/*
 * Sends a whole page without copying it: TCP takes its own reference.
 * kernel_sendpage() until 6.5, then sendmsg() with MSG_SPLICE_PAGES (6.1's
 * headers define that flag too, but its TCP ignores it).
 */
static inline int shm_compat_send_page(struct socket *sock, struct page *page,
				       int flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	struct msghdr msg = { .msg_flags = flags | MSG_SPLICE_PAGES };
	struct bio_vec bvec;

	bvec_set_page(&bvec, page, PAGE_SIZE, 0);
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &bvec, 1, PAGE_SIZE);
	return sock_sendmsg(sock, &msg);
#else
	return kernel_sendpage(sock, page, 0, PAGE_SIZE, flags);
#endif
}

#endif /* _SHM_COMPAT_H */
