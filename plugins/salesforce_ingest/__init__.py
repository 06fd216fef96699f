"""Building blocks of SalesforceToS3Operator: safe SOQL, record shaping, streaming
formats, resumable paging and atomic S3 uploads. Shipped in plugins.zip beside it."""
