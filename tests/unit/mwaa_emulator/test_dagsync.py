"""The DAG folder mirrors the bucket's, as MWAA's scheduler sync does."""

from __future__ import annotations

from mwaa_kit.emulators.mwaa.dagsync import sync_once


def test_sync_downloads_changes_and_removes_deletions(s3, bucket, tmp_path):
    target = tmp_path / "dags"
    s3.put_object(Bucket=bucket, Key="dags/a.py", Body=b"a1")
    s3.put_object(Bucket=bucket, Key="dags/sub/b.py", Body=b"b1")
    s3.put_object(Bucket=bucket, Key="other/c.py", Body=b"c")
    assert sync_once(s3, bucket, "dags", target) == {"downloaded": ["a.py", "sub/b.py"],
                                                     "removed": []}
    assert (target / "sub" / "b.py").read_bytes() == b"b1"
    assert sync_once(s3, bucket, "dags", target) == {"downloaded": [], "removed": []}
    s3.put_object(Bucket=bucket, Key="dags/a.py", Body=b"a2")
    s3.delete_object(Bucket=bucket, Key="dags/sub/b.py")
    (target / "local_only.py").write_text("kept")  # not the sync's to remove
    assert sync_once(s3, bucket, "dags/", target) == {"downloaded": ["a.py"],
                                                      "removed": ["sub/b.py"]}
    assert (target / "a.py").read_bytes() == b"a2"
    assert not (target / "sub" / "b.py").exists()
    assert (target / "local_only.py").exists()
