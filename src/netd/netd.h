/* SPDX-License-Identifier: MIT */
/*
 * Virtual networks (`wirt net`): a store of switches next to the VM store
 * (STORE/nets/NAME/: net.json, the switch process's sockets, pid, log and
 * captures), each switch a process of its own (switchd.c) that VMMs join
 * through their `switch` NIC backend (net/switch_port.c).
 *
 * This floor sits between the VMM and the vm/ library: vm/ and cli/ call
 * netd_attach_nic() to find a network's socket and start its switch on
 * demand.
 */
#ifndef WIRT_NETD_NETD_H
#define WIRT_NETD_NETD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net.h"

#define NETD_MAX_VXLAN  16
#define NETD_MAX_ACL    64
#define NETD_MAX_STATIC 64
#define NETD_RULE_MAX   160
#define NETD_PORTS_SOCK "ports.sock"
#define NETD_CONTROL    "control.sock"
#define NETD_CONFIG     "net.json"
#define NETD_LOCK       "lock"
#define NETD_PIDFILE    "switch.pid"
#define NETD_BINDINGS   "ip-bindings" /* DHCP snooping: MAC IP per line */
#define NETD_LOG        "switch.log"

struct netd_endpoint {
    uint32_t addr; /* network byte order; 0: any */
    uint16_t port; /* host byte order */
};

struct netd_vxlan {
    uint32_t vni;
    struct netd_endpoint remote, local;
};

/* net.json */
struct netd_config {
    char name[NET_SWITCH_NAME_MAX + 1];
    uint32_t net_addr, net_mask; /* host byte order: the subnet of the NAT/DHCP port */
    bool nat;                    /* a NAT router port (libslirp): DHCP, DNS, the way out */
    bool dhcp;                   /* DHCP and DNS without the way out */
    /* With DHCP: VM access ports send only from the IPv4 address DHCP gave
     * them (snooping; vswitch.h).  On by default. */
    bool ip_guard;
    /* A host tap device as an uplink port ("" : none); it exists already
     * (`ip tuntap add`, which lets an unprivileged owner open it) or, as
     * root, is created.  Frames on it are untagged, in VLAN tap_vlan. */
    char tap[16];
    uint16_t tap_vlan;
    struct net_hostfwd hostfwd[NET_MAX_HOSTFWD];
    unsigned nhostfwd;
    struct netd_vxlan vxlan[NETD_MAX_VXLAN];
    unsigned nvxlan;
    char acl[NETD_MAX_ACL][NETD_RULE_MAX]; /* as `wirt net set NAME acl-add=` takes them */
    unsigned nacl;
    char static_macs[NETD_MAX_STATIC][64]; /* MAC,port=N[,vlan=V] */
    unsigned nstatic;
    unsigned mac_table; /* entries */
    char created[32];
};

/* STORE/nets/NAME into out; false if it does not fit. */
bool netd_dir(const char *store, const char *name, char *out, size_t outlen);
bool netd_name_valid(const char *name);
/* A Linux interface name (1-15 of [A-Za-z0-9_.-], not . or ..). */
bool netd_tap_name_valid(const char *name);
bool netd_config_load(const char *dir, struct netd_config *cfg, char *err, size_t errlen);
bool netd_config_save(const char *dir, const struct netd_config *cfg, char *err, size_t errlen);
bool netd_parse_vxlan(const char *text, struct netd_vxlan *vx, char *why, size_t whylen);
void netd_format_vxlan(const struct netd_vxlan *vx, char *out, size_t outlen);

struct vsw_acl;
/* An ACL rule: drop|allow[,src-mac=M][,dst-mac=M][,vlan=V][,src-ip=A[/N]][,dst-ip=A[/N]]
 * [,proto=tcp|udp|icmp|N][,dst-port=P][,in-port=N]. */
bool netd_parse_acl(const char *text, struct vsw_acl *rule, char *why, size_t whylen);
/* A static MAC entry: MAC,port=N[,vlan=V]. */
bool netd_parse_static(const char *text, uint8_t mac[6], unsigned *port, uint16_t *vlan, char *why,
                       size_t whylen);

/* Is the switch of dir running (its lock held)? *pid when known. */
bool netd_running(const char *dir, long *pid);
/* Starts the switch of dir unless it runs; false with the reason. */
bool netd_start(const char *dir, char *err, size_t errlen);

/* For a `switch=NAME` NIC: fills its socket from the store and starts the
 * switch if it is not running.  A NIC without mac= gets one derived from
 * seed (the VM's name: stable across starts), or a random one when seed is
 * NULL, so that VMs on one network never share the default MAC.  Other
 * NICs are left alone. */
bool netd_attach_nic(const char *store, struct nic_spec *nic, const char *seed, unsigned index,
                     char *err, size_t errlen);

/* The store `wirt vm` would use ($WIRT_STORE, $XDG_DATA_HOME/wirt,
 * ~/.local/share/wirt); false if there is none. */
bool netd_default_store(char *out, size_t outlen);

/* The switch process: serves dir until stopped.  Returns the exit status. */
int switchd_run(const char *dir);

/* `wirt net ...` */
int net_main(int argc, char **argv);

#endif
