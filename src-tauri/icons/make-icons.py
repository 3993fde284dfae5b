#!/usr/bin/env python3
"""Writes Berth's icons (RGBA PNGs) with the standard library only: a navy rounded square with
a white mooring bollard. Run from src-tauri/: python3 icons/make-icons.py"""
import struct, zlib

def png(size):
    rows = []
    r = size * 0.22  # corner radius
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            # rounded square mask
            cx = min(max(x + 0.5, r), size - r)
            cy = min(max(y + 0.5, r), size - r)
            inside = (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r
            u, v = (x + 0.5) / size, (y + 0.5) / size
            # bollard: a post with a cap, and a water line
            post = 0.40 < u < 0.60 and 0.30 < v < 0.72
            cap = 0.30 < u < 0.70 and 0.24 < v < 0.34
            water = 0.18 < u < 0.82 and 0.76 < v < 0.80
            if not inside:
                row += bytes([0, 0, 0, 0])
            elif post or cap or water:
                row += bytes([255, 255, 255, 255])
            else:
                row += bytes([29, 35, 48, 255])
        rows.append(bytes(row))
    raw = b"".join(rows)
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

for name, size in [("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
    with open(f"icons/{name}", "wb") as f:
        f.write(png(size))
