def test_redis_and_s3_fixtures(redis, s3_settings):
    from minio import Minio
    redis.set("x", "1")
    assert redis.get("x") == b"1"
    c = Minio(s3_settings["S3_ENDPOINT"], access_key="testing", secret_key="testing", secure=False, region="us-east-1")
    c.make_bucket(s3_settings["S3_BUCKET"])
    assert c.bucket_exists(s3_settings["S3_BUCKET"])
