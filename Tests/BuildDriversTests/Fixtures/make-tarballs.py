#!/usr/bin/env python3
"""Writes the SafeTarExtractor test archives into OUT_DIR.

usage: make-tarballs.py OUT_DIR TOKEN
TOKEN makes names unique (the absolute-path entry is /TOKEN-abs), so a test can check
that nothing was written outside the destination.
"""
import io
import os
import sys
import tarfile

out, token = sys.argv[1], sys.argv[2]
MTIME = 1_600_000_000


def info(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, link=""):
    member = tarfile.TarInfo(name)
    member.type = kind
    member.mode = mode
    member.mtime = MTIME
    member.linkname = link
    member.size = len(data) if kind == tarfile.REGTYPE else 0
    return member, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def write(name, members, compression="gz"):
    mode = "w:gz" if compression == "gz" else "w"
    with tarfile.open(os.path.join(out, name), mode, format=tarfile.PAX_FORMAT) as archive:
        for member, data in members:
            archive.addfile(member, data)


F, D, S, H = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE

write("parent.tar.gz", [info("ok.txt", data=b"ok"), info(f"../{token}-escape", data=b"x")])
write("absolute.tar.gz", [info(f"/{token}-abs", data=b"x")])
# A prepended concatenation mark (U+0600) before "/" and a combining mark (U+0301) after it
# hide separators from a check made on Swift Characters; the kernel still sees "..".
write("hidden-parent.tar.gz", [info("ok.txt", data=b"ok"), info(f"\u0600/../../\u0301{token}-escape", data=b"x")])
write("hidden-link.tar.gz", [info("s", S, link="\u0600/../../\u0301..")])
write("symlink-etc.tar.gz", [info("link", S, link="/etc"), info("link/passwd", data=b"root::0:0::/:/bin/sh\n")])
write("through-link.tar.gz", [info("dir", D, mode=0o755), info("sub", S, link="dir"), info("sub/file", data=b"x")])
write("relative-escape.tar.gz", [info("a", D, mode=0o755), info("a/up", S, link="../..")])
# Lexically `a/up/..` is `a`, but `a/up` is the folder itself, so `s` is its parent.
write("chained-escape.tar.gz", [info("a", D, mode=0o755), info("a/up", S, link=".."), info("s", S, link="a/up/..")])
# `s` looks inside until `d/l`, listed later, turns out to be a link.
write("late-escape.tar.gz", [info("s", S, link="d/l/../.."), info("d", D, mode=0o755), info("d/l", S, link=".")])
write("hardlink-outside.tar.gz", [info("h", H, link=f"../../{token}-target")])
write("hardlink-absolute.tar.gz", [info("h", H, link="/etc/passwd")])
device = tarfile.TarInfo("dev/null")
device.type, device.devmajor, device.devminor, device.mtime = tarfile.CHRTYPE, 1, 3, MTIME
write("device.tar.gz", [info("dev", D, mode=0o755), (device, None)])
fifo = tarfile.TarInfo("pipe")
fifo.type, fifo.mtime = tarfile.FIFOTYPE, MTIME
write("fifo.tar.gz", [(fifo, None)])
write("large.tar.gz", [info("small.txt", data=b"x" * 1000), info("big.bin", data=b"\0" * (2 << 20))])
write("many.tar.gz", [info(f"f{i}.txt", data=b"x") for i in range(20)])
write("bomb.tar.gz", [info("zeros.bin", data=b"\0" * (64 << 20))])
write("conflict.tar.gz", [info("x", D, mode=0o755), info("x", S, link="y")])

def normal():
    return [
        info("app", D, mode=0o755),
        info("app/src", D, mode=0o700),
        info("app/src/lib", D, mode=0o755),
        info("app/src/lib/code.txt", data=b"print('hello')\n", mode=0o644),
        info("app/run.sh", data=b"#!/bin/sh\necho run\n", mode=0o755),
        info("app/group-writable.txt", data=b"g", mode=0o666),
        info("app/setuid", data=b"s", mode=0o4755),
        info("app/current", S, link="src/lib"),
        info("app/code", S, link="src/lib/code.txt"),
        info("app/hard.txt", H, link="app/src/lib/code.txt"),
        info("./top.txt", data=b"top\n"),
        info("implicit/parent/file.txt", data=b"deep\n"),
        info("Dockerfile", data=b"FROM scratch\nCOPY . /\n"),
    ]


write("normal.tar.gz", normal())
write("normal.tar", normal(), compression=None)

with open(os.path.join(out, "corrupt.tar.gz"), "wb") as corrupt:
    data = open(os.path.join(out, "normal.tar.gz"), "rb").read()
    corrupt.write(data[: len(data) // 2])
