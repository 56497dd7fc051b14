// SPDX-License-Identifier: GPL-2.0
/* A test's key file (keyfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "keyfile.h"

int keyfile_create(const char *path)
{
	static const char key[] = "0123456789abcdef0123456789abcdef";
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, key, sizeof(key) - 1);
	close(fd);
	return n == sizeof(key) - 1 ? 0 : -EIO;
}
