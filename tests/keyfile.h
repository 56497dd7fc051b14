/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A key file for a test that plays one host of a migration against shmctl
 * on the other (serve_test.c, source_test.c): both ends load the same one.
 */
#ifndef _SHM_TESTS_KEYFILE_H
#define _SHM_TESTS_KEYFILE_H

/* Creates @path, mode 0600, holding a 32-byte key; 0 or -errno. */
int keyfile_create(const char *path);

#endif /* _SHM_TESTS_KEYFILE_H */
