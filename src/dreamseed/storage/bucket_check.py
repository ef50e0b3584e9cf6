"""Check the report bucket up front, so a missing bucket or refused credentials is one clear line.

Without it, generate-weekly-report would try (and retry) every upload before failing each student.
Call `bucket_problem` once before rendering; a non-None result is the message to exit with.
"""

from __future__ import annotations

from typing import Any

NOT_FOUND = {"404", "NoSuchBucket", "NotFound"}
REFUSED = {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden"}


def bucket_problem(
    bucket: str, region: str, endpoint_url: str | None = None, timeout: float = 5.0
) -> str | None:
    """None when `bucket` exists and these credentials may use it; else one line saying what to fix."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    where = f" at {endpoint_url}" if endpoint_url else ""
    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1})
    try:
        client: Any = boto3.session.Session().client(
            "s3", region_name=region, endpoint_url=endpoint_url, config=config
        )
        client.head_bucket(Bucket=bucket)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in NOT_FOUND:
            return f"S3 bucket {bucket!r} does not exist{where}; create it or fix S3_BUCKET"
        if code in REFUSED:
            return (
                f"S3 refused access to bucket {bucket!r}{where} ({code}); check AWS_ACCESS_KEY_ID / "
                "AWS_SECRET_ACCESS_KEY and the bucket policy"
            )
        return f"S3 bucket {bucket!r}{where} cannot be used ({code or error}); check S3_BUCKET and the credentials"
    except BotoCoreError as error:
        return f"cannot reach S3{where} for bucket {bucket!r}: {error}; check S3_ENDPOINT_URL and AWS_REGION"
    return None
