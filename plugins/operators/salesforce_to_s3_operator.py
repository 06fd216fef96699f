"""SalesforceToS3Operator: stream a Salesforce object (or a SOQL query) into one S3 object.

Keeps the parameter contract of the published operator and fixes its defects:

* Names and dates are checked against the object's describe and rendered as SOQL
  literals, never spliced in from free text.
* Records stream page by page into a multipart upload: memory stays flat whatever the
  row count, and the object appears at `s3_key` only once complete.
* An empty result still writes a valid object (CSV header, `[]`, or an empty file).
* `from_date` is inclusive and `to_date` exclusive, so back-to-back batches never
  overlap.
* A stale session logs in again; request limits, 5xx answers and broken connections
  are retried with exponential back-off, resuming from the page that failed.
* Large objects go through a Bulk API 2.0 query job instead (`use_bulk=True`, or
  automatically from `bulk_threshold` records), its CSV pages shaped to the same
  columns and types. The next page (or Bulk chunk) downloads while this one is
  written, and each S3 part uploads while the next fills (bench/bench_operator.py
  measures the result).

Columns are the requested fields in lower case, parents joined by `_`
(`Account.Name` -> `account_name`). `relationship_object="Account"` adds every field of
the parent reached through that relationship the same way (`account_industry`, ...).
The task returns (and pushes to XCom) `{"s3_uri", "record_count", "bytes_written"}`.
"""

from __future__ import annotations

import re

from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.salesforce.hooks.salesforce import SalesforceHook
from salesforce_ingest.bulk import iter_bulk_pages
from salesforce_ingest.describe import Schema
from salesforce_ingest.formats import FORMATS, Encoder
from salesforce_ingest.pages import iter_pages, read_ahead, with_plain_dicts
from salesforce_ingest.records import RowShaper, flatten
from salesforce_ingest.s3_upload import AtomicS3Upload
from salesforce_ingest.soql import UnsafeSoqlError, build_count_query, build_query, check_name
from simple_salesforce.exceptions import SalesforceResourceNotFound

try:  # Airflow 3.x
    from airflow.sdk import BaseOperator
except ImportError:  # Airflow 2.x
    from airflow.models import BaseOperator

_CONTENT_TYPES = {"csv": "text/csv", "json": "application/json",
                  "ndjson": "application/x-ndjson"}
_FROM_CLAUSE = re.compile(r"\bFROM\s+([A-Za-z][A-Za-z0-9_]*)", re.IGNORECASE)


