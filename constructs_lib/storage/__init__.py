"""The data lake's buckets and their key (``DataLakeStorage``)."""
