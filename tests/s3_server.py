"""S3 on loopback for the tests: moto's ThreadedMotoServer (s3fs cannot use in-process `mock_aws`)."""
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

CREDS = {"key": "testing", "secret": "testing"}


@contextmanager
def moto_endpoint():
    """A running server's endpoint URL; stopped when the block ends."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
