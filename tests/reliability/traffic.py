#!/usr/bin/env python3
"""Mixed traffic for the long run: `serve` in the receiver's namespace, `send` in the sender's.

serve ADDR PORT: a TCP server that reads each connection to its end, and a UDP socket on the same
port that reads datagrams; runs until killed.
send ADDR PORT SECONDS: for SECONDS, 2 TCP connections a second (each sends 1 KiB and closes)
and 20 UDP datagrams a second; prints "tcp N udp M" (connections completed, datagrams sent).
"""
import socket
import sys
import threading
import time


def serve(addr, port):
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((addr, port))
    tcp.listen(64)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((addr, port))

    def read_udp():
        while True:
            udp.recv(2048)

    def drain(conn):
        with conn:
            while conn.recv(4096):
                pass

    threading.Thread(target=read_udp, daemon=True).start()
    while True:
        conn, _ = tcp.accept()
        threading.Thread(target=drain, args=(conn,), daemon=True).start()


def send(addr, port, seconds):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp_done = udp_sent = 0
    payload = b"x" * 1024
    end = time.monotonic() + seconds
    tick = 0
    while time.monotonic() < end:
        if tick % 10 == 0:  # every 0.5 s
            with socket.create_connection((addr, port), timeout=5) as c:
                c.sendall(payload)
            tcp_done += 1
        udp.sendto(payload[:200], (addr, port))
        udp_sent += 1
        tick += 1
        time.sleep(0.05)
    print(f"tcp {tcp_done} udp {udp_sent}")


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
