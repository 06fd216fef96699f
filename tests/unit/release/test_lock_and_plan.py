"""The promotion lock (an S3 conditional write) and the plan's comparisons."""

from __future__ import annotations

import pytest

from mwaa_kit.release import lock as locking
from mwaa_kit.release.plan import local_dags, md5


def test_the_lock_is_exclusive_and_reusable_after_release(s3, bucket):
    first = locking.acquire(s3, bucket, "alice", "promote")
    with pytest.raises(locking.LockHeldError, match="alice"):
        locking.acquire(s3, bucket, "bob", "promote")
    locking.release(s3, first)
    assert locking.current_holder(s3, bucket) is None
    second = locking.acquire(s3, bucket, "bob", "rollback")  # over the delete marker
    assert locking.current_holder(s3, bucket)["user"] == "bob"
    locking.release(s3, first)  # a stale holder does not remove someone else's lock
    assert locking.current_holder(s3, bucket)["user"] == "bob"
    locking.release(s3, second)
    assert locking.current_holder(s3, bucket) is None


def test_local_dags_leave_caches_out(tmp_path):
    (tmp_path / "sub" / "__pycache__").mkdir(parents=True)
    (tmp_path / "a.py").write_text("a")
    (tmp_path / "sub" / "b.py").write_text("b")
    (tmp_path / "sub" / "__pycache__" / "b.cpython-311.pyc").write_bytes(b"x")
    (tmp_path / ".airflowignore").write_text("sub/skip\n")
    assert sorted(local_dags(tmp_path)) == [".airflowignore", "a.py", "sub/b.py"]
    assert md5(tmp_path / "a.py") == "0cc175b9c0f1b6a831c399e269772661"


def test_md5_matches_the_etag_s3_returns(s3, bucket, tmp_path):
    path = tmp_path / "x.py"
    path.write_bytes(b"print('x')\n" * 1000)
    etag = s3.put_object(Bucket=bucket, Key="dags/x.py", Body=path.read_bytes())["ETag"]
    assert etag.strip('"') == md5(path)
