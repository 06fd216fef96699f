"""An S3 object written as a stream that appears only once complete.

Parts go up by multipart upload as the buffer fills, so memory holds one part at most.
The object becomes visible only when the upload completes; on any error the multipart
upload is aborted, leaving nothing at the key (and no orphaned parts to pay for).
Output smaller than one part is sent with a single PutObject, which is atomic too.
"""

from __future__ import annotations

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

    def __enter__(self):
        return self

    def write(self, data: bytes) -> None:
        self._buffer += data
        self.bytes_written += len(data)
        if len(self._buffer) >= self.part_size:
            self._send_part()

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is not None:
            self.abort()
            return False
        try:
            self._complete()
        except BaseException:
            self.abort()
            raise
        return False

    def abort(self) -> None:
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
        number = len(self._parts) + 1
        response = self.client.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id,
            PartNumber=number, Body=bytes(self._buffer),
        )
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})
        self._buffer.clear()

    def _complete(self) -> None:
        if self._upload_id is None:
            self.client.put_object(Bucket=self.bucket, Key=self.key,
                                   Body=bytes(self._buffer), ContentType=self.content_type)
            return
        if self._buffer:
            self._send_part()
        self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        self._upload_id = None
