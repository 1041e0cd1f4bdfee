/* SPDX-License-Identifier: MIT */
/* `wirt vm`: named virtual machines in a store directory (docs/vm.md). */
#ifndef WIRT_VM_VM_H
#define WIRT_VM_VM_H

/* Entry point: argv[0] is "vm", argv[1] the verb. Returns the exit status. */
int vm_main(int argc, char **argv);

#endif
