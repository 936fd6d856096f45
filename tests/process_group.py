"""Stopping a server the tests started in its own session (`start_new_session=True`): the whole process group gets
SIGTERM, then SIGKILL if it has not exited in time, so no daemon or webserver child outlives a test."""
import os
import signal
import subprocess


def stop_group(proc: subprocess.Popen, timeout: float = 30) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
