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
