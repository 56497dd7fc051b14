// SPDX-License-Identifier: GPL-2.0
/*
 * shm-testvmm: a small VMM for shm's tests, after the KVM selftests.
 *
 *   shm-testvmm run [OPTIONS]              run a VM (see usage below)
 *   shm-testvmm ctl SOCKET COMMAND [FILE]  drive a running one (cmd.c)
 *   shm-testvmm getfd PID FD               take its VM fd, as shmctl will
 *   shm-testvmm hold                       hold a VM that never runs
 *
 * `run` starts a source VM: long mode (x86.c), the guest program (guest.c)
 * running a workload that stamps pages (stamp.h), optionally a writer
 * thread writing pages from the VMM (writer.c). With --incoming it starts a
 * destination instead: same layout, RAM left to be filled from elsewhere,
 * vCPUs parked until `restore FILE` and `resume`. It runs until `quit` on
 * its control socket or, with --duration, until the time is up: then it
 * asks the guest to check itself, prints stats and exits 0 if all is well.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vmm.h"

static const char usage[] =
"usage: shm-testvmm run [OPTIONS]\n"
"  --ram SIZE          guest RAM, MiB or with suffix M or G (64M)\n"
"  --slots N           memslots the RAM is cut into (1)\n"
"  --vcpus N           vCPUs, at most 16 (1)\n"
"  --mem FILE          RAM in FILE, e.g. on /dev/shm (default: a memfd);\n"
"                      a source truncates it, a destination keeps it\n"
"  --gib-pages         map the guest with 1 GiB pages, not 2 MiB\n"
"  --manual-protect    KVM's dirty log in manual-protect, initially-set\n"
"                      mode, as QEMU enables it\n"
"  --workload W        idle, seq, random or hot (seq)\n"
"  --rate N            pages/s each vCPU writes, 0: unthrottled (0)\n"
"  --span N            pages of its range each vCPU writes (all)\n"
"  --hot N             pages in the hot set (16)\n"
"  --seed N            of the random workloads (1)\n"
"  --writer-pages N    pages the VMM's writer thread writes (0: no writer)\n"
"  --writer-rate N     its pages/s, 0: unthrottled (1000)\n"
"  --beacon-from IP    the VM's address: its guest sends a UDP datagram\n"
"  --beacon-to IP:PORT from it every millisecond it runs\n"
"  --ctl SOCKET        serve the control socket there\n"
"  --incoming          destination: wait for RAM, restore and resume\n"
"  --exit-on-hangup    incoming: quit when a control client hangs up\n"
"                      before resume: its driver died before it ran\n"
"  --duration S        run S seconds, self-check, print stats, exit\n"
"  -v                  say more on stderr\n"
"  environment: SHM_TESTVMM_HASH=FILE: page hashes to FILE on save, restore\n"
"               SHM_TESTVMM_RESTORE_DELAY_MS=N: restore takes N ms longer\n"
"       shm-testvmm ctl SOCKET COMMAND [FILE]\n"
"       shm-testvmm getfd PID FD\n"
"       shm-testvmm hold\n";

static const char *const workloads[] = {
	[WORKLOAD_IDLE] = "idle", [WORKLOAD_SEQ] = "seq",
	[WORKLOAD_RANDOM] = "random", [WORKLOAD_HOT] = "hot",
};

static uint64_t parse_num(const char *s, const char *what)
{
	char *end;
	unsigned long long n = strtoull(s, &end, 0);

	if (end == s || *end)
		die("%s: bad number '%s'", what, s);
	return n;
}

static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long n = strtoull(s, &end, 0);

	if (end == s || (*end && end[1]))
		die("--ram: bad size '%s'", s);
	return n * (*end == 'G' || *end == 'g' ? GIB : MIB);
}

/* "A.B.C.D", or with @port "A.B.C.D:PORT"; host byte order. */
static uint32_t parse_ipv4(const char *s, uint16_t *port)
{
	char addr[INET_ADDRSTRLEN], *colon;
	struct in_addr in;

	snprintf(addr, sizeof(addr), "%s", s);
	colon = strchr(addr, ':');
	if (!port != !colon)
		die("%s: want %s", s, port ? "IP:PORT" : "an IPv4 address");
	if (colon) {
		*colon = '\0';
		*port = parse_num(colon + 1, "port");
		if (!*port)
			die("%s: port 0", s);
	}
	if (inet_pton(AF_INET, addr, &in) != 1 || !in.s_addr)
		die("%s: not an IPv4 address", s);
	return ntohl(in.s_addr);
}

