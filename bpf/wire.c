// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * No programs. This file gives the wire records of vigil.h, execguard.h and
 * sockguard.h a place in BTF, so that bpf2go can generate Go types for them
 * (-type). The Go layout tests (internal/decode, internal/enforce/execguard,
 * internal/enforce/sockguard) compare the offsets their hand-written
 * decoders and encoders use with those types, field by field. The real
 * objects cannot carry the types: most records live only inside inlined
 * code, which leaves no BTF, and a global to hold them would add a map to
 * every load.
 */
#include "vmlinux.h"
#include "vigil.h"
#include "execguard.h"
#include "sockguard.h"

#define KEEP(type) const struct type *keep_##type __attribute__((unused))

KEEP(event_header);
KEEP(fork_body);
KEEP(exec_body);
KEEP(exit_body);
KEEP(open_body);
KEEP(socket_body);
KEEP(syscall_body);

KEEP(pending_exec);
KEEP(kill_key);
KEEP(kill_val);
KEEP(kill_record);

KEEP(sg_key);
KEEP(sg_value);
KEEP(sg_decision);
