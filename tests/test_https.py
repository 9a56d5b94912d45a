"""HTTPS at the gateway: `make dev`'s development CA and certificate, served by the Procfile's
`gateway-https` command as a real process, checked with real TLS handshakes (chain and host name)."""

import datetime
import os
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from scripts import dev_certs
from tests.helpers import LOG_DIR, ROOT, start_service, stop_service

HTTPS_PORT = 19243
# For the command started without a certificate, while the one above still serves.
IDLE_HTTPS_PORT = 19244
HTTP_PORT = 19280
# Nothing listens there: the gateway starts without its services, and /health answers 503.
NOWHERE = "http://127.0.0.1:19299"
HSTS = "strict-transport-security"
DEV_CERTS = [dev_certs.CA_CERT, dev_certs.CA_KEY, dev_certs.CERT, dev_certs.KEY]


def run_script(directory: Path) -> str:
    result = subprocess.run(
        [sys.executable, "scripts/dev_certs.py", str(directory)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {name: ((directory / name).read_bytes(), (directory / name).stat().st_mtime_ns) for name in DEV_CERTS}


def gateway_env(**extra: str) -> dict[str, str]:
    env = {
        "ENVIRONMENT": "test",
        "AUTH_SERVICE_URL": NOWHERE,
        "TASK_SERVICE_URL": NOWHERE,
        "NOTIFICATION_SERVICE_URL": NOWHERE,
        "HEALTH_TIMEOUT_SECONDS": "0.5",
        "CONNECT_TIMEOUT_SECONDS": "0.5",
        **extra,
    }
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "HSTS_"))}, **env}


