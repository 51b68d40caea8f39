"""Protocol errors; the websocket adapter turns them into close code 1002."""


class ProtocolError(ValueError):
    """A frame that does not follow the y-websocket protocol."""
