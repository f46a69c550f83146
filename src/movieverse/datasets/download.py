"""Downloading a dataset's official archive into ``<root>/<name>/``: verified, and all or nothing.

    directory = ensure_dataset("ml-latest-small", root, download=True, progress=on_progress)
    dataset = read_movielens(directory)

:func:`ensure_dataset` returns the directory when it is already there (no network access at all)
and otherwise calls :func:`download_dataset`, which:

1. streams the archive with httpx into a fresh hidden directory ``<root>/.<name>.*.download``,
   hashing it with SHA-256 as it arrives, and stops a response that grows beyond
   ``DatasetInfo.max_archive_bytes`` (a server sending far more than the archive's size is not
   sending the archive, and the checksum could only say so after the disk is full);
2. refuses the archive unless its SHA-256 is the pinned one (``DatasetInfo.sha256``, or the
   caller's ``sha256`` for another archive); nothing is unpacked before that;
3. checks every member before writing any: absolute paths, ``..``, backslashes, symbolic links and
   other special files are refused, as is an archive declaring far more bytes than it could hold;
4. unpacks into the same hidden directory, checks that ``<name>/<marker>`` is there, and renames
   ``<name>/`` to ``<root>/<name>/`` in one step (same filesystem, so the rename is atomic).

Whatever fails, the hidden directory is removed, so an interrupted or corrupt download never looks
like a dataset and leaves no partial files. Only a process killed outright (SIGKILL, power loss)
can leave the hidden directory behind; it is never mistaken for a dataset and can be deleted.

Failures raise :class:`DatasetDownloadError` naming the dataset, the URL and the reason. The
connect timeout is short, so an offline machine fails within seconds instead of hanging; the read
timeout applies between chunks, not to the whole download.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath, PureWindowsPath

import httpx

from movieverse.datasets.records import DatasetError, DatasetNotFoundError
from movieverse.datasets.registry import dataset_info, find_dataset

# Called as progress(bytes_done, bytes_total); total is None when the server sends no length.
Progress = Callable[[int, int | None], None]

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0
CHUNK_BYTES = 1024 * 1024
# For a custom download whose registry entry names no ceiling (none does today).
DEFAULT_MAX_ARCHIVE_BYTES = 4 * 1024 * 1024 * 1024
# Text compresses about 4-5x in these archives; a zip bomb declares hundreds or thousands of times
# its size. A member cannot unpack to more than it declares (zipfile stops there and the CRC
# check fails), so the declared total bounds what lands on disk.
MAX_UNPACK_RATIO = 50
USER_AGENT = "movieverse-datasets/0.1"
SHA256_HEX_DIGITS = 64
# The zip specification's "version made by" host number for Unix.
ZIP_MADE_ON_UNIX = 3


class DatasetDownloadError(DatasetError):
    """A dataset could not be downloaded: unreachable host, HTTP error, checksum, bad archive."""

    def __init__(self, name: str, url: str | None, reason: str) -> None:
        source = f"from {url}" if url else "(no download URL)"
        super().__init__(f"cannot download dataset {name} {source}: {reason}")
        self.name = name
        self.url = url
        self.reason = reason


def ensure_dataset(
    name: str,
    root: str | os.PathLike[str],
    *,
    download: bool,
    url: str | None = None,
    sha256: str | None = None,
    max_bytes: int | None = None,
    timeout: float = READ_TIMEOUT,
    connect_timeout: float = CONNECT_TIMEOUT,
    progress: Progress | None = None,
) -> Path:
    """The directory of ``name`` under ``root``, downloading it first if it is absent and
    ``download`` is true. A present dataset is returned without any network access; an absent
    one with ``download=False`` raises the DatasetNotFoundError that says where to get it."""
    dataset_info(name)  # an unknown name fails the same way with or without download
    try:
        return find_dataset(name, root)
    except DatasetNotFoundError:
        if not download:
            raise
    return download_dataset(
        name,
        root,
        url=url,
        sha256=sha256,
        max_bytes=max_bytes,
        timeout=timeout,
        connect_timeout=connect_timeout,
        progress=progress,
    )


def download_dataset(
    name: str,
    root: str | os.PathLike[str],
    *,
    url: str | None = None,
    sha256: str | None = None,
    max_bytes: int | None = None,
    timeout: float = READ_TIMEOUT,
    connect_timeout: float = CONNECT_TIMEOUT,
    progress: Progress | None = None,
) -> Path:
    """Download, verify and unpack dataset ``name`` into ``<root>/<name>/``; returns that path.

    ``url`` replaces the official URL (a mirror): the pinned checksum still applies unless
    ``sha256`` names another. ``max_bytes`` replaces the registry's size ceiling. ``<root>/<name>``
    must not exist yet (an empty directory is fine): a dataset is never overwritten.
    """
    info = dataset_info(name)
    source = url or info.url
    if source is None:
        raise DatasetDownloadError(
            name,
            None,
            f"the {info.source} has no public download (it needs a login); "
            f"get it yourself and unpack it so that {Path(root) / name} holds {info.marker}",
        )
    expected = _expected_digest(name, source, sha256 or info.sha256)
    limit = max_bytes or info.max_archive_bytes or DEFAULT_MAX_ARCHIVE_BYTES
    base = Path(root)
    target = base / name
    # Checked before any byte is fetched: finding out after a 250 MB download would be a waste.
    _check_target_is_free(name, source, target, info.marker)
    try:
        base.mkdir(parents=True, exist_ok=True)
        # Under root, not the system temp directory: the final rename must stay on one filesystem
        # to be atomic, and /tmp is often a small tmpfs. The leading dot hides it from listings.
        work = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".download", dir=base))
    except OSError as exc:
        raise DatasetDownloadError(name, source, f"cannot work under {base}: {exc}") from exc
    try:
        archive = work / f"{name}.zip"
        _fetch(
            name,
            source,
            archive,
            expected=expected,
            limit=limit,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            progress=progress,
        )
        unpacked = work / "unpacked"
        _unpack(name, source, archive, unpacked)
        staged = unpacked / name
        if not (staged / info.marker).is_file():
            raise DatasetDownloadError(
                name, source, f"the archive has no {name}/{info.marker}: not the {name} dataset"
            )
        _move_into_place(name, source, staged, target, info.marker)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _expected_digest(name: str, url: str, sha256: str | None) -> str:
    if sha256 is None:
        # An unverified archive could be anything; importing it would defeat the pinning.
        raise DatasetDownloadError(name, url, "no SHA-256 to verify the archive against")
    digest = sha256.strip().lower()
    if len(digest) != SHA256_HEX_DIGITS or not all(c in "0123456789abcdef" for c in digest):
        raise DatasetDownloadError(name, url, f"not a SHA-256 hex digest: {sha256!r}")
    return digest


def _check_target_is_free(name: str, url: str, target: Path, marker: str) -> None:
    if not target.exists() and not target.is_symlink():
        return
    if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
        return  # an empty directory holds nothing to lose; the rename replaces it
    if (target / marker).is_file():
        reason = f"{target} already holds it (remove it first to download it again)"
    else:
        reason = f"{target} exists but has no {marker}: remove it, or finish unpacking it by hand"
    raise DatasetDownloadError(name, url, reason)


def _fetch(
    name: str,
    url: str,
    archive: Path,
    *,
    expected: str,
    limit: int,
    timeout: httpx.Timeout,
    progress: Progress | None,
) -> None:
    digest = hashlib.sha256()
    received = 0
    try:
        with (
            httpx.Client(
                timeout=timeout,
                follow_redirects=True,
                # "identity": the checksum is of the archive's bytes, and the progress total of
                # Content-Length only matches them when nothing is compressed in transit.
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != httpx.codes.OK:
                reason = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
                raise DatasetDownloadError(name, url, reason)
            total = _content_length(response)
            if total is not None and total > limit:
                raise DatasetDownloadError(name, url, _too_large(total, limit, "announces"))
            if progress is not None:
                progress(0, total)
            with archive.open("xb") as file:
                for chunk in response.iter_bytes(CHUNK_BYTES):
                    received += len(chunk)
                    if received > limit:
                        raise DatasetDownloadError(name, url, _too_large(received, limit, "sent"))
                    digest.update(chunk)
                    file.write(chunk)
                    if progress is not None:
                        progress(received, total)
    except httpx.ConnectTimeout as exc:
        reason = f"no connection within {timeout.connect}s (offline, or the host is unreachable)"
        raise DatasetDownloadError(name, url, reason) from exc
    except httpx.ConnectError as exc:
        # DNS failures land here too: the usual face of "this machine is offline".
        reason = f"cannot connect (offline, or the host is unreachable): {exc}"
        raise DatasetDownloadError(name, url, reason) from exc
    except httpx.TimeoutException as exc:
        reason = f"the server stopped sending for {timeout.read}s after {received:,} bytes"
        raise DatasetDownloadError(name, url, reason) from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise DatasetDownloadError(name, url, f"download failed: {exc}") from exc
    except OSError as exc:
        raise DatasetDownloadError(name, url, f"cannot write {archive}: {exc}") from exc
    actual = digest.hexdigest()
    if actual != expected:
        reason = (
            f"checksum mismatch: expected SHA-256 {expected}, got {actual} ({received:,} bytes)"
        )
        raise DatasetDownloadError(name, url, reason)


def _content_length(response: httpx.Response) -> int | None:
    text = response.headers.get("Content-Length", "")
    return int(text) if text.isascii() and text.isdigit() else None


def _too_large(size: int, limit: int, verb: str) -> str:
    return f"the server {verb} {size:,} bytes or more, above the {limit:,} this archive may take"


def _unpack(name: str, url: str, archive: Path, destination: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            # Every member is checked before anything is written, so a hostile archive is refused
            # as a whole rather than half unpacked.
            plan = _plan(name, url, members)
            declared = sum(info.file_size for info in members)
            allowed = MAX_UNPACK_RATIO * max(archive.stat().st_size, 1)
            if declared > allowed:
                reason = (
                    f"unsafe archive: it declares {declared:,} unpacked bytes (limit {allowed:,})"
                )
                raise DatasetDownloadError(name, url, reason)
            destination.mkdir()
            for info, parts in plan:
                path = destination.joinpath(*parts)
                if info.is_dir():
                    path.mkdir(parents=True, exist_ok=True)
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(info) as member, path.open("xb") as file:
                    shutil.copyfileobj(member, file, CHUNK_BYTES)
    # BadZipFile covers a CRC mismatch; NotImplementedError an unsupported compression method;
    # RuntimeError an encrypted member.
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as exc:
        raise DatasetDownloadError(name, url, f"not a readable zip archive: {exc}") from exc
    except OSError as exc:
        raise DatasetDownloadError(name, url, f"cannot unpack into {destination}: {exc}") from exc


def _plan(
    name: str, url: str, members: list[zipfile.ZipInfo]
) -> list[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    plan: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
    files: set[tuple[str, ...]] = set()
    for info in members:
        problem = _unsafe(info)
        parts = tuple(part for part in info.filename.split("/") if part not in {"", "."})
        if problem is None and not parts:
            problem = "empty name"
        if problem is None and not info.is_dir():
            if parts in files:
                # The second copy would replace the first: which one is the dataset?
                problem = "appears twice"
            files.add(parts)
        if problem is not None:
            raise DatasetDownloadError(
                name, url, f"unsafe archive member {info.filename!r}: {problem}"
            )
        plan.append((info, parts))
    return plan


def _unsafe(info: zipfile.ZipInfo) -> str | None:
    """Why writing this member could land outside the destination or be no plain file, or None."""
    filename = info.filename
    if "\\" in filename:
        # Not a separator in a zip, but one on Windows; no honest archive here uses it.
        return "backslash in the name"
    if PurePosixPath(filename).is_absolute() or PureWindowsPath(filename).drive:
        return "absolute path"
    if ".." in filename.split("/"):
        return "'..' in the path"
    # The Unix mode sits in the high 16 bits of external_attr when the archive was made on Unix.
    if info.create_system == ZIP_MADE_ON_UNIX:
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            return "symbolic link"
        if stat.S_IFMT(mode) not in {0, stat.S_IFREG, stat.S_IFDIR}:
            return "special file"
    return None


def _move_into_place(name: str, url: str, staged: Path, target: Path, marker: str) -> None:
    try:
        if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
            # rename() replaces an empty directory on POSIX but not on Windows: remove it first.
            target.rmdir()
        staged.rename(target)
    except OSError as exc:
        if (target / marker).is_file():
            return  # a concurrent download of the same dataset finished first: use its copy
        reason = f"cannot move the unpacked dataset to {target}: {exc}"
        raise DatasetDownloadError(name, url, reason) from exc