def procfile_command(name: str, port: int = HTTPS_PORT) -> list[str]:
    """The Procfile's command for `name`, run with this interpreter, on 127.0.0.1 and a test port."""
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    command = shlex.split(lines[name])
    assert command[0] == ".venv/bin/python"
    # uvicorn takes the last of a repeated option: these replace the Procfile's --host.
    return [sys.executable, *command[1:], "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]


def start_https_gateway(env: dict[str, str], log_name: str) -> subprocess.Popen:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", HTTPS_PORT)) == 0:
            raise RuntimeError(f"port {HTTPS_PORT} is already in use: stop whatever listens there first")
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = open(LOG_DIR / log_name, "ab")  # noqa: SIM115  (the process owns it until it exits)
    return subprocess.Popen(procfile_command("gateway-https"), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on {port} exited with code {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


def trusting(ca_file: Path) -> ssl.SSLContext:
    """A client context that trusts only `ca_file`, requires a certificate and checks the host name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=ca_file)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    return context


def handshake(context: ssl.SSLContext, server_hostname: str) -> dict:
    with (
        socket.create_connection(("127.0.0.1", HTTPS_PORT), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as tls,
    ):
        return tls.getpeercert()


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("certs")
    run_script(directory)
    return directory


@pytest.fixture(scope="module")
def https_gateway(certs):
    env = gateway_env(
        GATEWAY_TLS_CERT_FILE=str(certs / dev_certs.CERT), GATEWAY_TLS_KEY_FILE=str(certs / dev_certs.KEY)
    )
    process = start_https_gateway(env, f"api_gateway-https-{HTTPS_PORT}.log")
    try:
        wait_for_port(HTTPS_PORT, process)
        yield process
    finally:
        stop_service(process)


@pytest.fixture(scope="module")
def http_gateway():
    process = start_service("api_gateway.main", HTTP_PORT, gateway_env(), LOG_DIR / f"api_gateway-{HTTP_PORT}.log")
    try:
        wait_for_port(HTTP_PORT, process)
        yield process
    finally:
        stop_service(process)


def test_a_client_trusting_only_the_dev_ca_verifies_the_chain_and_the_host_name(certs, https_gateway):
    peer = handshake(trusting(certs / dev_certs.CA_CERT), "localhost")

    assert dict(name for [name] in peer["subject"])["commonName"] == "localhost"
    assert set(peer["subjectAltName"]) == {
        ("DNS", "localhost"),
        ("IP Address", "127.0.0.1"),
        ("IP Address", "0:0:0:0:0:0:0:1"),
    }
    # The IP addresses are names of the certificate too, as curl https://127.0.0.1:8443 needs.
    handshake(trusting(certs / dev_certs.CA_CERT), "127.0.0.1")


def test_health_over_https_carries_hsts(certs, https_gateway):
    with httpx.Client(verify=trusting(certs / dev_certs.CA_CERT), trust_env=False) as client:
        response = client.get(f"https://localhost:{HTTPS_PORT}/health")

    # Its services are not running: the gateway answers for itself, over TLS.
    assert response.status_code == 503
    assert response.json()["service"] == "api_gateway"
    assert response.headers[HSTS] == "max-age=31536000"
    assert response.url.scheme == "https"


def test_the_documented_curl_command_works(certs, https_gateway):
    # docs/development.md: `curl --cacert certs/dev-ca.pem https://localhost:8443/health`, here on the test port.
    result = subprocess.run(
        ["curl", "--silent", "--show-error", "--noproxy", "*", "--cacert", str(certs / dev_certs.CA_CERT),
         "--output", "/dev/null", "--write-out", "%{http_code} %{ssl_verify_result}",
         f"https://localhost:{HTTPS_PORT}/health"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert (result.returncode, result.stdout) == (0, "503 0"), result.stderr


def test_plain_http_carries_no_hsts(http_gateway):
    response = httpx.get(f"http://127.0.0.1:{HTTP_PORT}/health", trust_env=False)

    assert response.status_code == 503
    assert HSTS not in response.headers


def test_a_client_that_does_not_trust_the_dev_ca_fails_the_handshake(certs, https_gateway, tmp_path):
    # Another development CA (another machine's `make dev`), and the system's trust store.
    run_script(tmp_path)
    for context in (trusting(tmp_path / dev_certs.CA_CERT), ssl.create_default_context()):
        with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer certificate"):
            handshake(context, "localhost")


def test_a_host_name_the_certificate_does_not_name_fails_the_handshake(certs, https_gateway):
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        handshake(trusting(certs / dev_certs.CA_CERT), "gateway.example.com")


def test_the_https_command_serves_nothing_and_waits_without_a_certificate():
    process = subprocess.Popen(
        procfile_command("gateway-https", IDLE_HTTPS_PORT),
        cwd=ROOT,
        env=gateway_env(),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)
        # Still running (honcho would stop every other process of `make dev` if it exited), not listening.
        assert process.poll() is None
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", IDLE_HTTPS_PORT)) != 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        assert "HTTPS: off" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_https_command_refuses_a_certificate_it_cannot_read(tmp_path):
    env = gateway_env(GATEWAY_TLS_CERT_FILE=str(tmp_path / "missing.pem"), GATEWAY_TLS_KEY_FILE=str(tmp_path / "k"))
    result = subprocess.run(procfile_command("gateway-https"), cwd=ROOT, env=env, capture_output=True, text=True)

    assert result.returncode == 1
    assert "cannot read" in result.stderr and "missing.pem" in result.stderr


def test_the_script_is_idempotent(certs):
    before = snapshot(certs)

    assert "up to date" in run_script(certs)
    assert snapshot(certs) == before


def test_the_keys_are_readable_by_their_owner_only(certs):
    for name in (dev_certs.CA_KEY, dev_certs.KEY):
        assert (certs / name).stat().st_mode & 0o077 == 0


def test_a_certificate_near_its_end_is_renewed_by_the_same_ca(tmp_path):
    run_script(tmp_path)
    ca_before = snapshot(tmp_path)[dev_certs.CA_CERT]
    # As if the certificate had been made 380 days ago: 17 days left, inside the renewal window.
    ca = dev_certs._load(tmp_path, dev_certs.CA_CERT, dev_certs.CA_KEY)
    old = dev_certs.make_cert(ca, datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=380))
    dev_certs._save(tmp_path, dev_certs.CERT, dev_certs.KEY, old)

    assert "wrote localhost.pem, localhost-key.pem" in run_script(tmp_path)
    renewed = x509.load_pem_x509_certificate((tmp_path / dev_certs.CERT).read_bytes())
    assert renewed.not_valid_after_utc - datetime.datetime.now(datetime.UTC) > datetime.timedelta(days=390)
    renewed.verify_directly_issued_by(ca[0])
    assert snapshot(tmp_path)[dev_certs.CA_CERT] == ca_before


def test_an_expired_ca_is_replaced_and_the_certificate_with_it(tmp_path):
    long_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=3700)
    old_ca = dev_certs.make_ca(long_ago)
    dev_certs._save(tmp_path, dev_certs.CA_CERT, dev_certs.CA_KEY, old_ca)
    dev_certs._save(tmp_path, dev_certs.CERT, dev_certs.KEY, dev_certs.make_cert(old_ca, long_ago))

    output = run_script(tmp_path)

    assert "a new development CA" in output
    ca = x509.load_pem_x509_certificate((tmp_path / dev_certs.CA_CERT).read_bytes())
    assert ca.subject != old_ca[0].subject
    x509.load_pem_x509_certificate((tmp_path / dev_certs.CERT).read_bytes()).verify_directly_issued_by(ca)
