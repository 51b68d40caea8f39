"""Protocol errors; the websocket adapter turns them into close code 1002."""


class ProtocolError(ValueError):
    """A frame that does not follow the y-websocket protocol."""


def is_crdt_failure(exc: BaseException) -> bool:
    """Whether an exception out of pycrdt means its input was bad: a Python exception,
    or a Rust panic, which pyo3 raises as a PanicException deriving from BaseException
    (so `except Exception` alone would let it end the connection's task uncaught)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"
