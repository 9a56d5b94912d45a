"""Side by side under load: the task service direct, nginx in front of it, and the gateway.

Starts the whole stack on its own ports (18600-18603, one replica each) against the test
databases, nginx (the reference proxy) on 18690 in front of the task service, and a second auth
service at the production bcrypt cost on 18621. One user with 20 tasks; then, in one run:

- the authenticated first page, `GET /tasks/?limit=20`, with wrk at 1, 16, 64 and 256
  connections, the targets interleaved: throughput, latency, errors and non-2xx, and the CPU
  milliseconds per request of every process (from /proc). The fourth target is a second gateway,
  task and auth service (18640-18642) with tracing on, exporting every span over OTLP to a
  receiver that acknowledges and discards them: the cost of tracing, beside the same path without;
- 256 connections through the gateway for BENCH_SUSTAINED_SECONDS;
- 100 requests at once from one freshly signed-in user (every token check a cache miss);
- 200 wrong-password logins at once at bcrypt cost 12, while another user's token is checked;
- 500 stream opens by one user through the gateway, while another user lists tasks.

Writes benchmarks/results/latest.json and latest.md, and prints the table.
"""

import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

os.environ.setdefault("E2E_PORT_BASE", "18600")
os.environ.setdefault("E2E_REPLICAS", "1")

import httpx

from tests.e2e.otlp_receiver import OtlpReceiver
from tests.e2e.stack import Stack, environments, start_stack
from tests.helpers import ROOT, RunningService, auth_service_env, register_and_login

RESULTS = ROOT / "benchmarks" / "results"
WORK = ROOT / ".run" / "bench"
NGINX_PORT = 18690
COSTLY_AUTH_PORT = 18621
TRACED_PORTS = {"gateway": 18640, "auth": 18641, "task": 18642}
OTLP_PORT = 18697
CONNECTIONS = (1, 16, 64, 256)
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
SUSTAINED_SECONDS = int(os.environ.get("BENCH_SUSTAINED_SECONDS", "60"))
LIST_PATH = "/tasks/?limit=20"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Where we started (measured with wrk on this machine kind before this work): requests/s at 16
# connections, task service direct; the original project's published code managed 8.5.
BASELINE_DIRECT_RPS_16 = 60.0


