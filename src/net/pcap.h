/* SPDX-License-Identifier: MIT */
/*
 * A capture file in the classic pcap format (what tcpdump -w writes and
 * tcpdump -r / wireshark read): a 24-byte file header, then one 16-byte
 * record header and the frame per packet.  Link type Ethernet.
 * Used by the virtual switch's port mirroring.
 */
#ifndef WIRT_NET_PCAP_H
#define WIRT_NET_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCAP_SNAPLEN 65535

struct pcap_writer {
    int fd;
    uint64_t records, dropped; /* dropped: records a write failed for */
};

/* Creates (truncates) path owner-only and writes the file header; false
 * with "PATH: reason" in err. */
bool pcap_open(struct pcap_writer *w, const char *path, char *err, size_t errlen);
/* Appends one frame seen at ts_ns (wall clock), cut to the snap length. */
void pcap_write(struct pcap_writer *w, const void *frame, size_t len, uint64_t ts_ns);
void pcap_close(struct pcap_writer *w);

#endif
