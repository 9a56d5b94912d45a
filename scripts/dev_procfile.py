"""Print the Procfile `make dev` runs: the committed one, or with every service run as N replicas.

Replica k (from 0) of each service listens on its usual port + 10 k (the gateway on 8000, 8010,
...), and every gateway spreads requests over all replicas of each service. Usage:
`python scripts/dev_procfile.py N`.
"""

import re
import sys
from pathlib import Path

PROCFILE = Path(__file__).resolve().parent.parent / "Procfile"
PORT_STEP = 10
# Procfile process name -> the gateway setting that lists its replicas.
UPSTREAM_SETTINGS = {"auth": "AUTH_SERVICE_URL", "task": "TASK_SERVICE_URL", "notification": "NOTIFICATION_SERVICE_URL"}


def replicated(procfile: str, replicas: int) -> str:
    processes = dict(line.split(": ", 1) for line in procfile.splitlines() if line.strip())
    ports = {name: int(re.search(r"--port (\d+)", command).group(1)) for name, command in processes.items()}
    upstreams = " ".join(
        f"{setting}=" + ",".join(f"http://127.0.0.1:{ports[name] + PORT_STEP * k}" for k in range(replicas))
        for name, setting in UPSTREAM_SETTINGS.items()
    )
    lines = []
    for name, command in processes.items():
        for k in range(replicas):
            line = command.replace(f"--port {ports[name]}", f"--port {ports[name] + PORT_STEP * k}")
            if name == "gateway":
                line = f"env {upstreams} {line}"
            lines.append(f"{name}{'' if k == 0 else k + 1}: {line}")
    return "\n".join(lines) + "\n"


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