static uint32_t parse_workload(const char *s)
{
	uint32_t i;

	for (i = 0; i < ARRAY_SIZE(workloads); i++)
		if (!strcmp(s, workloads[i]))
			return i;
	die("--workload: '%s' is not idle, seq, random or hot", s);
}

static void parse_run(int argc, char **argv, struct vm_config *cfg,
		      const char **ctl, long *duration)
{
	static const struct option opts[] = {
		{ "ram", 1, NULL, 'r' }, { "slots", 1, NULL, 's' },
		{ "vcpus", 1, NULL, 'c' }, { "mem", 1, NULL, 'm' },
		{ "gib-pages", 0, NULL, 'g' }, { "workload", 1, NULL, 'w' },
		{ "manual-protect", 0, NULL, 'M' },
		{ "rate", 1, NULL, 'R' }, { "span", 1, NULL, 'S' },
		{ "hot", 1, NULL, 'H' }, { "seed", 1, NULL, 'e' },
		{ "writer-pages", 1, NULL, 'W' }, { "writer-rate", 1, NULL, 'T' },
		{ "ctl", 1, NULL, 'C' }, { "incoming", 0, NULL, 'i' },
		{ "exit-on-hangup", 0, NULL, 'x' },
		{ "beacon-from", 1, NULL, 'b' }, { "beacon-to", 1, NULL, 'B' },
		{ "duration", 1, NULL, 'd' }, { NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			cfg->ram_size = parse_size(optarg);
			break;
		case 's':
			cfg->nr_slots = parse_num(optarg, "--slots");
			break;
		case 'c':
			cfg->nr_vcpus = parse_num(optarg, "--vcpus");
			break;
		case 'm':
			cfg->mem_path = optarg;
			break;
		case 'g':
			cfg->gib_pages = true;
			break;
		case 'M':
			cfg->manual_protect = true;
			break;
		case 'w':
			cfg->workload = parse_workload(optarg);
			break;
		case 'R':
			cfg->rate = parse_num(optarg, "--rate");
			break;
		case 'S':
			cfg->span = parse_num(optarg, "--span");
			break;
		case 'H':
			cfg->hot = parse_num(optarg, "--hot");
			break;
		case 'e':
			cfg->seed = parse_num(optarg, "--seed");
			break;
		case 'W':
			cfg->writer_pages = parse_num(optarg, "--writer-pages");
			break;
		case 'T':
			cfg->writer_rate = parse_num(optarg, "--writer-rate");
			break;
		case 'C':
			*ctl = optarg;
			break;
		case 'i':
			cfg->incoming = true;
			break;
		case 'x':
			cfg->exit_on_hangup = true;
			break;
		case 'b':
			cfg->beacon_from = parse_ipv4(optarg, NULL);
			break;
		case 'B':
			cfg->beacon_to = parse_ipv4(optarg, &cfg->beacon_port);
			break;
		case 'd':
			*duration = parse_num(optarg, "--duration");
			break;
		case 'v':
			cfg->verbose = true;
			break;
		default:
			fputs(usage, stderr);
			exit(2);
		}
	}
	if (optind != argc || (!*ctl && *duration < 0))
		die("run: needs --ctl or --duration (see shm-testvmm -h)");
	if (!cfg->ram_size || cfg->ram_size % (2 * MIB))
		die("--ram: a multiple of 2 MiB");
	if (!cfg->nr_slots || cfg->ram_size / cfg->nr_slots < 2 * MIB)
		die("--slots: 1 to one per 2 MiB of RAM");
	if (!cfg->nr_vcpus || cfg->nr_vcpus > GUEST_MAX_VCPUS)
		die("--vcpus: 1 to %d", GUEST_MAX_VCPUS);
	if (cfg->workload == WORKLOAD_HOT && !cfg->hot)
		die("--hot: at least 1");
	if (!cfg->beacon_from != !cfg->beacon_to)
		die("--beacon-from and --beacon-to go together");
}

