"""Print the Procfile `make dev` runs: the committed one, or with every service run as N replicas.

Replica k (from 0) of each service listens on its usual port + 10 k (the gateway on 8000, 8010,
...), and every gateway spreads requests over all replicas of each service. The HTTPS gateway
(`gateway-https`, whose port is the GATEWAY_HTTPS_PORT setting) is replicated alike: GATEWAY_HTTPS_PORT
+ 10 k. Usage: `python scripts/dev_procfile.py N`.
"""

import functools
import re
import sys
from pathlib import Path

PROCFILE = Path(__file__).resolve().parent.parent / "Procfile"
PORT_STEP = 10
# Processes that run the gateway: each is told where every replica of every service is.
GATEWAYS = ("gateway", "gateway-https")
# Procfile process name -> the gateway setting that lists its replicas.
UPSTREAM_SETTINGS = {"auth": "AUTH_SERVICE_URL", "task": "TASK_SERVICE_URL", "notification": "NOTIFICATION_SERVICE_URL"}


@functools.cache
def https_port() -> int:
    """GATEWAY_HTTPS_PORT as the gateway reads it (environment, then `.env`)."""
    sys.path.insert(0, str(PROCFILE.parent))
    from api_gateway.config import Settings

    return Settings().gateway_https_port


def replicated(procfile: str, replicas: int) -> str:
    processes = dict(line.split(": ", 1) for line in procfile.splitlines() if line.strip())
    ports = {name: port_of(command) for name, command in processes.items()}
    upstream_ports = {name: port for name, port in ports.items() if port is not None}
    upstreams = " ".join(
        f"{setting}=" + ",".join(f"http://127.0.0.1:{upstream_ports[name] + PORT_STEP * k}" for k in range(replicas))
        for name, setting in UPSTREAM_SETTINGS.items()
    )
    lines = []
    for name, command in processes.items():
        port = ports[name]
        for k in range(replicas):
            if port is not None:
                line = command.replace(f"--port {port}", f"--port {port + PORT_STEP * k}")
            else:  # the port is a setting: replica 0 keeps it, the others are told theirs
                line = command if k == 0 else f"{command} --port {https_port() + PORT_STEP * k}"
            if name in GATEWAYS:
                line = f"env {upstreams} {line}"
            lines.append(f"{name}{'' if k == 0 else k + 1}: {line}")
    return "\n".join(lines) + "\n"


def port_of(command: str) -> int | None:
    match = re.search(r"--port (\d+)", command)
    return int(match.group(1)) if match else None


def main() -> int:
    replicas = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    if not 1 <= replicas <= 9:
        print("replicas: 1 to 9", file=sys.stderr)
        return 2
    procfile = PROCFILE.read_text()
    sys.stdout.write(procfile if replicas == 1 else replicated(procfile, replicas))
    return 0


if __name__ == "__main__":
    sys.exit(main())
