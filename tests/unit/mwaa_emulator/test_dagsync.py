"""The DAG folder mirrors the bucket's, as MWAA's scheduler sync does."""

from __future__ import annotations

import pytest

from mwaa_kit.emulators.mwaa import dagsync
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


def test_the_loop_logs_a_bucket_not_published_yet_once_and_syncs_once_it_is(
        s3, tmp_path, capsys, monkeypatch):
    rounds = []

    def next_round(seconds):
        rounds.append(seconds)
        if len(rounds) == 3:  # published while the loop waits (the stack's first minutes)
            s3.create_bucket(Bucket="late")
            s3.put_object(Bucket="late", Key="dags/a.py", Body=b"a")
        if len(rounds) == 4:
            raise KeyboardInterrupt
    monkeypatch.setattr(dagsync.time, "sleep", next_round)
    with pytest.raises(KeyboardInterrupt):
        dagsync.sync_forever(s3, "late", "dags", tmp_path / "dags", interval=5)
    lines = capsys.readouterr().out.splitlines()
    assert len([line for line in lines if "NoSuchBucket" in line]) == 1
    assert lines[-1].startswith("synced s3://late/dags: {'downloaded': ['a.py']")
    assert (tmp_path / "dags" / "a.py").read_bytes() == b"a"
