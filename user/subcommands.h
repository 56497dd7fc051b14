/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The table of shmctl's subcommands. Adding one is a new user/<name>.c that
 * defines the entry point, plus one SUBCOMMAND() line below: this header
 * declares every entry point and shmctl.c builds its table and --help text
 * from the same list, so the two cannot disagree.
 *
 * An entry point gets argv starting at the subcommand's own name, parses
 * the rest itself (getopt_long from optind = 0, so GNU argument permutation
 * lets options follow arguments), and returns an enum shmctl_exit.
 */
#ifndef SHMCTL_SUBCOMMANDS_H
#define SHMCTL_SUBCOMMANDS_H

#include "shmctl.h"

/* SUBCOMMAND(name, entry point, one-line summary for --help) */
#define SHMCTL_SUBCOMMANDS(SUBCOMMAND)					\
	SUBCOMMAND("info", info_main,					\
		   "show the module's versions, capabilities and limits")	\
	SUBCOMMAND("session", session_main,				\
		   "list, show, create and delete migration sessions")	\
	SUBCOMMAND("monitor", monitor_main,				\
		   "print session events as they happen")		\
	SUBCOMMAND("trace", trace_main,					\
		   "trace session events with BPF, then count them")	\
	SUBCOMMAND("migrate", migrate_main,				\
		   "move a running VM to another host")			\
	SUBCOMMAND("serve", serve_main,					\
		   "receive migrations on this host")			\
	SUBCOMMAND("status", status_main,				\
		   "show the migrations in flight on this host")	\
	SUBCOMMAND("downtime", downtime_main,				\
		   "measure a VM's blackout and its packets' gaps")	\
	/* end of the list: new lines go above this comment */

#define SHMCTL_DECLARE_SUBCOMMAND(name, entry, summary)			\
	int entry(int argc, char *argv[], const struct shmctl_opts *opts);
SHMCTL_SUBCOMMANDS(SHMCTL_DECLARE_SUBCOMMAND)
#undef SHMCTL_DECLARE_SUBCOMMAND

#endif /* SHMCTL_SUBCOMMANDS_H */
