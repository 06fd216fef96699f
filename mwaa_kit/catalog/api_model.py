"""What the MWAA API accepts, read from botocore's `mwaa` service model: the one source of
its value rules (an environment's name...) for the kit's project settings and its MWAA
emulator alike, kept in step with AWS by botocore's releases rather than by hand."""

from __future__ import annotations

import functools
import re

import botocore.session


@functools.cache
def _shape_rules(shape: str) -> tuple[re.Pattern, int, int | None]:
    metadata = (botocore.session.get_session().get_service_model("mwaa")
                .shape_for(shape).metadata)
    return re.compile(metadata["pattern"]), metadata.get("min", 0), metadata.get("max")


def accepts(shape: str, value: str) -> bool:
    """Whether the MWAA API accepts `value` for a string shape of its model (its whole
    pattern and its length bounds), e.g. accepts("EnvironmentName", "MwaaEnvironment")."""
    pattern, shortest, longest = _shape_rules(shape)
    return (bool(pattern.fullmatch(value)) and len(value) >= shortest
            and (longest is None or len(value) <= longest))


def source_bucket(environment: dict) -> str:
    """The source bucket's name, from an environment as GetEnvironment returns it (its
    SourceBucketArn, arn:aws:s3:::NAME)."""
    return environment["SourceBucketArn"].split(":::", 1)[1]
