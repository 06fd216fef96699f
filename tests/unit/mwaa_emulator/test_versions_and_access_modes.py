"""The emulator accepts exactly the catalog's Airflow versions, and WebserverAccessMode
PUBLIC_AND_PRIVATE only on Airflow 3.2 or newer, as MWAA does; through boto3's `mwaa`."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.exceptions import ClientError

from mwaa_kit import catalog
from tests.unit.mwaa_emulator.conftest import NETWORK, ROLE, settled
from tests.unit.mwaa_emulator.test_api import _code


def _create(mwaa, bucket, version, name="Env1", **extra):
    return mwaa.create_environment(
        Name=name, ExecutionRoleArn=ROLE, SourceBucketArn=f"arn:aws:s3:::{bucket}",
        DagS3Path="dags", NetworkConfiguration=NETWORK, AirflowVersion=version, **extra)


def _is_32_or_newer(version: str) -> bool:
    return tuple(int(part) for part in version.split(".")[:2]) >= (3, 2)


def test_every_catalog_version_is_accepted(mwaa, bucket):
    for number, version in enumerate(catalog.supported_versions()):
        _create(mwaa, bucket, version, name=f"Env{number}")
        assert mwaa.get_environment(Name=f"Env{number}")["Environment"]["AirflowVersion"] \
            == version
    assert len(mwaa.list_environments()["Environments"]) == len(catalog.supported_versions())


@pytest.mark.parametrize("version", ["3.1.0", "3.2.0", "2.9.2", "2.11", "3.3.2", "latest"])
def test_a_version_outside_the_catalog_is_refused(mwaa, bucket, version):
    with pytest.raises(ClientError) as error:
        _create(mwaa, bucket, version)
    assert _code(error) == "ValidationException"
    assert f"Airflow version {version} is not supported" in str(error.value)
    assert ", ".join(catalog.supported_versions()) in str(error.value)
    assert mwaa.list_environments()["Environments"] == []


def test_update_to_a_version_outside_the_catalog_is_refused(mwaa, bucket):
    _create(mwaa, bucket, catalog.DEFAULT_VERSION)
    settled(mwaa, "Env1")
    with pytest.raises(ClientError) as error:
        mwaa.update_environment(Name="Env1", AirflowVersion="3.1.0")
    assert _code(error) == "ValidationException"
    assert mwaa.get_environment(Name="Env1")["Environment"]["Status"] == "AVAILABLE"


def test_the_catalogs_access_modes_are_botocores():
    model = botocore.session.get_session().get_service_model("mwaa")
    enum = model.shape_for("WebserverAccessMode").enum
    assert sorted(catalog.mwaa().webserver_access_modes) == sorted(enum)
    assert catalog.mwaa().webserver_access_modes["PUBLIC_AND_PRIVATE"] == "3.2"


@pytest.mark.parametrize("version", catalog.supported_versions())
def test_public_and_private_only_from_airflow_3_2_on_create(mwaa, bucket, version):
    if _is_32_or_newer(version):
        _create(mwaa, bucket, version, WebserverAccessMode="PUBLIC_AND_PRIVATE")
        environment = settled(mwaa, "Env1")
        assert environment["Status"] == "AVAILABLE"
        assert environment["WebserverAccessMode"] == "PUBLIC_AND_PRIVATE"
        return
    with pytest.raises(ClientError) as error:
        _create(mwaa, bucket, version, WebserverAccessMode="PUBLIC_AND_PRIVATE")
    assert _code(error) == "ValidationException"
    message = error.value.response["Error"]["Message"]
    assert "PUBLIC_AND_PRIVATE is only available for Apache Airflow version 3.2 and later" \
        in message
    assert version in message
    assert mwaa.list_environments()["Environments"] == []


@pytest.mark.parametrize("version", catalog.supported_versions())
def test_the_other_modes_work_on_every_version(mwaa, bucket, version):
    _create(mwaa, bucket, version, name="Public", WebserverAccessMode="PUBLIC_ONLY")
    _create(mwaa, bucket, version, name="Private")
    assert settled(mwaa, "Public")["WebserverAccessMode"] == "PUBLIC_ONLY"
    assert settled(mwaa, "Private")["WebserverAccessMode"] == "PRIVATE_ONLY"


def test_an_unknown_mode_is_refused_with_the_enum(mwaa, bucket):
    with pytest.raises(ClientError) as error:
        _create(mwaa, bucket, catalog.DEFAULT_VERSION, WebserverAccessMode="PUBLIC")
    assert _code(error) == "ValidationException"
    assert "enum value set: [PRIVATE_ONLY, PUBLIC_ONLY, PUBLIC_AND_PRIVATE]" in str(error.value)


def test_update_to_public_and_private_needs_airflow_3_2(mwaa, bucket):
    _create(mwaa, bucket, "3.0.6")
    settled(mwaa, "Env1")
    with pytest.raises(ClientError) as error:
        mwaa.update_environment(Name="Env1", WebserverAccessMode="PUBLIC_AND_PRIVATE")
    assert _code(error) == "ValidationException"
    assert "the environment would run Airflow 3.0.6" in str(error.value)
    assert mwaa.get_environment(Name="Env1")["Environment"]["Status"] == "AVAILABLE"
    # the same update together with the move to 3.2 or newer is fine
    mwaa.update_environment(Name="Env1", WebserverAccessMode="PUBLIC_AND_PRIVATE",
                            AirflowVersion="3.2.1")
    done = settled(mwaa, "Env1")
    assert (done["Status"], done["AirflowVersion"], done["WebserverAccessMode"]) == (
        "AVAILABLE", "3.2.1", "PUBLIC_AND_PRIVATE")


def test_a_version_change_below_3_2_keeps_no_public_and_private(mwaa, bucket):
    _create(mwaa, bucket, "3.3.1", WebserverAccessMode="PUBLIC_AND_PRIVATE")
    settled(mwaa, "Env1")
    with pytest.raises(ClientError) as error:
        mwaa.update_environment(Name="Env1", AirflowVersion="3.0.6")
    assert _code(error) == "ValidationException"
    message = error.value.response["Error"]["Message"]
    assert "PUBLIC_AND_PRIVATE" in message and "3.0.6" in message
    assert mwaa.get_environment(Name="Env1")["Environment"]["AirflowVersion"] == "3.3.1"
    # moving down while leaving PUBLIC_AND_PRIVATE is allowed
    mwaa.update_environment(Name="Env1", AirflowVersion="3.0.6",
                            WebserverAccessMode="PRIVATE_ONLY")
    done = settled(mwaa, "Env1")
    assert (done["AirflowVersion"], done["WebserverAccessMode"]) == ("3.0.6", "PRIVATE_ONLY")
    # and a version change that stays on 3.2 or newer keeps the mode
    mwaa.update_environment(Name="Env1", AirflowVersion="3.3.1",
                            WebserverAccessMode="PUBLIC_AND_PRIVATE")
    settled(mwaa, "Env1")
    mwaa.update_environment(Name="Env1", AirflowVersion="3.2.1")
    done = settled(mwaa, "Env1")
    assert (done["AirflowVersion"], done["WebserverAccessMode"]) == ("3.2.1",
                                                                     "PUBLIC_AND_PRIVATE")
