#!/usr/bin/env python3
"""Draws docs/sample/logo.png (the README's upload example): a credential badge, a gold ring
around a blue disc with a white check mark, 128 x 128 RGBA. Standard library only."""
import math, struct, zlib
from pathlib import Path

SIZE, SS = 128, 4  # pixels a side, supersamples per axis (anti-aliasing)
BLUE, GOLD, WHITE = (31, 78, 121), (212, 160, 23), (255, 255, 255)

def segment_distance(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)

def colour_at(x, y):
    r = math.hypot(x - 64, y - 64)
    if r > 60: return None
    if r > 52: return GOLD
    check = min(segment_distance(x, y, 40, 66, 56, 82), segment_distance(x, y, 56, 82, 88, 46))
    return WHITE if check < 7 else BLUE

rows = bytearray()
for y in range(SIZE):
    rows.append(0)  # filter: none
    for x in range(SIZE):
        acc, hits = [0, 0, 0], 0
        for sy in range(SS):
            for sx in range(SS):
                c = colour_at(x + (sx + 0.5) / SS, y + (sy + 0.5) / SS)
                if c: hits += 1; acc = [a + v for a, v in zip(acc, c)]
        rgb = [round(a / hits) for a in acc] if hits else [0, 0, 0]
        rows += bytes(rgb + [round(255 * hits / (SS * SS))])

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b"")
Path(__file__).with_name("logo.png").write_bytes(png)
