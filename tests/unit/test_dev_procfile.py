"""`make dev REPLICAS=N`: the Procfile it runs, as the script prints it."""

import re
import subprocess
import sys

from tests.helpers import ROOT


def procfile_for(replicas: int) -> dict[str, str]:
    printed = subprocess.run(
        [sys.executable, "scripts/dev_procfile.py", str(replicas)], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return dict(line.split(": ", 1) for line in printed.splitlines())


def test_one_replica_is_the_committed_procfile():
    committed = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())

    assert procfile_for(1) == committed


def test_two_replicas_of_every_service_on_ports_ten_apart_behind_gateways_that_know_them_all():
    processes = procfile_for(2)
    ports = {
        name: int(port.group(1)) for name, command in processes.items() if (port := re.search(r"--port (\d+)", command))
    }

    # gateway-https, replica 0, serves on GATEWAY_HTTPS_PORT (8443 unless set); the next one 10 further on.
    assert ports == {
        "auth": 8001, "auth2": 8011, "task": 8002, "task2": 8012,
        "notification": 8003, "notification2": 8013, "gateway": 8000, "gateway2": 8010, "gateway-https2": 8453,
    }  # fmt: skip
    assert "api_gateway.serve_https" in processes["gateway-https"]
    for gateway in ("gateway", "gateway2", "gateway-https", "gateway-https2"):
        assert "TASK_SERVICE_URL=http://127.0.0.1:8002,http://127.0.0.1:8012 " in processes[gateway]
        assert "AUTH_SERVICE_URL=http://127.0.0.1:8001,http://127.0.0.1:8011 " in processes[gateway]
        assert "NOTIFICATION_SERVICE_URL=http://127.0.0.1:8003,http://127.0.0.1:8013 " in processes[gateway]


def test_a_replica_count_out_of_range_is_refused():
    result = subprocess.run([sys.executable, "scripts/dev_procfile.py", "0"], cwd=ROOT, capture_output=True, text=True)

    assert result.returncode == 2
    assert "replicas" in result.stderr
