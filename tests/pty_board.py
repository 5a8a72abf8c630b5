"""A board on the far end of a pty, synchronised with the reader by a handshake, not by sleeps.

The board speaks only once the reader has the port open (pyserial empties the input buffer
when it opens a port, so anything sent earlier would be lost): the reader's open is the
handshake. `play()` is called right after that open, from the reader's side, and writes every
chunk into the pty before returning, so the reader then finds the whole transcript waiting and
the outcome does not depend on how busy the machine is. The transcript stays far below the
pty's buffer, so the writes never block.
"""
from __future__ import annotations

import os

PTY_BUFFER_BYTES = 4096


class PtyBoard:
    def __init__(self, chunks: list[bytes] | bytes):
        self.chunks = [chunks] if isinstance(chunks, bytes) else list(chunks)
        if sum(map(len, self.chunks)) >= PTY_BUFFER_BYTES:
            raise ValueError("the transcript must fit in the pty's buffer")
        self.master, slave = os.openpty()
        self.port = os.ttyname(slave)
        os.close(slave)
        self.played = False

    def play(self) -> None:
        """The reader has opened the port: send the whole transcript."""
        for chunk in self.chunks:
            os.write(self.master, chunk)
        self.played = True

    def close(self) -> None:
        os.close(self.master)
