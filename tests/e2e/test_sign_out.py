import httpx

from tests.e2e.stack import Stack
from tests.helpers import register_and_login


def test_logout_revokes_the_token_for_every_service_at_once(stack: Stack):
    gateway = stack.url("gateway")
    user = register_and_login(stack.url("auth"))
    with httpx.Client(base_url=gateway, headers=user["headers"], timeout=10) as http:
        assert http.get("/tasks/").status_code == 200
        assert http.get("/notifications/").status_code == 200

        assert http.post("/auth/logout").status_code == 204

        for path in ("/tasks/", "/notifications/", "/auth/me"):
            response = http.get(path)
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"] == "Bearer"
