"""One guest connection, relayed to a server on the host's loopback.

QEMU's user network runs this for every TCP connection the guest opens to a
`guestfwd=tcp:ADDR:PORT-cmd:...` address, with the connection on stdin and
stdout (stderr too: nothing may be printed). It connects to 127.0.0.1:<port>
and copies bytes both ways until either side closes. The guest reaches only
what a test serves on loopback, nothing else.

Usage: python3 guestfwd_relay.py PORT
"""

from __future__ import annotations

import os
import selectors
import socket
import sys


def relay(port: int) -> None:
    upstream = socket.create_connection(("127.0.0.1", port), timeout=30)
    upstream.settimeout(None)
    guest_in, guest_out = sys.stdin.fileno(), sys.stdout.fileno()
    sel = selectors.DefaultSelector()
    sel.register(guest_in, selectors.EVENT_READ, "guest")
    sel.register(upstream, selectors.EVENT_READ, "upstream")
    open_sides = 2
    while open_sides:
        for key, _ in sel.select():
            if key.data == "guest":
                data = os.read(guest_in, 65536)
                if data:
                    upstream.sendall(data)
                else:
                    sel.unregister(guest_in)
                    upstream.shutdown(socket.SHUT_WR)
                    open_sides -= 1
            else:
                data = upstream.recv(65536)
                if data:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(guest_out, view):]
                else:
                    sel.unregister(upstream)
                    open_sides -= 1
                    # The server is done: the guest's side ends too.
                    return


if __name__ == "__main__":
    try:
        relay(int(sys.argv[1]))
    except OSError:
        sys.exit(1)
