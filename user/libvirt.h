/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libvirt and libxml2, opened on the libvirt driver's first use rather
 * than linked: every other shmctl command starts without loading them,
 * and shmctl runs on hosts without libvirt. Each function used is called
 * through its pointer sym_NAME, typed from the library's own header.
 */
#ifndef SHMCTL_LIBVIRT_H
#define SHMCTL_LIBVIRT_H

#include <stddef.h>

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

/* Each library, and the functions shmctl calls in it. */
#define LIBVIRT_SYMBOLS(X)					\
	X(LIBVIRT, virConnectClose)				\
	X(LIBVIRT, virConnectGetURI)				\
	X(LIBVIRT, virConnectOpen)				\
	X(LIBVIRT, virDomainCreateXML)				\
	X(LIBVIRT, virDomainDestroy)				\
	X(LIBVIRT, virDomainFree)				\
	X(LIBVIRT, virDomainGetName)				\
	X(LIBVIRT, virDomainGetUUIDString)			\
	X(LIBVIRT, virDomainGetXMLDesc)				\
	X(LIBVIRT, virDomainIsActive)				\
	X(LIBVIRT, virDomainLookupByName)			\
	X(LIBVIRT, virDomainRef)				\
	X(LIBVIRT, virDomainResume)				\
	X(LIBVIRT, virGetLastErrorMessage)			\
	X(LIBVIRT, virSetErrorFunc)				\
	X(LIBVIRT_QEMU, virDomainQemuMonitorCommandWithFiles)	\
	X(LIBXML2, xmlBufferContent)				\
	X(LIBXML2, xmlBufferCreate)				\
	X(LIBXML2, xmlBufferFree)				\
	X(LIBXML2, xmlDocGetRootElement)			\
	X(LIBXML2, xmlFreeDoc)					\
	X(LIBXML2, xmlFreeNode)					\
	X(LIBXML2, xmlNewChild)					\
	X(LIBXML2, xmlNewNs)					\
	X(LIBXML2, xmlNewProp)					\
	X(LIBXML2, xmlNodeDump)					\
	X(LIBXML2, xmlReadMemory)				\
	X(LIBXML2, xmlUnlinkNode)

#define LIBVIRT_SYMBOL_DECLARE(lib, name) extern typeof(name) *sym_##name;
LIBVIRT_SYMBOLS(LIBVIRT_SYMBOL_DECLARE)

/*
 * Opens the libraries once; 0, or -ENOENT with what is missing in @err.
 * Before any sym_ call.
 */
int libvirt_load(char *err, size_t len);

#endif
