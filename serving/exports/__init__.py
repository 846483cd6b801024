"""Tenant exports: each tenant's marts and ML tables as CSV and Parquet under its own S3 prefix,
with a manifest written last (docs/user/exports.md)."""

from serving.exports.export import ExportError, export_tenant, validate_export_id
from serving.exports.files import FORMATS, ExportFormatError
from serving.exports.isolation import TenantIsolationError, verify_tenant_rows
from serving.exports.manifest import ExportManifest
from serving.exports.readers import ExportReadError, open_tenant_reader
from serving.exports.tables import TableSelection, exportable_tables
from serving.exports.targets import ExportTarget, ExportTargetError, check_disjoint
from serving.exports.upload import ExportUploadError

__all__ = [
    "FORMATS",
    "ExportError",
    "ExportFormatError",
    "ExportManifest",
    "ExportReadError",
    "ExportTarget",
    "ExportTargetError",
    "ExportUploadError",
    "TableSelection",
    "TenantIsolationError",
    "check_disjoint",
    "exportable_tables",
    "export_tenant",
    "open_tenant_reader",
    "validate_export_id",
    "verify_tenant_rows",
]
