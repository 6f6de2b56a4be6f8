"""pcapng read block by block: the one pcapng reader of the Python test and benchmark tools.

A block is `u32 type, u32 total length, body, u32 total length` (docs/record-format.md).
"""
import os
import struct

SHB, IDB, ISB, EPB = 0x0A0D0D0A, 1, 5, 6
NAMES = {SHB: "shb", IDB: "idb", ISB: "isb", EPB: "epb"}
ISB_IFRECV, ISB_IFDROP, ISB_USRDELIV = 4, 5, 8


class Blocks:
    """Iterates over (type, body) of the complete blocks of an open file, in order; body is the
    bytes between the length fields, or None for a type not in `bodies` (when given), which is
    skipped unread: captures are large. Stops at the first block cut short or malformed; `tail`
    is then the count of bytes after the last complete block. A trailing length that differs
    from the leading one raises ValueError."""

    def __init__(self, f, bodies=None):
        self.f, self.bodies = f, bodies
        self.size = os.fstat(f.fileno()).st_size
        self.end = 0

    def __iter__(self):
        off = 0
        while off + 12 <= self.size:
            self.f.seek(off)
            btype, blen = struct.unpack("<II", self.f.read(8))
            if blen < 12 or blen % 4 or off + blen > self.size:
                break
            body = None
            if self.bodies is None or btype in self.bodies:
                rest = self.f.read(blen - 8)
                if struct.unpack_from("<I", rest, len(rest) - 4)[0] != blen:
                    raise ValueError(f"block at {off}: trailing length differs from {blen}")
                body = rest[:-4]
            off += blen
            self.end = off
            yield btype, body

    @property
    def tail(self):
        return self.size - self.end


def options(body, start):
    """(code, value) of each option of the list at `start` in a block body, up to opt_endofopt."""
    while start + 4 <= len(body):
        code, olen = struct.unpack_from("<HH", body, start)
        if code == 0:
            return
        yield code, body[start + 4:start + 4 + olen]
        start += 4 + ((olen + 3) & ~3)


def isb_counters(body):
    """The 64-bit counters of an Interface Statistics Block body, by option code."""
    # interface id, then a 64-bit timestamp, then the options
    return {code: struct.unpack("<Q", value)[0]
            for code, value in options(body, 12) if len(value) == 8}


IF_NAME, IF_DESCRIPTION = 2, 3


def block(btype, body):
    """A whole block of `btype` around `body` (padded to 4 bytes)."""
    body += b"\0" * (-len(body) % 4)
    blen = len(body) + 12
    return struct.pack("<II", btype, blen) + body + struct.pack("<I", blen)


def idb_with_names(body, name, description):
    """An Interface Description Block body with its if_name and if_description replaced, its
    other options kept: what a capture of host H merged with others says of its interface."""
    kept = [(code, value) for code, value in options(body, 8)
            if code not in (IF_NAME, IF_DESCRIPTION)]
    out = body[:8]
    for code, value in [(IF_NAME, name.encode()), (IF_DESCRIPTION, description.encode())] + kept:
        out += struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)
    return out + struct.pack("<HH", 0, 0)
