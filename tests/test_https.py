"""HTTPS at the gateway: `make dev`'s development CA and certificate, served by the Procfile's
`gateway-https` command as a real process, checked with real TLS handshakes (chain and host name)."""

import datetime
import ipaddress
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
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers import (
    HTTP_GATEWAY_PORT,
    HTTPS_GATEWAY_PORT,
    IDLE_HTTPS_GATEWAY_PORT,
    LOG_DIR,
    NOWHERE_URL,
    ROOT,
    start_service,
    stop_service,
)

HSTS = "strict-transport-security"
# The files scripts/dev_certs.py writes, as it documents them.
CA_CERT, CA_KEY, CERT, KEY = "dev-ca.pem", "dev-ca-key.pem", "localhost.pem", "localhost-key.pem"
DEV_CERTS = [CA_CERT, CA_KEY, CERT, KEY]
LOCALHOST_NAMES = [x509.DNSName("localhost"), *(x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", "::1"))]

CertificateAndKey = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


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
        "AUTH_SERVICE_URL": NOWHERE_URL,
        "TASK_SERVICE_URL": NOWHERE_URL,
        "NOTIFICATION_SERVICE_URL": NOWHERE_URL,
        "HEALTH_TIMEOUT_SECONDS": "0.5",
        "CONNECT_TIMEOUT_SECONDS": "0.5",
        **extra,
    }
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "HSTS_"))}, **env}