static int run_main(int argc, char **argv)
{
	struct vm_config cfg = {
		.ram_size = 64 * MIB, .nr_slots = 1, .nr_vcpus = 1,
		.workload = WORKLOAD_SEQ, .hot = 16, .seed = 1,
		.writer_rate = 1000,
	};
	static struct vm vm;
	const char *ctl = NULL;
	long duration = -1;
	char line[8], reply[512];
	uint64_t pages;
	unsigned int i;
	int lfd = -1, ret;
	bool quit;

	parse_run(argc, argv, &cfg, &ctl, &duration);
	signal(SIGPIPE, SIG_IGN);
	vm_create(&vm, &cfg);
	if (!cfg.incoming) {
		x86_setup_memory(&vm);
		layout_load(&vm);
		for (i = 0; i < cfg.nr_vcpus; i++)
			x86_setup_vcpu(&vm, &vm.vcpus[i]);
	}
	vm.pause = cfg.incoming;
	if (ctl)
		lfd = ctl_listen(ctl);
	/* Before the vCPUs: a datagram sent on it unbound would bind it. */
	if (cfg.beacon_to)
		beacon_open(&vm);
	vcpus_start(&vm);
	if (cfg.writer_pages)
		writer_start(&vm);
	printf("shm-testvmm: pid %d vmfd %d, %s, %llu MiB in %u slots, %u vCPUs, %s\n",
	       getpid(), vm.fd, cfg.incoming ? "incoming" : "running",
	       (unsigned long long)(cfg.ram_size / MIB), cfg.nr_slots,
	       cfg.nr_vcpus, workloads[cfg.workload]);
	fflush(stdout);

	quit = !ctl_serve(&vm, lfd, duration < 0 ? -1 : duration * 1000);
	if (ctl)
		unlink(ctl);
	if (quit)
		return 0;
	/* --duration is up. */
	ret = vm_selfcheck(&vm, &pages);
	cmd_run(&vm, strcpy(line, "stats"), reply, sizeof(reply));
	printf("shm-testvmm: %s\n", reply);
	if (ret)
		printf("shm-testvmm: self-check failed: %s\n", vm.err);
	else
		printf("shm-testvmm: self-check passed, %llu pages\n",
		       (unsigned long long)pages);
	return ret ? 1 : 0;
}

/*
 * A VM with a vCPU (no in-kernel irqchip, like ours), held until killed.
 * While one VM exists, creating and destroying others leaves KVM's static
 * keys (its preempt notifier in __schedule(), kvm_has_noapic_vcpu) as they
 * are: no code is patched under running CPUs. tests/vm/guest-run holds one
 * because QEMU's multi-threaded TCG sometimes misses such a patch, and the
 * CPU that misses it traps on the int3 forever.
 */
static int hold_main(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int vm = kvm < 0 ? -1 : ioctl(kvm, KVM_CREATE_VM, 0);

	if (vm < 0 || ioctl(vm, KVM_CREATE_VCPU, 0) < 0)
		die("hold: %m");
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return run_main(argc - 1, argv + 1);
	if (argc >= 4 && !strcmp(argv[1], "ctl"))
		return ctl_client(argv[2], argc - 3, argv + 3);
	if (argc >= 2 && !strcmp(argv[1], "getfd"))
		return getfd_main(argc - 2, argv + 2);
	if (argc == 2 && !strcmp(argv[1], "hold"))
		return hold_main();
	fputs(usage, stderr);
	return 2;
}
