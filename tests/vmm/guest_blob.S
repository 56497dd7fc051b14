/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest program as a flat binary (guest.c, guest.lds), built into the
 * VMM. guest.bin is found through the assembler's include path (-Wa,-I).
 */
	.section .rodata
	.balign 16
	.globl guest_bin, guest_bin_end
guest_bin:
	.incbin "guest.bin"
guest_bin_end:

	.section .note.GNU-stack, "", @progbits