def procfile_command(name: str, port: int = HTTPS_GATEWAY_PORT) -> list[str]:
    """The Procfile's command for `name`, run with this interpreter, on 127.0.0.1 and a test port."""
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    command = shlex.split(lines[name])
    assert command[0] == ".venv/bin/python"
    # uvicorn takes the last of a repeated option: these replace the Procfile's --host.
    return [sys.executable, *command[1:], "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]


def start_https_gateway(env: dict[str, str], log_name: str) -> subprocess.Popen:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", HTTPS_GATEWAY_PORT)) == 0:
            raise RuntimeError(f"port {HTTPS_GATEWAY_PORT} is already in use: stop whatever listens there first")
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
        socket.create_connection(("127.0.0.1", HTTPS_GATEWAY_PORT), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as tls,
    ):
        peer = tls.getpeercert()
    assert peer is not None, "the server sent no certificate"
    return peer


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("certs")
    run_script(directory)
    return directory


@pytest.fixture(scope="module")
def https_gateway(certs):
    env = gateway_env(GATEWAY_TLS_CERT_FILE=str(certs / CERT), GATEWAY_TLS_KEY_FILE=str(certs / KEY))
    process = start_https_gateway(env, f"api_gateway-https-{HTTPS_GATEWAY_PORT}.log")
    try:
        wait_for_port(HTTPS_GATEWAY_PORT, process)
        yield process
    finally:
        stop_service(process)


@pytest.fixture(scope="module")
def http_gateway():
    process = start_service(
        "api_gateway.main", HTTP_GATEWAY_PORT, gateway_env(), LOG_DIR / f"api_gateway-{HTTP_GATEWAY_PORT}.log"
    )
    try:
        wait_for_port(HTTP_GATEWAY_PORT, process)
        yield process
    finally:
        stop_service(process)


def test_a_client_trusting_only_the_dev_ca_verifies_the_chain_and_the_host_name(certs, https_gateway):
    peer = handshake(trusting(certs / CA_CERT), "localhost")

    assert dict(name for [name] in peer["subject"])["commonName"] == "localhost"
    assert set(peer["subjectAltName"]) == {
        ("DNS", "localhost"),
        ("IP Address", "127.0.0.1"),
        ("IP Address", "0:0:0:0:0:0:0:1"),
    }
    # The IP addresses are names of the certificate too, as curl https://127.0.0.1:8443 needs.
    handshake(trusting(certs / CA_CERT), "127.0.0.1")


def test_health_over_https_carries_hsts(certs, https_gateway):
    with httpx.Client(verify=trusting(certs / CA_CERT), trust_env=False) as client:
        response = client.get(f"https://localhost:{HTTPS_GATEWAY_PORT}/health")

    # Its services are not running: the gateway answers for itself, over TLS.
    assert response.status_code == 503
    assert response.json()["service"] == "api_gateway"
    assert response.headers[HSTS] == "max-age=31536000"
    assert response.url.scheme == "https"


def test_the_documented_curl_command_works(certs, https_gateway):
    # docs/development.md: `curl --cacert certs/dev-ca.pem https://localhost:8443/health`, here on the test port.
    result = subprocess.run(
        ["curl", "--silent", "--show-error", "--noproxy", "*", "--cacert", str(certs / CA_CERT),
         "--output", "/dev/null", "--write-out", "%{http_code} %{ssl_verify_result}",
         f"https://localhost:{HTTPS_GATEWAY_PORT}/health"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert (result.returncode, result.stdout) == (0, "503 0"), result.stderr


def test_plain_http_carries_no_hsts(http_gateway):
    response = httpx.get(f"http://127.0.0.1:{HTTP_GATEWAY_PORT}/health", trust_env=False)

    assert response.status_code == 503
    assert HSTS not in response.headers


def test_a_client_that_does_not_trust_the_dev_ca_fails_the_handshake(certs, https_gateway, tmp_path):
    # Another development CA (another machine's `make dev`), and the system's trust store.
    run_script(tmp_path)
    for context in (trusting(tmp_path / CA_CERT), ssl.create_default_context()):
        with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer certificate"):
            handshake(context, "localhost")


def test_a_host_name_the_certificate_does_not_name_fails_the_handshake(certs, https_gateway):
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        handshake(trusting(certs / CA_CERT), "gateway.example.com")


def test_the_https_command_serves_nothing_and_waits_without_a_certificate():
    process = subprocess.Popen(
        procfile_command("gateway-https", IDLE_HTTPS_GATEWAY_PORT),
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
            assert probe.connect_ex(("127.0.0.1", IDLE_HTTPS_GATEWAY_PORT)) != 0
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=5)
        assert process.returncode == 0
        assert "HTTPS: off" in stderr
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
    for name in (CA_KEY, KEY):
        assert (certs / name).stat().st_mode & 0o077 == 0


def made_long_ago(days_ago: int, lifetime_days: int, ca: CertificateAndKey | None = None) -> CertificateAndKey:
    """A certificate as if made `days_ago`: a CA without `ca`, else a localhost certificate `ca` signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    made = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days_ago)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost" if ca else f"old CA {days_ago}")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca[0].subject if ca else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(made)
        .not_valid_after(made + datetime.timedelta(days=lifetime_days))
    )
    if ca is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName(LOCALHOST_NAMES), critical=False)
    return builder.sign(ca[1] if ca else key, hashes.SHA256()), key


def write_pair(directory: Path, cert_name: str, key_name: str, pair: CertificateAndKey) -> None:
    certificate, key = pair
    (directory / cert_name).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / key_name).write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def read_ca(directory: Path) -> CertificateAndKey:
    key = serialization.load_pem_private_key((directory / CA_KEY).read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return x509.load_pem_x509_certificate((directory / CA_CERT).read_bytes()), key


def test_a_certificate_near_its_end_is_renewed_by_the_same_ca(tmp_path):
    run_script(tmp_path)
    ca_before = snapshot(tmp_path)[CA_CERT]
    ca = read_ca(tmp_path)
    # Made 380 days ago for 397: 17 days left, inside the renewal window.
    write_pair(tmp_path, CERT, KEY, made_long_ago(380, 397, ca))

    assert "wrote localhost.pem, localhost-key.pem" in run_script(tmp_path)
    renewed = x509.load_pem_x509_certificate((tmp_path / CERT).read_bytes())
    assert renewed.not_valid_after_utc - datetime.datetime.now(datetime.UTC) > datetime.timedelta(days=390)
    renewed.verify_directly_issued_by(ca[0])
    assert snapshot(tmp_path)[CA_CERT] == ca_before


def test_an_expired_ca_is_replaced_and_the_certificate_with_it(tmp_path):
    old_ca = made_long_ago(3700, 3650)
    write_pair(tmp_path, CA_CERT, CA_KEY, old_ca)
    write_pair(tmp_path, CERT, KEY, made_long_ago(3700, 397, old_ca))

    output = run_script(tmp_path)

    assert "a new development CA" in output
    ca = x509.load_pem_x509_certificate((tmp_path / CA_CERT).read_bytes())
    assert ca.subject != old_ca[0].subject
    x509.load_pem_x509_certificate((tmp_path / CERT).read_bytes()).verify_directly_issued_by(ca)
