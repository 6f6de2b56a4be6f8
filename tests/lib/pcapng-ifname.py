#!/usr/bin/env python3
"""Copies a pcapng file, naming its interfaces NAME and describing them DESCRIPTION: a local
capture of host H made into what a capture of H among several says (pwru@H, "pwru on H ...").

usage: pcapng-ifname.py IN OUT NAME DESCRIPTION
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapng  # noqa: E402  (tests/lib: the one pcapng reader)


def main(src, dst, name, description):
    with open(src, "rb") as f, open(dst, "wb") as out:
        blocks = pcapng.Blocks(f)
        for btype, body in blocks:
            if btype == pcapng.IDB:
                body = pcapng.idb_with_names(body, name, description)
            out.write(pcapng.block(btype, body))
        if blocks.tail:
            sys.exit(f"{src}: {blocks.tail} bytes after the last complete block")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__.strip())
    sys.exit(main(*sys.argv[1:]))
