import boto3
import pytest
from moto import mock_aws
from salesforce_ingest.s3_upload import AtomicS3Upload

MiB = 1024 * 1024


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="lake")
        yield client


def test_large_output_goes_up_in_parts_and_appears_whole(s3):
    chunk = b"x" * MiB
    with AtomicS3Upload(s3, "lake", "big.bin", part_size=5 * MiB) as upload:
        for _ in range(12):
            upload.write(chunk)
            assert "Contents" not in s3.list_objects_v2(Bucket="lake")
    body = s3.get_object(Bucket="lake", Key="big.bin")["Body"].read()
    assert body == chunk * 12 and upload.bytes_written == 12 * MiB


def test_small_output_is_one_put(s3):
    with AtomicS3Upload(s3, "lake", "small.json") as upload:
        upload.write(b"[]\n")
    assert s3.get_object(Bucket="lake", Key="small.json")["Body"].read() == b"[]\n"


def test_failure_leaves_no_object_and_no_pending_upload(s3):
    with pytest.raises(RuntimeError), AtomicS3Upload(s3, "lake", "k", part_size=5 * MiB) as up:
        up.write(b"y" * (6 * MiB))
        raise RuntimeError("Salesforce went away")
    assert "Contents" not in s3.list_objects_v2(Bucket="lake")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="lake")


def test_a_part_failing_in_the_background_fails_the_upload_and_leaves_nothing(s3):
    class FailingParts:
        def __init__(self, client):
            self.client, self.parts = client, 0

        def __getattr__(self, name):
            return getattr(self.client, name)

        def upload_part(self, **kwargs):
            self.parts += 1
            if self.parts == 2:
                raise ConnectionError("S3 went away")
            return self.client.upload_part(**kwargs)

    with pytest.raises(ConnectionError), \
            AtomicS3Upload(FailingParts(s3), "lake", "k", part_size=5 * MiB) as upload:
        for _ in range(4):
            upload.write(b"z" * (5 * MiB))
    assert "Contents" not in s3.list_objects_v2(Bucket="lake")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="lake")
