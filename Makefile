# SPDX-License-Identifier: GPL-2.0
#
# make                 shm.ko for KVER (default: Debian 6.1), shmctl, BPF
# make modules         shm.ko for every supported Debian kernel
# make deps            apt-get what building and testing need (idempotent)
# make test            the whole suite, booting each kernel once in QEMU
# make bench           benchmarks against their baselines, in QEMU
# make style           checkpatch on kmod/ and the uapi header
# make clean
#
# Everything built lands in build/: build/<kver>/shm.ko, build/shmctl,
# build/bpf/, build/tests/.

# The build machine's own kernel has no module support: build against the
# Debian kernels' headers, found by their version prefix.
KVERS_INSTALLED := $(patsubst /lib/modules/%/build,%,$(wildcard /lib/modules/*/build))
kver_of = $(lastword $(sort $(filter $(1).%,$(KVERS_INSTALLED))))
KVER_61 := $(call kver_of,6.1)
KVER_612 := $(call kver_of,6.12)
KVERS := $(KVER_61) $(KVER_612)
KVER ?= $(KVER_61)

B := build
CC := gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PKGS := libnl-genl-3.0 libbpf json-c
# Their headers only: shmctl opens them when it needs them (user/libvirt.h).
PKGS_OPENED := libvirt libvirt-qemu libxml-2.0
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror=implicit \
	  -Iinclude/uapi -I$(B) \
	  $(shell pkg-config --cflags $(PKGS) $(PKGS_OPENED) 2>/dev/null) \
	  -DSHM_VERSION='"$(shell cat VERSION)"'

LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# A few files of Debian's kernel source package: the kselftest headers the
# tests include, the script that unpacks a kernel image, and checkpatch.
KSRC_TAR := /usr/src/linux-source-6.1.tar.xz
KSRC_FILES := tools/testing/selftests/kselftest_harness.h \
	tools/testing/selftests/kselftest.h scripts/extract-vmlinux \
	scripts/checkpatch.pl scripts/spelling.txt scripts/const_structs.checkpatch
KSRC := $(B)/linux-source
KSELFTEST := $(KSRC)/tools/testing/selftests

all: module shmctl tests

deps:
	@scripts/install-deps

# --- shm.ko ---------------------------------------------------------------
# Each kernel gets its own tree of symlinks to the sources, so objects for
# 6.1 and 6.12 never overwrite each other.
KMOD_SRCS := $(wildcard kmod/*.c kmod/*.h) Kbuild $(wildcard include/uapi/shm/*.h) VERSION

module: $(B)/$(KVER)/shm.ko
modules: $(foreach k,$(KVERS),$(B)/$(k)/shm.ko)

$(B)/%/shm.ko: $(KMOD_SRCS)
	@test -d /lib/modules/$*/build || \
		{ echo "no headers for kernel $*: run 'make deps'" >&2; exit 1; }
	@mkdir -p $(B)/$*
	@rm -rf $(B)/$*/kmod && cp -rs $(CURDIR)/kmod $(B)/$*/kmod
	@ln -sfn $(CURDIR)/include $(B)/$*/include
	@ln -sfn $(CURDIR)/Kbuild $(B)/$*/Kbuild
	@ln -sfn $(CURDIR)/VERSION $(B)/$*/VERSION
	$(MAKE) -C /lib/modules/$*/build M=$(CURDIR)/$(B)/$* modules

# --- BPF programs and their skeletons ---------------------------------------
# vmlinux.h comes from the BTF inside the Debian 6.1 kernel image itself
# (CO-RE relocates it to whatever kernel loads the program). Programs that
# read no kernel structure use uapi headers instead; -target bpf does not
# search the multiarch directory (<asm/types.h>), so the host's system
# include directories come last, as libbpf-bootstrap has it.
BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(B)/bpf/%.skel.h,$(BPF_SRCS))

$(KSRC_FILES:%=$(KSRC)/%) &:
	@mkdir -p $(KSRC)
	tar -xJf $(KSRC_TAR) -C $(KSRC) --strip-components=1 \
		$(KSRC_FILES:%=linux-source-6.1/%)

$(B)/vmlinux.h: $(KSRC)/scripts/extract-vmlinux
	sh $< /boot/vmlinuz-$(KVER_61) > $(B)/vmlinux
	$(BPFTOOL) btf dump file $(B)/vmlinux format c > $@.tmp && mv $@.tmp $@
	@rm -f $(B)/vmlinux

$(B)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(B)/vmlinux.h
	@mkdir -p $(B)/bpf
	$(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -I$(B) -Iinclude/uapi \
		$(BPF_SYS_INCLUDES) -c $< -o $@

$(B)/bpf/%.skel.h: $(B)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# --- shmctl ------------------------------------------------------------------
USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(B)/user/%.o,$(USER_SRCS))

shmctl: $(B)/shmctl

$(B)/user/%.o: user/%.c $(wildcard user/*.h) $(wildcard include/uapi/shm/*.h) $(BPF_SKELS) VERSION
	@mkdir -p $(B)/user
	$(CC) $(CFLAGS) -Iuser -c $< -o $@

$(B)/shmctl: $(USER_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# --- tests -------------------------------------------------------------------
TEST_GEN_PROGS := $(patsubst tests/%.c,$(B)/tests/%,$(wildcard tests/*_test.c))
# What the test programs share; each is linked with all of it.
TEST_LIB_SRCS := $(filter-out %_test.c,$(wildcard tests/*.c))

tests: $(TEST_GEN_PROGS) $(B)/tests/precopy_bench $(B)/tests/vmm/shm-testvmm \
	$(B)/tests/guest/shm-guest $(B)/tests/qmp

# Tests of shmctl's own code: each is linked with the user/ files it tests,
# named here as its extra prerequisites.
$(B)/tests/auth_test: user/auth.c user/auth.h
$(B)/tests/cpuid_test: user/cpuid.c user/cpuid.h
$(B)/tests/guard_test: user/guard.c user/guard.h
$(B)/tests/serve_test: user/auth.c user/auth.h user/link.c user/link.h
$(B)/tests/source_test: user/auth.c user/auth.h user/link.c user/link.h
$(B)/tests/measure_test: user/measure.c user/measure.h user/link.c \
	user/link.h user/probe.c user/probe.h $(B)/bpf/downtime.skel.h

$(B)/tests/%: tests/%.c $(TEST_LIB_SRCS) $(wildcard tests/*.h) \
		$(wildcard include/uapi/shm/*.h) $(KSELFTEST)/kselftest_harness.h
	@mkdir -p $(B)/tests
	$(CC) $(CFLAGS) -Wno-sign-compare -I$(KSELFTEST) -Itests -Iuser -o $@ $< \
		$(TEST_LIB_SRCS) $(filter user/%.c,$^) \
		$(LDLIBS) -lpthread

# The test VMM, and the guest program built into it: freestanding code
# linked where the guest runs it, flattened to the bytes the VMM loads.
VMM_SRCS := $(filter-out tests/vmm/guest.c,$(wildcard tests/vmm/*.c)) \
	    tests/vmm/guest_blob.S
GUEST_CFLAGS := -O2 -g -std=gnu11 -Wall -ffreestanding -fno-pic -no-pie \
		-fno-stack-protector -fcf-protection=none -mno-red-zone \
		-mgeneral-regs-only -nostdlib -static -Wl,--build-id=none

$(B)/tests/vmm/guest.elf: tests/vmm/guest.c tests/vmm/guest.lds tests/vmm/abi.h \
		tests/vmm/stamp.h
	@mkdir -p $(B)/tests/vmm
	$(CC) $(GUEST_CFLAGS) -T tests/vmm/guest.lds -o $@ $<

$(B)/tests/vmm/guest.bin: $(B)/tests/vmm/guest.elf
	objcopy -O binary -j .text -j .rodata $< $@

# It reports its own writes to shm.ko with the tests' netlink client.
$(B)/tests/vmm/shm-testvmm: $(VMM_SRCS) $(wildcard tests/vmm/*.h) tests/nl.c \
		tests/nl.h $(B)/tests/vmm/guest.bin
	$(CC) $(CFLAGS) -Itests -Wa,-I$(B)/tests/vmm -o $@ $(VMM_SRCS) tests/nl.c \
		$(LDLIBS) -lpthread

# The workload of the Linux guest that tests/qemu.sh boots, and its host
# side: static, since the guest's initramfs (tests/guest/mkguest) has no libc.
GUEST_PROG_SRCS := $(wildcard tests/guest/*.c)

$(B)/tests/guest/shm-guest: $(GUEST_PROG_SRCS) $(wildcard tests/guest/*.h)
	@mkdir -p $(B)/tests/guest
	$(CC) $(CFLAGS) -static -pthread -o $@ $(GUEST_PROG_SRCS)

test: all modules
	@tests/run $(KVERS)

# Benchmarks run in the test VM too; bench/run boots it.
$(B)/tests/precopy_bench: bench/precopy.c $(TEST_LIB_SRCS) $(wildcard tests/*.h) \
		$(wildcard include/uapi/shm/*.h)
	@mkdir -p $(B)/tests
	$(CC) $(CFLAGS) -Itests -o $@ $< $(TEST_LIB_SRCS) $(LDLIBS) -lpthread

# QMP from the shell, for bench/qemu.sh: shmctl's client, a command a run.
$(B)/tests/qmp: bench/qmp.c user/qmp.c user/qmp.h user/clock.h user/libvirt.c \
		user/libvirt.h
	@mkdir -p $(B)/tests
	$(CC) $(CFLAGS) -Iuser -o $@ bench/qmp.c user/qmp.c user/libvirt.c $(LDLIBS)

bench: all module
	@bench/run $(KVER)

print-kver:
	@echo $(KVER)

# --- checks ------------------------------------------------------------------
# compat.h is where version tests belong; nowhere else.
CHECKPATCH_FLAGS := --no-tree --terse --ignore FILE_PATH_CHANGES
style: $(KSRC)/scripts/checkpatch.pl
	$< $(CHECKPATCH_FLAGS) -f $(filter-out kmod/compat.h,$(wildcard kmod/*.[ch])) \
		include/uapi/shm/*.h
	$< $(CHECKPATCH_FLAGS) --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON \
		-f kmod/compat.h

clean:
	rm -rf $(B)

.PHONY: all deps module modules shmctl tests test bench print-kver style clean
.SECONDARY:
