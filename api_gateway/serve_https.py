"""Serve the gateway over HTTPS: `python -m api_gateway.serve_https [uvicorn options]`.

uvicorn binds one socket per server, with or without TLS, so HTTPS is a second uvicorn process of the
same app beside the plain HTTP one (a line of its own in the Procfile, a second container or sidecar
in a deployment). Two processes rather than two servers in one: each is plain `uvicorn`, stopped by
its own signals (honcho's Ctrl-C reaches both, and each drains its connections as usual), and a
crash or restart of one leaves the other serving; the gateway keeps no state they would need to share.

This reads GATEWAY_HTTPS_PORT, GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE from the gateway's
settings and replaces itself with `uvicorn api_gateway.main:app --port <port> --ssl-certfile ...
--ssl-keyfile ... <options>` (options given here come last, so an explicit `--port` wins). With
neither file set it serves nothing and waits for a signal, so a Procfile holding this line still runs
everything else; a file set but unreadable is an error.
"""

import os
import signal
import sys

from api_gateway.config import Settings


def uvicorn_command(settings: Settings, options: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "api_gateway.main:app",
        "--port",
        str(settings.gateway_https_port),
        "--ssl-certfile",
        str(settings.gateway_tls_cert_file),
        "--ssl-keyfile",
        str(settings.gateway_tls_key_file),
        *options,
    ]


def wait_for_a_signal() -> int:
    stopped = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.append(True))
    while not stopped:
        signal.pause()
    return 0


def main(options: list[str]) -> int:
    settings = Settings()
    if not settings.tls_configured:
        print(
            "api_gateway HTTPS: off (set GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE to serve it)",
            file=sys.stderr,
            flush=True,
        )
        return wait_for_a_signal()
    unreadable = [
        str(path)
        for path in (settings.gateway_tls_cert_file, settings.gateway_tls_key_file)
        if path is None or not (path.is_file() and os.access(path, os.R_OK))
    ]
    if unreadable:
        print(f"api_gateway HTTPS: cannot read {', '.join(unreadable)}", file=sys.stderr, flush=True)
        return 1
    command = uvicorn_command(settings, options)
    os.execv(command[0], command)
    return 1  # not reached: execv replaces this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
