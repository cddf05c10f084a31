"""gunicorn's settings for lotrack, read from the working directory by `gunicorn wsgi:app`."""

# The longest request line gunicorn reads (its maximum; the default is 4094 bytes). Every request
# the OpenAPI document allows fits: its longest, a results import whose query holds 454
# characters, is about 5,600 bytes when each is a four-byte character percent-encoded
# (tests/api/test_schemathesis_live.py checks this). Longer lines are answered 414.
limit_request_line = 8190
