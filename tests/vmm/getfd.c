// SPDX-License-Identifier: GPL-2.0
/*
 * `shm-testvmm getfd PID FD`: takes the VM fd of a running VMM the way
 * shmctl attaches to a VM, pidfd_open(PID) + pidfd_getfd(FD), and checks
 * that what it got is a KVM VM. Prints "ok anon_inode:kvm-vm".
 *
 * Only that: KVM answers VM ioctls from no process but the VMM (EIO
 * elsewhere, as it wants kvm->mm == current->mm), which is why shm.ko
 * drives the dirty log from a kthread that adopts the VMM's mm.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "vmm.h"

int getfd_main(int argc, char **argv)
{
	char link[64], target[PATH_MAX];
	int pidfd, fd;
	ssize_t n;

	if (argc != 2)
		die("usage: shm-testvmm getfd PID FD");
	pidfd = syscall(SYS_pidfd_open, atoi(argv[0]), 0);
	if (pidfd < 0)
		die("pidfd_open(%s): %m", argv[0]);
	fd = syscall(SYS_pidfd_getfd, pidfd, atoi(argv[1]), 0);
	if (fd < 0)
		die("pidfd_getfd(%s, %s): %m", argv[0], argv[1]);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	target[n < 0 ? 0 : n] = '\0';
	if (strcmp(target, "anon_inode:kvm-vm"))
		die("fd %s of %s is '%s', not a KVM VM", argv[1], argv[0], target);
	printf("ok %s\n", target);
	return 0;
}
