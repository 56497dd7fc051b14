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
#include <linux/mm.h>
#include <net/sock.h>

/* x86 has two memslot address spaces (normal and SMM); 6.8 renamed this. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define SHM_KVM_ADDRESS_SPACES KVM_MAX_NR_ADDRESS_SPACES
#else
#define SHM_KVM_ADDRESS_SPACES KVM_ADDRESS_SPACE_NUM
#endif

/*
 * Sends whole pages without copying them: TCP takes its own references.
 * One sendmsg() with MSG_SPLICE_PAGES from 6.5 on (6.1's headers define
 * that flag too, but its TCP ignores it); before, sendpage a page at a
 * time, all under one hold of the socket lock as that sendmsg() does, not
 * a hold (and a run of the ACKs queued meanwhile) per page. Returns the
 * bytes sent or an error.
 */
#define SHM_COMPAT_MAX_PAGES 64

static inline int shm_compat_send_pages(struct socket *sock,
					struct page **pages, unsigned int n,
					int flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	struct msghdr msg = { .msg_flags = flags | MSG_SPLICE_PAGES };
	struct bio_vec bvec[SHM_COMPAT_MAX_PAGES];
	unsigned int i;

	if (WARN_ON_ONCE(n > SHM_COMPAT_MAX_PAGES))
		return -EINVAL;
	for (i = 0; i < n; i++)
		bvec_set_page(&bvec[i], pages[i], PAGE_SIZE, 0);
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bvec, n, n * PAGE_SIZE);
	return sock_sendmsg(sock, &msg);
#else
	unsigned int i;
	int ret = 0, sent = 0;

	lock_sock(sock->sk);
	for (i = 0; i < n; i++) {
		ret = kernel_sendpage_locked(sock->sk, pages[i], 0, PAGE_SIZE,
					     flags);
		if (ret != PAGE_SIZE)
			break;
		sent += ret;
	}
	release_sock(sock->sk);
	return i == n ? sent : ret < 0 ? ret : sent + ret;
#endif
}

/*
 * Pins one page of another process's memory for writing; the caller holds
 * its mmap lock. 6.5 dropped the vmas argument.
 */
static inline long shm_compat_pin_page_remote(struct mm_struct *mm,
					      unsigned long addr,
					      struct page **page)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return pin_user_pages_remote(mm, addr, 1, FOLL_WRITE, page, NULL);
#else
	return pin_user_pages_remote(mm, addr, 1, FOLL_WRITE, page, NULL, NULL);
#endif
}

#endif /* _SHM_COMPAT_H */
