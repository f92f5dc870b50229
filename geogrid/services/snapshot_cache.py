"""Lookup snapshots kept on disk (查询快照缓存) for restarts, other workers and the CLI.

Building a 1M-address city's snapshot and address index takes about 20 s;
loading the same from a file takes about 1 s. So the process that builds one
writes it here, and a restarted server, a second worker or the next
``geogrid lookup`` loads it instead of building it again.

The files are pickles, which run code when loaded: they live in a folder
only this user may write (created 0700) and a file owned by someone else,
or writable by others, is never read.
"""

import fcntl
import hashlib
import logging
import os
import pickle
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geogrid

log = logging.getLogger(__name__)

_SOURCES = ("services/lookup.py", "domain/address_index.py", "spatial/lookup.py")


def default_folder() -> Path:
    """``$XDG_CACHE_HOME/geogrid``, else ``~/.cache/geogrid``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "geogrid"


def snapshot_cache(setting: str, database: str) -> "SnapshotCache | None":
    """The cache the ``cache_dir`` setting names (empty: the default folder; ``off``: none)."""
    if setting.strip().lower() == "off":
        return None
    return SnapshotCache(Path(setting) if setting else default_folder(), database)


def _code_stamp() -> str:
    """The version and the files that shape a snapshot: another build never reads it."""
    root = Path(geogrid.__file__).parent
    parts = [geogrid.__version__]
    for name in _SOURCES:
        info = (root / name).stat()
        parts.append(f"{info.st_size}:{info.st_mtime_ns}")
    return "|".join(parts)


class SnapshotCache:
    """One database's snapshots in ``folder``, by data stamp; only the newest is kept."""

    def __init__(self, folder: Path, database: str) -> None:
        self.folder = folder
        self._prefix = "lookup-" + _digest(database)
        self._code = _code_stamp()

    def _path(self, stamp: str) -> Path:
        return self.folder / f"{self._prefix}-{_digest(stamp + self._code)}.pickle"

    def load(self, stamp: str) -> object | None:
        """The snapshot saved for ``stamp``, or None (none saved, or not safe to read)."""
        path = self._path(stamp)
        try:
            info = path.stat()
        except OSError:
            return None
        if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            log.warning("snapshot cache %s is not this user's own: not read", path)
            return None
        try:
            with path.open("rb") as file:
                return pickle.load(file)  # our own file, checked above
        # A torn file, or one from code that has since changed shape: build.
        except (
            OSError,
            EOFError,
            pickle.UnpicklingError,
            AttributeError,
            ImportError,
            TypeError,
            ValueError,
        ) as exc:
            log.warning("snapshot cache %s unreadable (%s): rebuilt", path, exc)
            return None

    @contextmanager
    def one_builder(self) -> Iterator[None]:
        """Hold the database's build lock: other workers wait, then load what was saved.

        Each worker of a server, told of the same write, would otherwise
        build the same snapshot at the same time: twice the CPU of a 2-core
        machine for 20 s, while both should be answering. Without a folder
        to lock in, everyone builds.
        """
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(
                self.folder / f"{self._prefix}.lock", os.O_RDWR | os.O_CREAT, 0o600
            )
        except OSError:
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # and with it the lock

    def save(self, stamp: str, snapshot: object) -> None:
        """Write the snapshot for ``stamp`` at once (rename), and drop older ones."""
        path = self._path(stamp)
        temporary: Path | None = None
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "wb", dir=self.folder, prefix=".tmp-", delete=False
            ) as file:
                temporary = Path(file.name)
                pickle.dump(snapshot, file, protocol=pickle.HIGHEST_PROTOCOL)
            temporary.replace(path)  # readers see the whole file or none
            temporary = None
            for old in self.folder.glob(f"{self._prefix}-*.pickle"):
                if old != path:
                    old.unlink(missing_ok=True)
        except (OSError, pickle.PicklingError) as exc:  # a full disk: just slower
            log.warning("snapshot cache not written to %s: %s", self.folder, exc)
        finally:
            if temporary is not None:
                temporary.unlink(missing_ok=True)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
