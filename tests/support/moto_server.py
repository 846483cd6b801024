"""The moto server the tests use; it lives in the sandbox now (serving/sandbox/s3.py), which
``make demo`` shares. Kept so existing imports go on working."""

from serving.sandbox.s3 import moto_server, reset

__all__ = ["moto_server", "reset"]
