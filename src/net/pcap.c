/* SPDX-License-Identifier: MIT */
/*
 * pcap capture files; see pcap.h.  Fields are written in host byte order:
 * a reader tells the order from the magic number.
 */
#include "net/pcap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/file.h"

struct pcap_file_header {
    uint32_t magic; /* 0xa1b2c3d4: microsecond timestamps */
    uint16_t version_major, version_minor;
    int32_t thiszone;
    uint32_t sigfigs, snaplen, linktype;
};

struct pcap_record_header {
    uint32_t ts_sec, ts_usec, incl_len, orig_len;
};

bool pcap_open(struct pcap_writer *w, const char *path, char *err, size_t errlen)
{
    memset(w, 0, sizeof(*w));
    w->fd = open_regular(path, O_WRONLY | O_CREAT | O_TRUNC, 0600, err, errlen);
    if (w->fd < 0)
        return false;
    struct pcap_file_header h = {
        .magic = 0xa1b2c3d4,
        .version_major = 2,
        .version_minor = 4,
        .snaplen = PCAP_SNAPLEN,
        .linktype = 1, /* LINKTYPE_ETHERNET */
    };
    if (write(w->fd, &h, sizeof(h)) != (ssize_t)sizeof(h)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : ENOSPC));
        close(w->fd);
        w->fd = -1;
        return false;
    }
    return true;
}

void pcap_write(struct pcap_writer *w, const void *frame, size_t len, uint64_t ts_ns)
{
    if (w->fd < 0)
        return;
    size_t incl = len > PCAP_SNAPLEN ? PCAP_SNAPLEN : len;
    struct pcap_record_header r = {
        .ts_sec = (uint32_t)(ts_ns / 1000000000u),
        .ts_usec = (uint32_t)(ts_ns % 1000000000u / 1000u),
        .incl_len = (uint32_t)incl,
        .orig_len = (uint32_t)len,
    };
    /* One writev per record: a record is never split by another writer. */
    struct iovec iov[2] = {{&r, sizeof(r)}, {(void *)frame, incl}};
    if (writev(w->fd, iov, 2) == (ssize_t)(sizeof(r) + incl))
        w->records++;
    else
        w->dropped++;
}

void pcap_close(struct pcap_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
}
