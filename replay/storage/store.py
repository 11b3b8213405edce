"""Object storage behind one narrow interface: a local folder or any S3 (MinIO)."""
from __future__ import annotations

import io
import os
import tempfile
import threading
from pathlib import Path
from typing import Iterator, Protocol

from replay.core.settings import Settings

# Written next to their target, then renamed; listings never show them.
_TMP_PREFIX = ".tmp-"


class StorageError(Exception):
    """Any failure of the object store; the cause is chained."""


class NotFound(StorageError):
    """The key holds no object."""


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def put_new(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        """Write only if no object is at key (atomically): False, and nothing written, if one is."""

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "", delimiter: str | None = None) -> Iterator[str]:
        """Keys under prefix; with delimiter "/", keys and common prefixes ("a/") at that level.

        Order is not part of the contract (S3 lists a page's keys before its prefixes).
        """

    def delete(self, key: str) -> None: ...

    def prepare(self) -> None: ...


def check_key(key: str) -> str:
    """Reject keys that could escape the store's root or mean different things to the backends."""
    if not isinstance(key, str) or not key or len(key.encode()) > 1024:
        raise StorageError(f"invalid object key: {key!r}")
    if key.startswith("/") or "\\" in key or "\x00" in key:
        raise StorageError(f"invalid object key: {key!r}")
    for part in key.split("/"):
        if part in ("", ".", "..") or part.startswith(_TMP_PREFIX):
            raise StorageError(f"invalid object key: {key!r}")
    return key


def check_prefix(prefix: str) -> str:
    """A listing prefix: empty, or the start of a valid key (its folders must be valid)."""
    if prefix:
        check_key(prefix + "x" if prefix.endswith("/") else prefix)
    return prefix


def _check_delimiter(delimiter: str | None) -> None:
    # S3 clients (minio) only roll up on "/", so neither backend offers more.
    if delimiter not in (None, "/"):
        raise ValueError("delimiter must be None or '/'")


