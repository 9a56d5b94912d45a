"""Does a burst of logins slow down token checks? Every task and notification request makes one.

Starts the real auth service at the production bcrypt cost (12), then times GET /auth/verify
while idle and while 80 logins are in flight. bcrypt runs on its own limited threads, so the
token checks should barely notice.
"""

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.helpers import AUTH_DATABASE_URL, RunningService, migrate, register_and_login

AUTH_PORT = 18511
LOGINS = 120
LOGIN_CONCURRENCY = 60
SAMPLES = 100


def verify_timings(http: httpx.Client, headers: dict, samples: int) -> list[float]:
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        http.get("/auth/verify", headers=headers).raise_for_status()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def summary(timings: list[float]) -> str:
    ordered = sorted(timings)
    return f"median {statistics.median(ordered):7.2f} ms   p95 {ordered[int(len(ordered) * 0.95)]:7.2f} ms"


def main() -> None:
    migrate("auth_service", AUTH_DATABASE_URL)
    env = {"AUTH_DATABASE_URL": AUTH_DATABASE_URL, "BCRYPT_ROUNDS": "12", "ENVIRONMENT": "test"}
    service = RunningService("auth_service.main", AUTH_PORT, env).wait_until_healthy()
    try:
        user = register_and_login(service.base_url, "burst")
        login_form = {"username": user["username"], "password": user["password"]}
        limits = httpx.Limits(max_connections=LOGIN_CONCURRENCY + 5)
        with httpx.Client(base_url=service.base_url, timeout=120, limits=limits) as http:
            print(f"GET /auth/verify, idle:              {summary(verify_timings(http, user['headers'], SAMPLES))}")
            burst_done = threading.Event()

            def burst() -> float:
                started = time.perf_counter()
                with ThreadPoolExecutor(LOGIN_CONCURRENCY) as pool:
                    codes = list(
                        pool.map(lambda _: http.post("/auth/login", data=login_form).status_code, range(LOGINS))
                    )
                burst_done.set()
                assert set(codes) == {200}, codes
                return time.perf_counter() - started

            with ThreadPoolExecutor(1) as runner:
                burst_result = runner.submit(burst)
                time.sleep(0.5)
                during = verify_timings(http, user["headers"], SAMPLES)
                still_running = not burst_done.is_set()
                seconds = burst_result.result()
            print(
                f"GET /auth/verify, during the burst:  {summary(during)}  (burst still running after: {still_running})"
            )
            print(
                f"{LOGINS} logins at bcrypt cost 12, {LOGIN_CONCURRENCY} at once: {seconds:.1f} s "
                f"({LOGINS / seconds:.1f} logins/s on this machine)"
            )
    finally:
        service.stop()


if __name__ == "__main__":
    main()
