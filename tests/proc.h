/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What /proc says of a process or thread: its state and name, from its
 * stat file ("PID (NAME) STATE ...", where NAME may hold spaces and
 * parentheses).
 */
#ifndef _SHM_TESTS_PROC_H
#define _SHM_TESTS_PROC_H

#include <stddef.h>

/*
 * The state letter ('R', 'S', 'D', 'T', 'I', ...) in the stat file at
 * @path, its name into @name (@len bytes, may be 0); 0 if it is gone.
 */
char proc_state(const char *path, char *name, size_t len);

#endif /* _SHM_TESTS_PROC_H */
