// SPDX-License-Identifier: GPL-2.0
/*
 * shmctl: the operator's tool for shm, live migration of KVM VMs.
 *
 * This file only dispatches: global options, then the subcommand named in
 * subcommands.h. Each subcommand lives in its own file.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <shm/netlink.h>

#include "link.h"
#include "shmctl.h"
#include "subcommands.h"

static const char shmctl_usage[] =
	"[--json] COMMAND [ARGS]...\n"
	"--help | --version";

struct subcommand {
	const char *name;
	int (*run)(int argc, char *argv[], const struct shmctl_opts *opts);
	const char *summary;
};

#define SHMCTL_TABLE_ENTRY(name, entry, summary) { name, entry, summary },
static const struct subcommand subcommands[] = {
	SHMCTL_SUBCOMMANDS(SHMCTL_TABLE_ENTRY)
};
#undef SHMCTL_TABLE_ENTRY

static void print_usage(FILE *f, const char *usage)
{
	const char *prefix = "usage:";
	const char *line = usage;

	for (;;) {
		size_t len = strcspn(line, "\n");

		/* A line that starts with a blank goes on the one before. */
		if (line[0] == ' ')
			fprintf(f, "%s        %.*s\n", prefix, (int)len, line);
		else
			fprintf(f, "%s shmctl %.*s\n", prefix, (int)len, line);
		if (!line[len])
			break;
		line += len + 1;
		prefix = "      ";
	}
}

int usage_help(const char *usage)
{
	print_usage(stdout, usage);
	return SHMCTL_EXIT_OK;
}

int usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fputs("shmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_usage(stderr, usage);
	return SHMCTL_EXIT_USAGE;
}

/*
 * Turn what getopt_long() returned for a bad option into a message. Its own
 * messages are off (opterr = 0) because they name argv[0], which for a
 * subcommand is the subcommand rather than "shmctl".
 */
int option_error(const char *usage, char *argv[], int c)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return usage_error(usage, "option '%s' needs a value", arg);
	if (optopt)
		return usage_error(usage, "unknown option '-%c'", optopt);
	return usage_error(usage, "unknown option '%s'", arg);
}

int parse_options(int argc, char *argv[], const char *usage,
		  const struct shmctl_opts *opts, bool *json)
{
	static const struct option options[] = {
		{ "json",	no_argument,	NULL, 'j' },
		{ "help",	no_argument,	NULL, 'h' },
		{}
	};
	int c;

	if (json)
		*json = opts->json;
	else if (opts->json)
		return usage_error(usage, "--json does not apply to this command");

	optind = 0;
	while ((c = getopt_long(argc, argv, ":jh", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (!json)
				return usage_error(usage, "--json does not apply to this command");
			*json = true;
			break;
		case 'h':
			return usage_help(usage);
		default:
			return option_error(usage, argv, c);
		}
	}
	return SHMCTL_PROCEED;
}

static void print_help(FILE *f)
{
	size_t i;

	print_usage(f, shmctl_usage);
	fputs("\nDrive shm, live migration of KVM VMs, in this network namespace.\n"
	      "\nCommands:\n", f);
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		fprintf(f, "  %-10s%s\n", subcommands[i].name,
			subcommands[i].summary);
	fputs("\nOptions:\n"
	      "  -j, --json     print JSON instead of text, for commands that print\n"
	      "  -h, --help     print this help\n"
	      "  -V, --version  print the versions of shmctl, its kernel interface and\n"
	      "                 its protocols\n"
	      "\nRun 'shmctl COMMAND --help' for the usage of one command.\n"
	      "Exit status: 0 success, 1 failure, 2 usage error, 3 module not loaded,\n"
	      "4 permission denied, 5 no such session, 6 migration refused before\n"
	      "anything moved.\n", f);
}

static void print_version(void)
{
	printf("shmctl %s\n"
	       "generic netlink family \"%s\" version %d, data protocol version %d, control protocol version %d\n",
	       SHM_VERSION, SHM_GENL_NAME, SHM_GENL_VERSION,
	       SHM_PROTOCOL_VERSION, LINK_VERSION);
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "json",	no_argument,	NULL, 'j' },
		{ "help",	no_argument,	NULL, 'h' },
		{ "version",	no_argument,	NULL, 'V' },
		{}
	};
	struct shmctl_opts opts = {};
	size_t i;
	int c, ret;

	opterr = 0;
	/* '+': stop at the subcommand, whose options are its own business. */
	while ((c = getopt_long(argc, argv, "+:jhV", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			opts.json = true;
			break;
		case 'h':
			print_help(stdout);
			return SHMCTL_EXIT_OK;
		case 'V':
			print_version();
			return SHMCTL_EXIT_OK;
		default:
			return option_error(shmctl_usage, argv, c);
		}
	}

	if (optind == argc) {
		fputs("shmctl: no command given\n", stderr);
		print_help(stderr);
		return SHMCTL_EXIT_USAGE;
	}

	for (i = 0; i < ARRAY_SIZE(subcommands); i++) {
		if (!strcmp(argv[optind], subcommands[i].name))
			break;
	}
	if (i == ARRAY_SIZE(subcommands)) {
		fprintf(stderr, "shmctl: unknown command '%s'\n", argv[optind]);
		print_help(stderr);
		return SHMCTL_EXIT_USAGE;
	}

	ret = subcommands[i].run(argc - optind, argv + optind, &opts);
	/* A script must not take output cut short by a full disk for success. */
	if ((fflush(stdout) || ferror(stdout)) && ret == SHMCTL_EXIT_OK) {
		fputs("shmctl: cannot write the output\n", stderr);
		ret = SHMCTL_EXIT_FAILURE;
	}
	return ret;
}
