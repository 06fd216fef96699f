"""An S3 object written as a stream that appears only once complete.

Parts go up by multipart upload as the buffer fills, each in a background thread while
the next one fills, so memory holds two parts at most. The object becomes visible only
when the upload completes; on any error the multipart upload is aborted, leaving nothing
at the key (and no orphaned parts to pay for). Output smaller than one part is sent with
a single PutObject, which is atomic too.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

PART_SIZE = 8 * 1024 * 1024  # S3 needs at least 5 MiB for every part but the last


class AtomicS3Upload:
    def __init__(self, client, bucket: str, key: str, part_size: int = PART_SIZE,
                 content_type: str = "application/octet-stream"):
        self.client = client
        self.bucket = bucket
        self.key = key
        self.part_size = part_size
        self.content_type = content_type
        self.bytes_written = 0
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict] = []
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3-part")
        self._in_flight: Future | None = None

    def __enter__(self):
        return self

    def write(self, data: bytes) -> None:
        self._buffer += data
        self.bytes_written += len(data)
        if len(self._buffer) >= self.part_size:
            self._send_part()

    def __exit__(self, exc_type, exc, traceback):
        try:
            if exc_type is not None:
                self.abort()
                return False
            try:
                self._complete()
            except BaseException:
                self.abort()
                raise
            return False
        finally:
            self._sender.shutdown(wait=True)

    def abort(self) -> None:
        if self._in_flight is not None:
            self._in_flight.exception()  # wait for it; its error, if any, is moot now
            self._in_flight = None
        if self._upload_id:
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self._upload_id
            )
            self._upload_id = None

    def _send_part(self) -> None:
        if self._upload_id is None:
            self._upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type
            )["UploadId"]
        self._wait_for_part()
        number = len(self._parts) + 1
        # The buffer itself goes (botocore takes a bytearray as a blob, no copy); the next
        # part fills a new one.
        body, self._buffer = self._buffer, bytearray()
        self._in_flight = self._sender.submit(
            self.client.upload_part, Bucket=self.bucket, Key=self.key,
            UploadId=self._upload_id, PartNumber=number, Body=body,
        )
        self._parts.append({"PartNumber": number})

    def _wait_for_part(self) -> None:
        """Wait for the part in flight (raising its error) and record its ETag."""
        if self._in_flight is not None:
            future, self._in_flight = self._in_flight, None
            self._parts[-1]["ETag"] = future.result()["ETag"]

    def _complete(self) -> None:
        if self._upload_id is None:
            self.client.put_object(Bucket=self.bucket, Key=self.key,
                                   Body=bytes(self._buffer), ContentType=self.content_type)
            return
        if self._buffer:
            self._send_part()
        self._wait_for_part()
        self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        self._upload_id = None
