// SPDX-License-Identifier: GPL-2.0
/*
 * /proc stat files (proc.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

char proc_state(const char *path, char *name, size_t len)
{
	char stat[512], *open_paren, *close_paren;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	stat[n > 0 ? n : 0] = '\0';
	open_paren = strchr(stat, '(');
	close_paren = strrchr(stat, ')');
	if (!open_paren || !close_paren || close_paren < open_paren ||
	    close_paren[1] != ' ' || !close_paren[2])
		return 0;
	if (len)
		snprintf(name, len, "%.*s", (int)(close_paren - open_paren - 1),
			 open_paren + 1);
	return close_paren[2];
}
