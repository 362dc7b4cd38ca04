// Package sockguard enforces network rules in the kernel. cgroup sock_addr
// programs on connect (IPv4 and IPv6) and on UDP sendmsg (unconnected
// sendto), attached at the cgroup v2 root so that every cgroup inherits
// them, look each destination up in the policy and either let it through or
// refuse it: the call fails with EPERM before any packet is built. Block and
// Audit decisions are reported through a ring buffer that Run reads.
//
// A policy is a list of Rules (scope, destination prefix, port, protocol,
// verdict); the most specific match wins, as documented on Rule. Apply swaps
// a whole new policy in at once. The cgroups of containers are registered
// with SetContainer, so that AllContainers rules reach them and Host rules
// do not. The agent's own process and those passed to Protect are never
// checked.
//
// In the kernel the policy is one LPM trie, keyed by scope, port, protocol
// and address, behind a one-slot map-in-map: Apply fills a fresh trie and
// replaces the slot, so no program ever sees half a policy. A connect costs
// at most one summary lookup and eight trie lookups (cgroup scope and
// host-or-containers scope, each with exact or any port and protocol); the
// summary entry skips the combinations no rule uses.
package sockguard
