"""Sign-in, sessions, CSRF, roles and the security headers of the pages."""

from __future__ import annotations

from sqlmodel import Session, func, select

from meldplicht.accounts.models import UserAccount
from meldplicht.notifications.models import Notification
from meldplicht.web.auth import MAX_FAILED_LOGINS
from tests.web.conftest import PASSWORD, Web, csrf_from, form_values


def count_notifications(web: Web) -> int:
    with Session(web.engine) as session:
        return int(session.exec(select(func.count()).select_from(Notification)).one())


class TestSignIn:
    def test_pages_redirect_to_sign_in_with_the_way_back(self, web: Web) -> None:
        response = web.client.get("/employer/bulk", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/employer/bulk"

    def test_sign_in_and_out(self, web: Web) -> None:
        response = web.login()
        assert response.status_code == 303
        assert response.headers["location"] == "/employer/"
        cookie = response.headers["set-cookie"].lower()
        assert "meldplicht_session=" in cookie
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "max-age=28800" in cookie
        assert web.client.get("/employer/").status_code == 200

        token = csrf_from(web.client.get("/employer/").text)
        out = web.client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert out.status_code == 303
        assert web.client.get("/employer/", follow_redirects=False).status_code == 303

    def test_wrong_password_is_refused_without_saying_which_part_was_wrong(self, web: Web) -> None:
        wrong = web.login(password="not the password")
        unknown = web.login(username="nobody")
        for response in (wrong, unknown):
            assert response.status_code == 401
            assert "Inloggen is niet gelukt" in response.text
            assert "uid" not in response.cookies.get("meldplicht_session", "")
        assert web.client.get("/employer/", follow_redirects=False).status_code == 303

    def test_account_locks_after_repeated_failures(self, web: Web) -> None:
        for _ in range(MAX_FAILED_LOGINS):
            assert web.login(password="guess").status_code == 401
        # Even the right password is refused while locked.
        assert web.login(password=PASSWORD).status_code == 401
        with Session(web.engine) as session:
            user = session.exec(select(UserAccount).where(UserAccount.username == "tuin")).one()
            assert user.locked_until is not None

    def test_next_never_leaves_the_site(self, web: Web) -> None:
        token = web.csrf()
        response = web.client.post(
            "/login",
            data={
                "username": "tuin",
                "password": PASSWORD,
                "next": "//evil.example/steal",
                "csrf_token": token,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/employer/"

    def test_disabled_account_loses_its_session(self, web: Web) -> None:
        web.login()
        with Session(web.engine) as session, session.begin():
            user = session.exec(select(UserAccount).where(UserAccount.username == "tuin")).one()
            user.disabled = True
        assert web.client.get("/employer/", follow_redirects=False).status_code == 303


class TestCsrf:
    def test_post_without_token_is_refused_and_nothing_stored(self, web: Web) -> None:
        web.login()
        response = web.client.post(
            "/employer/notifications/new", data={**form_values(), "action": "submit"}
        )
        assert response.status_code == 403
        assert "Het formulier is verlopen" in response.text
        assert count_notifications(web) == 0

    def test_post_with_another_sessions_token_is_refused(self, web: Web) -> None:
        web.login()
        stranger = csrf_from(web.client.get("/employer/").text)[::-1]
        response = web.client.post(
            "/employer/notifications/new",
            data={**form_values(), "action": "submit", "csrf_token": stranger},
        )
        assert response.status_code == 403
        assert count_notifications(web) == 0

    def test_cross_origin_post_is_refused_even_with_the_token(self, web: Web) -> None:
        web.login()
        token = csrf_from(web.client.get("/employer/").text)
        response = web.client.post(
            "/logout", data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
        )
        assert response.status_code == 403

    def test_sign_in_form_needs_the_token_too(self, web: Web) -> None:
        response = web.client.post("/login", data={"username": "tuin", "password": PASSWORD})
        assert response.status_code == 403

    def test_token_changes_at_sign_in(self, web: Web) -> None:
        before = web.csrf()
        web.login()
        after = csrf_from(web.client.get("/employer/").text)
        assert before != after


class TestRoles:
    def test_employer_is_refused_inspector_pages(self, web: Web) -> None:
        web.login()
        response = web.client.get("/inspector/")
        assert response.status_code == 403
        assert "Geen toegang" in response.text

    def test_inspector_is_refused_employer_pages(self, web: Web) -> None:
        web.login("inspecteur")
        assert web.client.get("/inspector/").status_code == 200
        assert web.client.get("/employer/").status_code == 403
        assert web.client.get("/employer/bulk/template.csv").status_code == 403

    def test_another_employers_notification_is_not_found(self, web: Web) -> None:
        from tests.web.test_employer import submit_notification

        web.login()
        location = submit_notification(web, form_values())
        token = csrf_from(web.client.get("/employer/").text)
        web.client.post("/logout", data={"csrf_token": token})
        web.login("snel")
        assert web.client.get(location).status_code == 404
        assert web.client.get(location.replace("/receipt", "/receipt.pdf")).status_code == 404


class TestHeaders:
    def test_pages_carry_a_strict_content_security_policy(self, web: Web) -> None:
        response = web.client.get("/login")
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"

    def test_no_inline_script_or_style_anywhere(self, web: Web) -> None:
        web.login()
        for path in ("/employer/", "/employer/notifications/new", "/employer/bulk", "/worker"):
            html = web.client.get(path).text
            assert "<script" not in html
            assert "style=" not in html
            assert "<style" not in html

    def test_static_css_is_served_locally(self, web: Web) -> None:
        response = web.client.get("/static/meldplicht.css")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/css")

    def test_api_keeps_json_errors(self, web: Web) -> None:
        response = web.client.get("/api/v1/notifications")
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "content-security-policy" not in response.headers
