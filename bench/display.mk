# SPDX-License-Identifier: MIT
# The graphical display (issue 15): frames per second and bandwidth of a
# changing framebuffer over VNC, wirt --display vnc against qemu -vnc.
# make bench-display DISPLAY_BENCH_ARGS="--seconds 20 --rows 256"
.PHONY: bench-display
bench-display: $(BUILD)/wirt
	tools/fetch-guest.sh
	python3 bench/display_bench.py --build $(BUILD) $(DISPLAY_BENCH_ARGS)
