"""Export targets: bucket names, prefix normalisation, and tenants kept in disjoint folders."""

from __future__ import annotations

import pytest

from serving.exports.targets import (
    MAX_PREFIX_LENGTH,
    ExportTarget,
    ExportTargetError,
    check_disjoint,
    normalise_prefix,
)


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("acme", "acme/"),
        ("acme/", "acme/"),
        ("/acme", "acme/"),
        ("/tenants/acme/", "tenants/acme/"),
        ("tenant=acme/exports-v1", "tenant=acme/exports-v1/"),
        ("", ""),
        ("/", ""),
    ],
)
def test_prefixes_are_normalised(given: str, normalised: str):
    assert normalise_prefix(given) == normalised
    assert ExportTarget("earshot-exports", given).prefix == normalised


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("tenants//acme", "empty segment"),
        ("tenants/../beta", "'..' segment"),
        ("..", "'..' segment"),
        ("tenants/./acme", "'.' segment"),
        ("tenants/ac me", "may hold only"),
        ("tenants\\acme", "may hold only"),
        ("tenants/acme?x=1", "may hold only"),
        ("a" * (MAX_PREFIX_LENGTH + 1), "at most"),
    ],
)
def test_unsafe_prefixes_are_refused(given: str, message: str):
    with pytest.raises(ExportTargetError, match=message):
        ExportTarget("earshot-exports", given)


@pytest.mark.parametrize(
    "bucket", ["abc", "earshot-exports", "earshot.exports.eu", "a" * 63, "1bucket9"]
)
def test_valid_bucket_names(bucket: str):
    assert ExportTarget(bucket, "acme").bucket == bucket


@pytest.mark.parametrize(
    ("bucket", "message"),
    [
        ("ab", "not a valid S3 bucket name"),
        ("a" * 64, "not a valid S3 bucket name"),
        ("Earshot-Exports", "not a valid S3 bucket name"),
        ("earshot_exports", "not a valid S3 bucket name"),
        ("-earshot", "not a valid S3 bucket name"),
        ("earshot-", "not a valid S3 bucket name"),
        ("earshot..exports", "two adjacent periods"),
        ("192.168.5.4", "IP address"),
        ("xn--earshot", "reserved 'xn--'"),
        ("sthree-earshot", "reserved 'sthree-'"),
        ("earshot-s3alias", "reserved '-s3alias'"),
        ("earshot--ol-s3", "reserved '--ol-s3'"),
        ("earshot.mrap", "reserved '.mrap'"),
    ],
)
def test_invalid_bucket_names(bucket: str, message: str):
    with pytest.raises(ExportTargetError, match=message):
        ExportTarget(bucket, "acme")


def test_keys_are_built_under_the_prefix():
    target = ExportTarget("earshot-exports", "/tenants/acme")
    assert target.exports_prefix == "tenants/acme/exports/"
    assert target.export_folder("2024-05-01") == "tenants/acme/exports/2024-05-01/"
    assert target.latest_key == "tenants/acme/exports/latest.json"
    assert target.uri() == "s3://earshot-exports/tenants/acme/"
    whole_bucket = ExportTarget("acme-exports")
    assert whole_bucket.latest_key == "exports/latest.json"


def test_equal_prefixes_in_one_bucket_are_refused_naming_both_tenants():
    targets = {
        "acme": ExportTarget("earshot-exports", "shared"),
        "beta": ExportTarget("earshot-exports", "/shared/"),
    }
    with pytest.raises(ExportTargetError) as caught:
        check_disjoint(targets)
    message = str(caught.value)
    assert "'acme'" in message and "'beta'" in message and "the same prefix" in message


def test_a_prefix_inside_another_tenants_is_refused():
    targets = {
        "zeta": ExportTarget("earshot-exports", "tenants"),
        "acme": ExportTarget("earshot-exports", "tenants/acme"),
    }
    with pytest.raises(ExportTargetError, match="acme's prefix inside zeta's") as caught:
        check_disjoint(targets)
    assert "'zeta'" in str(caught.value) and "'acme'" in str(caught.value)


def test_a_whole_bucket_target_contains_every_prefix_in_that_bucket():
    targets = {
        "acme": ExportTarget("earshot-exports", ""),
        "beta": ExportTarget("earshot-exports", "beta"),
    }
    with pytest.raises(ExportTargetError, match="beta's prefix inside acme's"):
        check_disjoint(targets)


def test_sibling_prefixes_and_other_buckets_are_fine():
    check_disjoint(
        {
            # 'acme/' is not a prefix of 'acme2/': the trailing slash keeps them apart.
            "acme": ExportTarget("earshot-exports", "acme"),
            "acme2": ExportTarget("earshot-exports", "acme2"),
            "beta": ExportTarget("earshot-exports", "tenants/beta"),
            "gamma": ExportTarget("earshot-exports", "tenants/gamma"),
            # The same prefix in another bucket is another place.
            "delta": ExportTarget("delta-exports", "acme"),
            "omega": ExportTarget("omega-exports", ""),
        }
    )
    check_disjoint({})
    check_disjoint({"only": ExportTarget("earshot-exports", "")})