@dataclass
class WrkRun:
    target: str
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of a process and all its threads, and of its children (nginx's workers)."""
    total = 0.0
    for process in [pid, *_children(pid)]:
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def wrk(target: str, url: str, connections: int, seconds: int, token: str, pids: dict[str, int]) -> WrkRun:
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    output = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "30s",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    requests = int(_found(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkRun(
        target=target,
        connections=connections,
        seconds=seconds,
        requests=requests,
        rps=float(_found(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_latency(output, "50%"),
        p99_ms=_latency(output, "99%"),
        max_ms=_max_latency(output),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        cpu_ms_per_request={name: round((after[name] - before[name]) * 1000 / max(requests, 1), 3) for name in pids},
    )


def _found(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    match = re.search(pattern, text, flags)
    if match is None:
        raise ValueError(f"nothing matches {pattern!r} in wrk's output:\n{text}")
    return match


def _to_ms(value: str) -> float:
    number, unit = _found(r"^([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def _latency(output: str, percentile: str) -> float:
    return _to_ms(_found(rf"^\s+{re.escape(percentile)}\s+(\S+)", output, re.MULTILINE).group(1))


def _max_latency(output: str) -> float:
    return _to_ms(_found(r"Latency\s+\S+\s+\S+\s+(\S+)", output).group(1))


def start_nginx(upstream_port: int) -> subprocess.Popen:
    """nginx with one worker (the gateway is one process too), pooled keep-alive connections upstream."""
    (WORK / "tmp").mkdir(parents=True, exist_ok=True)
    config = WORK / "nginx.conf"
    config.write_text(
        f"""
worker_processes 1;
pid {WORK}/nginx.pid;
error_log {WORK}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {WORK}/tmp/body;
    proxy_temp_path {WORK}/tmp/proxy;
    fastcgi_temp_path {WORK}/tmp/fastcgi;
    uwsgi_temp_path {WORK}/tmp/uwsgi;
    scgi_temp_path {WORK}/tmp/scgi;
    upstream task_service {{ server 127.0.0.1:{upstream_port}; keepalive 256; }}
    server {{
        listen 127.0.0.1:{NGINX_PORT};
        location / {{
            proxy_pass http://task_service;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""
    )
    process = subprocess.Popen(["nginx", "-p", str(WORK), "-c", str(config), "-g", "daemon off;"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{NGINX_PORT}/health", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("nginx did not start; see .run/bench/nginx-error.log")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else float("nan")


async def timed_requests(client: httpx.AsyncClient, url: str, headers: dict, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        response = await client.get(url, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            timings[-1] = float("inf")
    return timings


async def hundred_at_once(gateway: str, auth: str) -> dict:
    user = register_and_login(auth, "hundred")
    async with httpx.AsyncClient(base_url=gateway, timeout=60, limits=httpx.Limits(max_connections=100)) as client:

        async def one() -> tuple[int, float]:
            started = time.perf_counter()
            response = await client.get(LIST_PATH, headers=user["headers"])
            return response.status_code, (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        answers = await asyncio.gather(*(one() for _ in range(100)))
        wall = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for status, _ in answers:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {"statuses": statuses, "max_ms": max(ms for _, ms in answers), "all_done_s": round(wall, 2)}


async def login_burst(costly_auth: str) -> dict:
    """200 wrong-password logins at once at cost 12, and another user's token checks meanwhile."""
    victim = register_and_login(costly_auth, "burst")
    checker = register_and_login(costly_auth, "checker")
    async with httpx.AsyncClient(base_url=costly_auth, timeout=120, limits=httpx.Limits(max_connections=250)) as http:
        idle = await timed_requests(http, "/auth/verify", checker["headers"], 100)

        async def wrong_login() -> tuple[int, float]:
            started = time.perf_counter()
            response = await http.post("/auth/login", data={"username": victim["username"], "password": "wrong!!"})
            return response.status_code, (time.perf_counter() - started) * 1000

        burst = asyncio.gather(*(wrong_login() for _ in range(200)))
        await asyncio.sleep(0.2)
        during = await timed_requests(http, "/auth/verify", checker["headers"], 100)
        answers = await burst
    statuses: dict[str, int] = {}
    for status, _ in answers:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    refused = [ms for status, ms in answers if status == 503]
    return {
        "login_statuses": statuses,
        "refusal_max_ms": round(max(refused), 1) if refused else None,
        "verify_idle_p95_ms": round(percentile(idle, 0.95), 2),
        "verify_during_p95_ms": round(percentile(during, 0.95), 2),
        "verify_during_errors": sum(1 for ms in during if ms == float("inf")),
    }


async def stream_flood(gateway: str, auth: str) -> dict:
    """One user opens 500 streams through the gateway; another user's task list meanwhile."""
    flooder = register_and_login(auth, "flooder")
    bystander = register_and_login(auth, "bystander")
    limits = httpx.Limits(max_connections=600, max_keepalive_connections=600)
    async with httpx.AsyncClient(base_url=gateway, timeout=httpx.Timeout(60), limits=limits) as http:
        idle = await timed_requests(http, LIST_PATH, bystander["headers"], 100)
        release = asyncio.Event()
        statuses: dict[str, int] = {}

        async def open_stream() -> None:
            async with http.stream("GET", "/notifications/stream", headers=flooder["headers"]) as response:
                statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
                if response.status_code == 200:
                    await release.wait()

        streams = [asyncio.create_task(open_stream()) for _ in range(500)]
        deadline = time.monotonic() + 60
        while sum(statuses.values()) < 500 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        during = await timed_requests(http, LIST_PATH, bystander["headers"], 100)
        release.set()
        await asyncio.gather(*streams, return_exceptions=True)
    return {
        "stream_statuses": statuses,
        "list_idle_p95_ms": round(percentile(idle, 0.95), 2),
        "list_during_p95_ms": round(percentile(during, 0.95), 2),
        "list_during_errors": sum(1 for ms in during if ms == float("inf")),
    }


def start_traced_path(stack: Stack, otlp_endpoint: str) -> dict[str, RunningService]:
    """A gateway, task and auth service like the stack's, with tracing on, on the same data."""
    stack_env = environments(stack.notification_log)
    traced = {name: f"http://127.0.0.1:{port}" for name, port in TRACED_PORTS.items()}
    settings = {
        "auth": stack_env["auth"],
        "task": {**stack_env["task"], "AUTH_SERVICE_URL": traced["auth"]},
        "gateway": {
            **stack_env["gateway"],
            "AUTH_SERVICE_URL": traced["auth"],
            "TASK_SERVICE_URL": traced["task"],
        },
    }
    modules = {"gateway": "api_gateway.main", "auth": "auth_service.main", "task": "task_service.main"}
    services = {}
    try:
        for name in ("auth", "task", "gateway"):
            # The exporter's defaults otherwise, as in production (batches every 5 s, or of 512 spans).
            env = {"ENVIRONMENT": "test", **settings[name], "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint}
            services[name] = RunningService(modules[name], TRACED_PORTS[name], env).wait_until_healthy()
    except BaseException:
        for service in services.values():
            service.stop()
        raise
    return services


def give_tasks(task_url: str, user: dict, count: int) -> None:
    for n in range(count):
        httpx.post(f"{task_url}/tasks/", headers=user["headers"], json={"title": f"Task {n}"}).raise_for_status()


def targets(runs: list[WrkRun], sustained: WrkRun, scenarios: dict) -> list[tuple[str, str, str, bool]]:
    by = {(run.target, run.connections): run for run in runs}
    direct16, nginx16, gateway16 = by[("direct", 16)], by[("nginx", 16)], by[("gateway", 16)]
    burst, flood = scenarios["login_burst"], scenarios["stream_flood"]
    traced16 = by[("gateway traced", 16)]
    path_cpu, traced_path_cpu = (
        sum(run.cpu_ms_per_request[name] for name in ("gateway", "task", "auth")) for run in (gateway16, traced16)
    )
    return [
        ("task service CPU per request (direct, 16)", "<= 2.5 ms", f"{direct16.cpu_ms_per_request['task']} ms",
         direct16.cpu_ms_per_request["task"] <= 2.5),
        ("auth service CPU per list request (gateway, 16)", "<= 1.5 ms", f"{gateway16.cpu_ms_per_request['auth']} ms",
         gateway16.cpu_ms_per_request["auth"] <= 1.5),
        ("gateway CPU per proxied request (16)", "<= 1 ms", f"{gateway16.cpu_ms_per_request['gateway']} ms",
         gateway16.cpu_ms_per_request["gateway"] <= 1.0),
        ("direct throughput at 16", f">= {5 * BASELINE_DIRECT_RPS_16:.0f} req/s (5x)", f"{direct16.rps:.0f} req/s",
         direct16.rps >= 5 * BASELINE_DIRECT_RPS_16),
        ("gateway / nginx throughput at 16", ">= 0.85", f"{gateway16.rps / nginx16.rps:.2f}",
         gateway16.rps / nginx16.rps >= 0.85),
        (f"256 connections, {sustained.seconds:.0f} s, gateway: errors + non-2xx", "0",
         str(sustained.socket_errors + sustained.non_2xx), sustained.socket_errors + sustained.non_2xx == 0),
        ("... its throughput / that at 16", ">= 0.9", f"{sustained.rps / gateway16.rps:.2f}",
         sustained.rps / gateway16.rps >= 0.9),
        ("token checks during 200 wrong logins: p95 / idle", "<= 3, no errors",
         f"{burst['verify_during_p95_ms'] / burst['verify_idle_p95_ms']:.2f}, {burst['verify_during_errors']} errors",
         burst["verify_during_p95_ms"] <= 3 * burst["verify_idle_p95_ms"] and burst["verify_during_errors"] == 0),
        ("500 stream opens by one user: refused past the cap", "429",
         json.dumps(flood["stream_statuses"]), set(flood["stream_statuses"]) <= {"200", "429"}
         and "429" in flood["stream_statuses"]),
        ("... other users' list p95 during / idle", "<= 2, no errors",
         f"{flood['list_during_p95_ms'] / flood['list_idle_p95_ms']:.2f}, {flood['list_during_errors']} errors",
         flood["list_during_p95_ms"] <= 2 * flood["list_idle_p95_ms"] and flood["list_during_errors"] == 0),
        ("100 at once from one user", "all 200", json.dumps(scenarios["hundred_at_once"]["statuses"]),
         scenarios["hundred_at_once"]["statuses"] == {"200": 100}),
        ("tracing on: CPU per request, gateway + task + auth / off (16)", "<= 1.5",
         f"{traced_path_cpu:.2f} / {path_cpu:.2f} ms = {traced_path_cpu / path_cpu:.2f}",
         traced_path_cpu <= 1.5 * path_cpu),
        ("tracing on: throughput / off (16)", ">= 0.7", f"{traced16.rps / gateway16.rps:.2f}",
         traced16.rps / gateway16.rps >= 0.7),
    ]  # fmt: skip


def markdown(runs: list[WrkRun], sustained: WrkRun, scenarios: dict, checks: list, machine: str) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine}; "
        f"`GET {LIST_PATH}` for a user with 20 tasks, wrk for {SECONDS} s per cell.",
        "",
        "| target | conns | req/s | p50 ms | p99 ms | max ms | non-2xx | socket errors "
        "| CPU ms/req task | auth | gateway | nginx |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in [*runs, sustained]:
        cpu = run.cpu_ms_per_request
        lines.append(
            f"| {run.target} | {run.connections} | {run.rps:.0f} | {run.p50_ms:.1f} | {run.p99_ms:.1f} "
            f"| {run.max_ms:.0f} | {run.non_2xx} | {run.socket_errors} | {cpu['task']:.2f} | {cpu['auth']:.2f} "
            f"| {cpu['gateway']:.2f} | {cpu['nginx']:.2f} |"
        )
    lines += ["", "| scenario | result |", "| --- | --- |"]
    for name, result in scenarios.items():
        lines.append(f"| {name} | `{json.dumps(result)}` |")
    lines += ["", "| target | goal | measured | met |", "| --- | --- | --- | --- |"]
    for name, goal, measured, met in checks:
        lines.append(f"| {name} | {goal} | {measured} | {'yes' if met else 'no'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (make bench installs it from Debian's packages as root)")
    stack: Stack = start_stack()
    nginx = costly_auth = None
    receiver = OtlpReceiver(OTLP_PORT, keep=False).start()
    traced: dict[str, RunningService] = {}
    try:
        traced = start_traced_path(stack, receiver.endpoint)
        nginx = start_nginx(int(stack.url("task").rsplit(":", 1)[1]))
        costly_auth = RunningService(
            "auth_service.main", COSTLY_AUTH_PORT, {**auth_service_env(), "BCRYPT_ROUNDS": "12"}
        ).wait_until_healthy()
        pids = {
            "task": stack.services["task"].process.pid,
            "auth": stack.services["auth"].process.pid,
            "gateway": stack.services["gateway"].process.pid,
            "nginx": nginx.pid,
        }
        traced_pids = {**{name: service.process.pid for name, service in traced.items()}, "nginx": nginx.pid}
        user = register_and_login(stack.url("auth"), "bench")
        give_tasks(stack.url("task"), user, 20)
        urls = {
            "direct": stack.url("task") + LIST_PATH,
            "nginx": f"http://127.0.0.1:{NGINX_PORT}{LIST_PATH}",
            "gateway": stack.url("gateway") + LIST_PATH,
            "gateway traced": traced["gateway"].base_url + LIST_PATH,
        }
        pids_of = {target: traced_pids if target == "gateway traced" else pids for target in urls}
        for target, url in urls.items():
            wrk("warm-up", url, 16, 2, user["token"], pids_of[target])
        runs = []
        for connections in CONNECTIONS:
            for target, url in urls.items():
                runs.append(wrk(target, url, connections, SECONDS, user["token"], pids_of[target]))
                print(f"{target:8} {connections:4} connections: {runs[-1].rps:8.0f} req/s", flush=True)
        sustained = wrk("gateway (sustained)", urls["gateway"], 256, SUSTAINED_SECONDS, user["token"], pids)
        print(f"gateway, 256 connections for {SUSTAINED_SECONDS} s: {sustained.rps:.0f} req/s", flush=True)
        scenarios = {
            "hundred_at_once": asyncio.run(hundred_at_once(stack.url("gateway"), stack.url("auth"))),
            "login_burst": asyncio.run(login_burst(costly_auth.base_url)),
            "stream_flood": asyncio.run(stream_flood(stack.url("gateway"), stack.url("auth"))),
        }
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        if costly_auth is not None:
            costly_auth.stop()
        for service in traced.values():
            service.stop()
        receiver.stop()
        stack.stop()
    checks = targets(runs, sustained, scenarios)
    machine = f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"
    table = markdown(runs, sustained, scenarios, checks, machine)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(table)
    (RESULTS / "latest.json").write_text(
        json.dumps(
            {
                "machine": machine,
                "seconds_per_cell": SECONDS,
                "runs": [asdict(run) for run in runs],
                "sustained": asdict(sustained),
                "scenarios": scenarios,
                "targets": [
                    {"target": name, "goal": goal, "measured": measured, "met": met}
                    for name, goal, measured, met in checks
                ],
            },
            indent=2,
        )
        + "\n"
    )
    print()
    print(table)
    print(f"median task CPU ms/req over all cells: {statistics.median(r.cpu_ms_per_request['task'] for r in runs)}")


if __name__ == "__main__":
    main()
