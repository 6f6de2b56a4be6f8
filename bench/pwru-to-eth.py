#!/usr/bin/env python3
"""Writes the packets inside a pwrudump pcapng as a plain Ethernet pcap, one frame per event.

The reference for the dissection benchmark: the same packet bytes, dissected by Wireshark
without the pwru records around them. An event captured from the network layer (no MAC header)
gets an Ethernet header with the EtherType of its IP version; an event without packet bytes
becomes an empty Ethernet frame of EtherType 0x88b5 (local experimental), so both files hold
the same number of frames.

usage: pwru-to-eth.py IN.pcapng OUT.pcap
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import pcapng  # noqa: E402  (tests/lib: the one pcapng reader)

PDU_PREFIX = 12  # the exported-PDU tags naming "pwru" (docs/record-format.md)
TLV_PACKET_LAYER, TLV_PACKET = 28, 29
LAYER_ETHERNET, LAYER_NETWORK = 1, 2
FAKE_MACS = bytes(12)


def frame(record):
    """The Ethernet frame for one pwru record."""
    off = struct.unpack_from("<H", record, 2)[0]  # header_len
    layer, packet = 0, b""
    while off + 4 <= len(record):
        ttype, tlen = struct.unpack_from("<HH", record, off)
        value = record[off + 4:off + 4 + tlen]
        if ttype == TLV_PACKET_LAYER and tlen == 1:
            layer = value[0]
        elif ttype == TLV_PACKET:
            packet = value
        off += 4 + tlen
    if layer == LAYER_ETHERNET:
        return packet
    if layer == LAYER_NETWORK and packet:
        ethertype = 0x86DD if packet[0] >> 4 == 6 else 0x0800
        return FAKE_MACS + struct.pack(">H", ethertype) + packet
    return FAKE_MACS + struct.pack(">H", 0x88B5)


def main(src, dst):
    n = 0
    with open(src, "rb") as f, open(dst, "wb") as o:
        # pcap, nanosecond timestamps, LINKTYPE_ETHERNET
        o.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        for btype, body in pcapng.Blocks(f, bodies={pcapng.EPB}):
            if btype != pcapng.EPB:
                continue
            _, ts_hi, ts_lo, caplen = struct.unpack_from("<IIII", body, 0)
            record = body[20 + PDU_PREFIX:20 + caplen]
            data = frame(record)
            ts = ts_hi << 32 | ts_lo
            o.write(struct.pack("<IIII", ts // 10**9, ts % 10**9, len(data), len(data)))
            o.write(data)
            n += 1
    print(n)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
