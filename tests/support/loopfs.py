"""A real file system of its own for a test: a loop-mounted ext4 image it can freeze or fill.

Needs root and loop devices; the tests skip with the reason otherwise. The image is
unfrozen and unmounted on the way out, whatever happened.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

TOOLS = ("mkfs.ext4", "mount", "umount", "fsfreeze")


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


@contextlib.contextmanager
def loop_ext4(where: Path, size_mb: int = 48) -> Iterator[Path]:
    """Mount a fresh ext4 image under ``where``; yield the mount point."""
    if os.geteuid() != 0:
        pytest.skip("needs root: the test mounts a loop file system it can freeze and fill")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} to mount, freeze and fill a file system")
    image, mount_point = where / "disk.img", where / "mnt"
    mount_point.mkdir(parents=True)
    with image.open("wb") as f:
        f.truncate(size_mb * 1024 * 1024)
    made = _run("mkfs.ext4", "-q", "-F", "-m", "0", str(image))  # -m 0: no root reserve
    if made.returncode != 0:
        pytest.skip(f"mkfs.ext4 failed: {made.stderr.strip()}")
    mounted = _run("mount", "-o", "loop", str(image), str(mount_point))
    if mounted.returncode != 0:
        pytest.skip(f"cannot loop-mount a file system here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        _run("fsfreeze", "-u", str(mount_point))  # fails harmlessly when not frozen
        if _run("umount", str(mount_point)).returncode != 0:
            _run("umount", "-l", str(mount_point))  # something still holds it: detach
        image.unlink(missing_ok=True)


def freeze(mount_point: Path) -> None:
    subprocess.run(["fsfreeze", "-f", str(mount_point)], check=True, timeout=30)


def thaw(mount_point: Path) -> None:
    subprocess.run(["fsfreeze", "-u", str(mount_point)], check=True, timeout=30)


def fill(mount_point: Path) -> Path:
    """Write a file until the file system has no byte left; return it (delete = free)."""
    filler = mount_point / "filler"
    chunk = b"\xff" * (1024 * 1024)
    with filler.open("wb", buffering=0) as f:
        for size in (len(chunk), 4096, 1):
            while True:
                try:
                    f.write(chunk[:size])
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
        with contextlib.suppress(OSError):
            os.fsync(f.fileno())
    return filler
