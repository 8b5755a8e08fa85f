from __future__ import annotations

import uuid

from tests.contract.http.conftest import Api, bearer


class TestMe:
    async def test_profile_shows_identity_role_flags_and_dates(self, api: Api) -> None:
        tokens = await api.verified_user()

        response = await api.client.get("/api/v1/users/me/", headers=bearer(tokens))

        assert response.status_code == 200
        body = response.json()
        assert body["email"] == "ada@example.org"
        assert (body["first_name"], body["last_name"]) == ("Ada", "Lovelace")
        assert body["full_name"] == "Ada Lovelace"
        assert body["is_verified"] is True
        assert body["is_organizer"] is False
        assert body["is_lms_owner"] is False
        uuid.UUID(body["uuid"])
        assert body["created_at"]
        assert "password" not in str(body)
        assert "no-store" in response.headers["cache-control"]

    async def test_patch_full_name_splits_it(self, api: Api) -> None:
        tokens = await api.verified_user()

        response = await api.client.patch(
            "/api/v1/users/me/",
            json={"full_name": "Grace Brewster Hopper"},
            headers=bearer(tokens),
        )

        assert response.status_code == 200
        assert (response.json()["first_name"], response.json()["last_name"]) == (
            "Grace",
            "Brewster Hopper",
        )

    async def test_email_and_unknown_fields_cannot_be_patched(self, api: Api) -> None:
        tokens = await api.verified_user()

        for field, value in (("email", "eve@example.org"), ("is_staff", True)):
            response = await api.client.patch(
                "/api/v1/users/me/", json={field: value}, headers=bearer(tokens)
            )
            assert response.status_code == 400
            assert response.json()["errors"][0]["code"] == "unknown_field"

        me = await api.client.get("/api/v1/users/me/", headers=bearer(tokens))
        assert me.json()["email"] == "ada@example.org"
        assert me.json()["is_staff"] is False


class TestSessions:
    async def test_sessions_list_marks_the_current_one(self, api: Api) -> None:
        first = await api.verified_user()
        await api.login()

        response = await api.client.get(
            "/api/v1/users/me/sessions/", headers=bearer(first)
        )

        assert response.status_code == 200
        sessions = response.json()
        assert len(sessions) == 2
        assert [s["is_current"] for s in sessions].count(True) == 1
        assert {
            "uuid",
            "user_agent",
            "ip_address",
            "created_at",
            "last_used_at",
        } <= set(sessions[0])

    async def test_revoking_a_session_refuses_its_token_at_once(self, api: Api) -> None:
        mine = await api.verified_user()
        other = await api.login()
        listed = await api.client.get(
            "/api/v1/users/me/sessions/", headers=bearer(mine)
        )
        other_id = next(s["uuid"] for s in listed.json() if not s["is_current"])

        response = await api.client.delete(
            f"/api/v1/users/me/sessions/{other_id}/", headers=bearer(mine)
        )

        assert response.status_code == 204
        refused = await api.client.get("/api/v1/users/me/", headers=bearer(other))
        assert refused.status_code == 401
        assert (
            await api.client.get("/api/v1/users/me/", headers=bearer(mine))
        ).is_success

    async def test_someone_elses_session_is_404(self, api: Api) -> None:
        ada = await api.verified_user("ada@example.org")
        bob = await api.verified_user("bob@example.org")
        bobs = await api.client.get("/api/v1/users/me/sessions/", headers=bearer(bob))
        bob_session = bobs.json()[0]["uuid"]

        for target in (bob_session, str(uuid.uuid4())):
            response = await api.client.delete(
                f"/api/v1/users/me/sessions/{target}/", headers=bearer(ada)
            )
            assert (response.status_code, response.json()["code"]) == (404, "not_found")
        assert (
            await api.client.get("/api/v1/users/me/", headers=bearer(bob))
        ).is_success

    async def test_logout_all_ends_every_session(self, api: Api) -> None:
        first = await api.verified_user()
        second = await api.login()

        response = await api.client.post(
            "/api/v1/users/me/sessions/logout-all/", headers=bearer(first)
        )

        assert response.status_code == 200
        assert response.json() == {"revoked": 2}
        for tokens in (first, second):
            me = await api.client.get("/api/v1/users/me/", headers=bearer(tokens))
            assert me.status_code == 401