class SalesforceToS3Operator(BaseOperator):
    """Copy Salesforce records to S3 as CSV, a JSON array or NDJSON.

    :param sf_conn_id: Airflow connection of the Salesforce org.
    :param sf_obj: object API name, e.g. ``Opportunity``.
    :param s3_conn_id: Airflow connection for S3.
    :param s3_bucket: destination bucket (templated).
    :param s3_key: destination key (templated).
    :param sf_fields: fields to select, parent paths allowed; default every field.
    :param fmt: ``csv``, ``json`` or ``ndjson``.
    :param from_date: SystemModstamp lower bound, inclusive: a datetime, an ISO string
        or a Salesforce date literal such as ``LAST_N_MONTHS:3`` (templated).
    :param to_date: SystemModstamp upper bound, exclusive (templated).
    :param query: a custom SOQL query; exclusive with from_date/to_date.
    :param relationship_object: a parent relationship whose fields are added.
    :param record_time_added: add ``time_fetched_from_salesforce`` (epoch seconds).
    :param coerce_to_timestamp: date/datetime fields as epoch seconds.
    :param compression: ``"gzip"`` to gzip the object.
    :param batch_size: records per page asked of Salesforce (200 to 2000).
    :param use_bulk: True/False forces Bulk API 2.0 or REST; None (default) counts the
        records first and uses Bulk from `bulk_threshold` records on. Custom `query`
        always uses REST.
    :param bulk_threshold: record count from which `use_bulk=None` picks Bulk API 2.0.
    """

    template_fields = ("sf_obj", "sf_fields", "s3_bucket", "s3_key", "from_date", "to_date",
                       "query")
    ui_color = "#00a1e0"

    def __init__(self, *, sf_conn_id: str, sf_obj: str, s3_conn_id: str, s3_bucket: str,
                 s3_key: str, sf_fields: list[str] | None = None, fmt: str = "csv",
                 from_date=None, to_date=None, query: str | None = None,
                 relationship_object: str | None = None, record_time_added: bool = False,
                 coerce_to_timestamp: bool = False, compression: str | None = None,
                 batch_size: int = 2000, max_request_retries: int = 5,
                 retry_backoff_seconds: float = 1.0, use_bulk: bool | None = None,
                 bulk_threshold: int = 500_000, **kwargs):
        super().__init__(**kwargs)
        if fmt not in FORMATS:
            raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")
        if query and (from_date or to_date):
            raise ValueError("query is exclusive with from_date/to_date: put the bounds in "
                             "the query's WHERE clause, or drop query.")
        if compression not in (None, "gzip"):
            raise ValueError("compression must be None or 'gzip'")
        if not 200 <= batch_size <= 2000:
            raise ValueError("batch_size must be between 200 and 2000 (Salesforce's range)")
        self.sf_conn_id = sf_conn_id
        self.sf_obj = sf_obj
        self.s3_conn_id = s3_conn_id
        self.s3_bucket = s3_bucket
        self.s3_key = s3_key
        self.sf_fields = sf_fields
        self.fmt = fmt
        self.from_date = from_date
        self.to_date = to_date
        self.query = query
        self.relationship_object = relationship_object
        self.record_time_added = record_time_added
        self.coerce_to_timestamp = coerce_to_timestamp
        self.compression = compression
        self.batch_size = batch_size
        self.max_request_retries = max_request_retries
        self.retry_backoff_seconds = retry_backoff_seconds
        self.use_bulk = use_bulk
        self.bulk_threshold = bulk_threshold

    def _connect(self):
        return with_plain_dicts(SalesforceHook(salesforce_conn_id=self.sf_conn_id).get_conn())

    def execute(self, context) -> dict:
        client = self._connect()
        schema = Schema(lambda name: _describe(client, name))
        soql, shaper = self._plan(schema)
        self.log.info("SOQL: %s", soql)
        encoder = Encoder(self.fmt, shaper.columns if shaper else None,
                          compress=self.compression == "gzip")
        s3 = S3Hook(aws_conn_id=self.s3_conn_id).get_conn()
        content_type = _CONTENT_TYPES[self.fmt]
        bulk = shaper is not None and self._bulk(client, schema)
        with AtomicS3Upload(s3, self.s3_bucket, self.s3_key, content_type=content_type) as out:
            out.write(encoder.start())
            if bulk:
                self.log.info("Extracting with a Bulk API 2.0 query job")
                pages = iter_bulk_pages(client, schema.object_name(self.sf_obj), soql)
            else:  # the next page is fetched while this one is written
                pages = read_ahead(iter_pages(self._connect, soql, self.batch_size,
                                              max_retries=self.max_request_retries,
                                              backoff_seconds=self.retry_backoff_seconds))
            for page in pages:
                if shaper is None:
                    out.write(encoder.page([flatten(record) for record in page]))
                elif bulk:
                    out.write(encoder.page_of_columns(shaper.values_from_csv(*page)))
                else:
                    out.write(encoder.page_of_columns(shaper.values(page)))
            out.write(encoder.finish())
        result = {"s3_uri": f"s3://{self.s3_bucket}/{self.s3_key}",
                  "record_count": encoder.rows, "bytes_written": out.bytes_written}
        self.log.info("Wrote %(record_count)d records (%(bytes_written)d bytes) to %(s3_uri)s",
                      result)
        return result

    def _bulk(self, client, schema: Schema) -> bool:
        if self.use_bulk is not None:
            return self.use_bulk
        count_soql = build_count_query(schema.object_name(self.sf_obj), self.from_date,
                                       self.to_date)
        return client.query(count_soql)["totalSize"] >= self.bulk_threshold

    def _plan(self, schema: Schema) -> tuple[str, RowShaper | None]:
        """The SOQL to run and how to shape its rows, every name checked by describe."""
        sobject = schema.object_name(self.sf_obj)
        if self.query:
            named = _FROM_CLAUSE.search(self.query)
            if not named or named.group(1).lower() != sobject.lower():
                raise ValueError(f"query must select FROM {sobject} (sf_obj).")
            return self.query, None
        if self.sf_fields:
            fields = [schema.resolve(sobject, path) for path in self.sf_fields]
        else:
            fields = schema.all_fields(sobject)
        if self.relationship_object:
            check_name("relationship_object", self.relationship_object)
            fields += schema.relationship_fields(sobject, self.relationship_object)
        query = build_query(sobject, [f.path for f in fields], self.from_date, self.to_date)
        return query, RowShaper(fields, self.coerce_to_timestamp, self.record_time_added)


def _describe(client, sobject: str) -> dict:
    """The object's describe; an object the org lacks is a clear error, not a 404 dump."""
    try:
        return client.restful(f"sobjects/{sobject}/describe")
    except SalesforceResourceNotFound:
        raise UnsafeSoqlError(f"sObject type '{sobject}' is not supported by this org "
                              "(describe returned NOT_FOUND); check sf_obj.") from None
