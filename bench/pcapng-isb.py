#!/usr/bin/env python3
"""Prints "DELIVERED LOST" (isb_usrdeliv, isb_ifdrop) of the last Interface Statistics Block
of a pwrudump pcapng: the events written and the events lost in the kernel.

usage: pcapng-isb.py FILE   (exit 1 when the file has no ISB)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import pcapng  # noqa: E402  (tests/lib: the one pcapng reader)


def main(path):
    counters = None
    with open(path, "rb") as f:
        # packets are skipped, not read: captures are large
        for btype, body in pcapng.Blocks(f, bodies={pcapng.ISB}):
            if btype == pcapng.ISB:
                counters = pcapng.isb_counters(body)
    if counters is None or pcapng.ISB_IFDROP not in counters or pcapng.ISB_USRDELIV not in counters:
        return 1
    print(counters[pcapng.ISB_USRDELIV], counters[pcapng.ISB_IFDROP])
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