class LocalStore:
    """Objects as files under `root`; each write is atomic (temp file, fsync, rename)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()

    def prepare(self) -> None:
        """Create the root folder (a worker calls this at start to fail early)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create {self.root}: {exc}") from exc

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._write(key, data, os.replace)

    def put_new(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        def link_once(tmp: str, path: Path) -> None:
            os.link(tmp, path)  # fails if the key holds an object; the temp name goes with the cleanup below
            Path(tmp).unlink()

        try:
            self._write(key, data, link_once)
        except FileExistsError:
            return False
        return True

    def _write(self, key: str, data: bytes, place) -> None:
        """Write a temp file next to the key, sync it, `place(tmp, path)` it, sync the folder."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                place(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            # The rename is durable only once the directory entry is on disk.
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except FileExistsError:
            raise
        except OSError as exc:
            raise StorageError(f"cannot write {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise NotFound(key) from exc
        except OSError as exc:
            raise StorageError(f"cannot read {key}: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "", delimiter: str | None = None) -> Iterator[str]:
        _check_delimiter(delimiter)
        check_prefix(prefix)
        # Walk only the folder the prefix names; the rest of the prefix filters names in it.
        folder, _, _ = prefix.rpartition("/")
        base = self.root.joinpath(*folder.split("/")) if folder else self.root
        lead = folder + "/" if folder else ""
        try:
            if delimiter is None:
                found = [k for k in self._walk(base, lead) if k.startswith(prefix)]
            else:
                found = []
                with os.scandir(base) as entries:
                    for entry in entries:
                        name = lead + entry.name
                        if entry.name.startswith(_TMP_PREFIX) or not name.startswith(prefix):
                            continue
                        if entry.is_dir(follow_symlinks=False):
                            # S3 shows a common prefix only when some object lies under it.
                            if any(True for _ in self._walk(Path(entry.path), name + "/")):
                                found.append(name + "/")
                        elif entry.is_file(follow_symlinks=False):
                            found.append(name)
        except FileNotFoundError:
            return iter(())
        except OSError as exc:
            raise StorageError(f"cannot list {prefix!r}: {exc}") from exc
        return iter(sorted(found))

    def _walk(self, base: Path, lead: str) -> Iterator[str]:
        for dirpath, dirnames, filenames in os.walk(base):
            rel = Path(dirpath).relative_to(base).as_posix()
            here = lead if rel == "." else f"{lead}{rel}/"
            for name in filenames:
                if not name.startswith(_TMP_PREFIX):
                    yield here + name

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot delete {key}: {exc}") from exc
        # Drop folders left empty so delimiter listings match S3's.
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break  # not empty (or already gone): nothing more to tidy
            parent = parent.parent


class S3Store:
    """Objects in one bucket of an S3-protocol server, through the minio client."""

    # Fail within seconds when the server is down or hangs: the flush is retried within seconds of its
    # return (a read timeout is per wait for bytes, not for a whole upload).
    CONNECT_TIMEOUT_S = 10
    READ_TIMEOUT_S = 15
    RETRIES = 2

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str,
                 secure: bool = True, region: str | None = None):
        import urllib3
        from minio import Minio

        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=self.CONNECT_TIMEOUT_S, read=self.READ_TIMEOUT_S),
            retries=urllib3.Retry(total=self.RETRIES, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
            maxsize=10,
        )
        self.client = Minio(endpoint, access_key=access_key or None, secret_key=secret_key or None,
                            secure=secure, region=region or None, http_client=http)
        self._http = http
        self.bucket = bucket
        self._bucket_ready = False
        self._lock = threading.Lock()

    def _errors(self):
        from minio.error import MinioException
        from urllib3.exceptions import HTTPError

        return (MinioException, HTTPError, OSError, ValueError)

    def ensure_bucket(self) -> None:
        """Create the bucket if it is missing, once per process."""
        if self._bucket_ready:
            return
        from minio.error import S3Error

        with self._lock:
            if self._bucket_ready:
                return
            try:
                if not self.client.bucket_exists(self.bucket):
                    try:
                        self.client.make_bucket(self.bucket)
                    except S3Error as exc:
                        # Another process created it between our check and our create.
                        if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                            raise
            except self._errors() as exc:
                raise StorageError(f"bucket {self.bucket!r} is not reachable: {exc}") from exc
            self._bucket_ready = True

    def prepare(self) -> None:
        """Ensure the bucket now (a worker calls this at start to fail early), then drop pooled
        connections so that processes forked from this one open their own sockets."""
        self.ensure_bucket()
        self._http.clear()

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        check_key(key)
        self.ensure_bucket()
        try:
            self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type)
        except self._errors() as exc:
            raise StorageError(f"cannot write {key}: {exc}") from exc

    def put_new(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        """A conditional PUT (If-None-Match: *, as S3 and MinIO take it); 412 when the key holds an object."""
        from minio.error import S3Error

        check_key(key)
        self.ensure_bucket()
        try:
            # minio's put_object would send the header as user metadata: its PutObject call itself takes it as is.
            self.client._put_object(self.bucket, key, data, {"Content-Type": content_type, "If-None-Match": "*"})
        except S3Error as exc:
            if exc.code == "PreconditionFailed":
                return False
            raise StorageError(f"cannot write {key}: {exc}") from exc
        except self._errors() as exc:
            raise StorageError(f"cannot write {key}: {exc}") from exc
        return True

    def get(self, key: str) -> bytes:
        from minio.error import S3Error

        check_key(key)
        self.ensure_bucket()
        response = None
        try:
            response = self.client.get_object(self.bucket, key)
            return response.read()
        except S3Error as exc:
            if exc.code == "NoSuchKey":
                raise NotFound(key) from exc
            raise StorageError(f"cannot read {key}: {exc}") from exc
        except self._errors() as exc:
            raise StorageError(f"cannot read {key}: {exc}") from exc
        finally:
            if response is not None:
                response.close()
                response.release_conn()

    def exists(self, key: str) -> bool:
        from minio.error import S3Error

        check_key(key)
        self.ensure_bucket()
        try:
            self.client.stat_object(self.bucket, key)
            return True
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return False
            raise StorageError(f"cannot stat {key}: {exc}") from exc
        except self._errors() as exc:
            raise StorageError(f"cannot stat {key}: {exc}") from exc

    def list(self, prefix: str = "", delimiter: str | None = None) -> Iterator[str]:
        _check_delimiter(delimiter)
        check_prefix(prefix)
        return self._list(prefix, delimiter is None)

    def _list(self, prefix: str, recursive: bool) -> Iterator[str]:
        # A generator: a bucket may hold more keys than fit in memory; errors surface while iterating.
        self.ensure_bucket()
        try:
            for obj in self.client.list_objects(self.bucket, prefix=prefix or None, recursive=recursive):
                yield obj.object_name
        except self._errors() as exc:
            raise StorageError(f"cannot list {prefix!r}: {exc}") from exc

    def delete(self, key: str) -> None:
        check_key(key)
        self.ensure_bucket()
        try:
            self.client.remove_object(self.bucket, key)
        except self._errors() as exc:
            raise StorageError(f"cannot delete {key}: {exc}") from exc


def make_store(settings: Settings) -> ObjectStore:
    """S3 when an endpoint is configured, else a folder under DATA_DIR."""
    if settings.S3_ENDPOINT:
        return S3Store(settings.S3_ENDPOINT, settings.S3_ACCESS_KEY, settings.S3_SECRET_KEY,
                       settings.S3_BUCKET, secure=settings.S3_SECURE, region=settings.S3_REGION)
    return LocalStore(Path(settings.DATA_DIR) / "objects")
