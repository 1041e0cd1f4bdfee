/* SPDX-License-Identifier: MIT */
#include "machine/loader.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem/bus.h"
#include "util/file.h"

/* The whole of f->fd into f->data; what names the file in messages. */
static bool read_whole(struct loaded_file *f, const char *what, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(f->fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", what, strerror(errno));
        return false;
    }
    if ((uint64_t)st.st_size > f->max) {
        snprintf(err, errlen, "%s: too large (%lld bytes)", what, (long long)st.st_size);
        return false;
    }
    f->size = (size_t)st.st_size;
    /* Mapped, not malloc'd: freed, the pages go back to the host at once
     * (a 30 MiB block in the heap would stay there, below later ones). */
    void *p = mmap(NULL, f->size ? f->size : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "%s: out of memory", what);
        return false;
    }
    f->data = p;
    size_t done = 0;
    while (done < f->size) {
        ssize_t n = pread(f->fd, f->data + done, f->size - done, (off_t)done);
        if (n <= 0) {
            snprintf(err, errlen, "%s: read error: %s", what,
                     n < 0 ? strerror(errno) : "short read");
            file_drop(f);
            return false;
        }
        done += (size_t)n;
    }
    return true;
}

bool load_file(const char *path, size_t max, struct loaded_file *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->max = max;
    /* A FIFO or a device would block the open or never end the read. */
    out->fd = open_regular(path, O_RDONLY, 0, err, errlen);
    if (out->fd < 0) {
        out->max = 0;
        return false;
    }
    if (!read_whole(out, path, err, errlen)) {
        free_file(out);
        return false;
    }
    return true;
}

bool file_reload(struct loaded_file *f, char *err, size_t errlen)
{
    return f->data || !f->max || read_whole(f, "image", err, errlen);
}

void file_drop(struct loaded_file *f)
{
    if (f->data)
        munmap(f->data, f->size ? f->size : 1);
    f->data = NULL;
}

void free_file(struct loaded_file *f)
{
    file_drop(f);
    if (f->max && f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    f->max = 0;
    f->size = 0;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

enum image_kind detect_image_kind(const struct loaded_file *f)
{
    if (f->size >= 64 &&
        (!memcmp(f->data + 56, "RSC\x05", 4) || !memcmp(f->data + 48, "RISCV\0\0\0", 8)))
        return IMAGE_LINUX;
    if (f->size >= sizeof(Elf64_Ehdr) && !memcmp(f->data, ELFMAG, SELFMAG))
        return IMAGE_ELF;
    return f->size ? IMAGE_FLAT : IMAGE_UNKNOWN;
}

bool linux_image_info(const struct loaded_file *f, uint64_t *text_offset, uint64_t *image_size)
{
    if (detect_image_kind(f) != IMAGE_LINUX)
        return false;
    *text_offset = get_le64(f->data + 8);
    *image_size = get_le64(f->data + 16);
    if (*image_size < f->size)
        *image_size = f->size;
    return true;
}

bool load_blob(struct bus *bus, uint64_t pa, const void *data, size_t size)
{
    void *dst = bus_ram_ptr(bus, pa, size);
    if (!dst)
        return false;
    memcpy(dst, data, size);
    bus_ram_written(bus, pa, size);
    return true;
}

static bool find_symbols(const struct loaded_file *f, const Elf64_Ehdr *eh, struct elf_info *info)
{
    if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(Elf64_Shdr))
        return true;
    if (eh->e_shoff > f->size || (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > f->size - eh->e_shoff)
        return false;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(f->data + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
            continue;
        const Elf64_Shdr *strsh = &sh[sh[i].sh_link];
        if (sh[i].sh_offset > f->size || sh[i].sh_size > f->size - sh[i].sh_offset ||
            strsh->sh_offset > f->size || strsh->sh_size > f->size - strsh->sh_offset)
            return false;
        const Elf64_Sym *syms = (const Elf64_Sym *)(f->data + sh[i].sh_offset);
        size_t nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
        const char *strtab = (const char *)f->data + strsh->sh_offset;
        for (size_t s = 0; s < nsyms; s++) {
            uint32_t name = syms[s].st_name;
            if (name >= strsh->sh_size)
                continue;
            const char *n = strtab + name;
            size_t maxlen = strsh->sh_size - name;
            if (strnlen(n, maxlen) == maxlen)
                continue;
            if (!strcmp(n, "tohost"))
                info->tohost = syms[s].st_value;
            else if (!strcmp(n, "fromhost"))
                info->fromhost = syms[s].st_value;
        }
    }
    return true;
}

bool load_elf(struct bus *bus, const struct loaded_file *f, const char *path, struct elf_info *info,
              char *err, size_t errlen)
{
    memset(info, 0, sizeof(*info));
    if (detect_image_kind(f) != IMAGE_ELF) {
        snprintf(err, errlen, "%s: not an ELF file", path);
        return false;
    }
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f->data;
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
        eh->e_machine != EM_RISCV) {
        snprintf(err, errlen, "%s: not a 64-bit little-endian RISC-V ELF file", path);
        return false;
    }
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > f->size ||
        (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > f->size - eh->e_phoff) {
        snprintf(err, errlen, "%s: malformed ELF program headers", path);
        return false;
    }
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(f->data + eh->e_phoff);
    info->low = UINT64_MAX;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
            continue;
        if (ph[i].p_filesz > ph[i].p_memsz || ph[i].p_offset > f->size ||
            ph[i].p_filesz > f->size - ph[i].p_offset) {
            snprintf(err, errlen, "%s: malformed ELF segment %u", path, i);
            return false;
        }
        uint8_t *dst = bus_ram_ptr(bus, ph[i].p_paddr, ph[i].p_memsz);
        if (!dst) {
            snprintf(err, errlen, "%s: segment %u at 0x%llx (%llu bytes) does not fit in guest RAM",
                     path, i, (unsigned long long)ph[i].p_paddr, (unsigned long long)ph[i].p_memsz);
            return false;
        }
        memcpy(dst, f->data + ph[i].p_offset, ph[i].p_filesz);
        memset(dst + ph[i].p_filesz, 0, ph[i].p_memsz - ph[i].p_filesz);
        bus_ram_written(bus, ph[i].p_paddr, ph[i].p_memsz);
        if (ph[i].p_paddr < info->low)
            info->low = ph[i].p_paddr;
        if (ph[i].p_paddr + ph[i].p_memsz > info->high)
            info->high = ph[i].p_paddr + ph[i].p_memsz;
    }
    if (info->low == UINT64_MAX) {
        snprintf(err, errlen, "%s: ELF file has nothing to load", path);
        return false;
    }
    if (!find_symbols(f, eh, info)) {
        snprintf(err, errlen, "%s: malformed ELF symbol table", path);
        return false;
    }
    info->entry = eh->e_entry;
    return true;
}
