#!/usr/bin/env python3
"""Prints "DELIVERED LOST" (isb_usrdeliv, isb_ifdrop) of the last Interface Statistics Block
of a pwrudump pcapng: the events written and the events lost in the kernel.

usage: pcapng-isb.py FILE   (exit 1 when the file has no ISB)
"""
import struct
import sys

ISB, ISB_IFDROP, ISB_USRDELIV = 5, 5, 8


def main(path):
    lost = delivered = None
    with open(path, "rb") as f:
        while True:
            head = f.read(8)
            if len(head) < 8:
                break
            btype, blen = struct.unpack("<II", head)
            if blen < 12:
                break
            if btype != ISB:
                f.seek(blen - 8, 1)  # packets are skipped, not read: captures are large
                continue
            body = f.read(blen - 8)
            opt = 12  # interface id, timestamp
            end = len(body) - 4
            while opt + 4 <= end:
                code, olen = struct.unpack_from("<HH", body, opt)
                if code == 0:
                    break
                if code == ISB_IFDROP and olen == 8:
                    lost = struct.unpack_from("<Q", body, opt + 4)[0]
                if code == ISB_USRDELIV and olen == 8:
                    delivered = struct.unpack_from("<Q", body, opt + 4)[0]
                opt += 4 + ((olen + 3) & ~3)
    if lost is None or delivered is None:
        return 1
    print(delivered, lost)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
