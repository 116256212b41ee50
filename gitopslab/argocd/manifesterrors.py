"""Manifest generation errors, carried the way the repo server's gRPC answer words them."""
from __future__ import annotations


class ManifestError(Exception):
    """A failure of the repo server: ``rpc error: code = <code> desc = <message>``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def rpc_text(self) -> str:
        return f"rpc error: code = {self.code} desc = {self.message}"

    def __str__(self) -> str:
        return self.rpc_text()


def unknown(message: str) -> ManifestError:
    return ManifestError("Unknown", message)
