/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every shmctl subcommand shares: exit status, global options and the
 * helpers that turn bad command lines into exit status 2.
 */
#ifndef SHMCTL_H
#define SHMCTL_H

#include <stdbool.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit status of shmctl; shmctl.8 documents the same list. */
enum shmctl_exit {
	SHMCTL_EXIT_OK		= 0,
	SHMCTL_EXIT_FAILURE	= 1,	/* anything not listed below */
	SHMCTL_EXIT_USAGE	= 2,	/* bad command line, nothing sent */
	SHMCTL_EXIT_NO_MODULE	= 3,	/* family "shm" not registered */
	SHMCTL_EXIT_PERMISSION	= 4,	/* EPERM/EACCES: needs CAP_NET_ADMIN */
	SHMCTL_EXIT_NO_SESSION	= 5,	/* no session with that id */
	SHMCTL_EXIT_REFUSED	= 6,	/* migrate: refused, nothing taken there */

	/* Not an exit status: parse_options() found nothing to stop for. */
	SHMCTL_PROCEED		= -1,
};

/* The pre-shared key of shmctl serve and shmctl migrate (auth.h). */
#define SHMCTL_DEFAULT_KEY	"/etc/shm/key"

/* Options given before the subcommand, handed down to it. */
struct shmctl_opts {
	bool json;
};

/*
 * A usage text is one or more lines of "shmctl" arguments separated by '\n',
 * printed as "usage: shmctl <line>" with the later lines indented under it.
 */
int usage_help(const char *usage);
int usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int option_error(const char *usage, char *argv[], int c);

/*
 * Parse the options of a subcommand whose only options are --help and, if
 * @json is not NULL, --json (which starts out as given before the
 * subcommand). Returns SHMCTL_PROCEED, with optind at the first argument,
 * or the exit status to return now.
 */
int parse_options(int argc, char *argv[], const char *usage,
		  const struct shmctl_opts *opts, bool *json);

#endif /* SHMCTL_H */
