"""Signing in and out of the staff pages (Flask-Login sessions, CSRF-protected form)."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from extensions import db, limiter, login_manager
from handlers.sign_in import check_sign_in, end_sessions
from models import User, transaction
from web.access import client_ip
from web.audit import audit_entry

auth_bp = Blueprint("auth", __name__)
login_manager.login_view = "auth.login"
login_manager.login_message = None


# The account's session version a session was opened with (models.User.session_version).
SESSION_VERSION = "sv"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in account, unless its sessions were ended since this one began (logout
    anywhere, a password reset, disabling, a change of validity): then the cookie is refused."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or session.get(SESSION_VERSION) != user.session_version:
        return None
    return user


class LoginForm(FlaskForm):
    account = StringField("账号", [DataRequired(), Length(max=64)])
    password = PasswordField("密码", [DataRequired(), Length(max=128)])


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None


def landing_page(user: User) -> str:
    return "/inbox" if user.role != "resident" else "/track"


def _message(verdict: str) -> str:
    return {
        "locked": _("Too many failed attempts: the account is locked for a while."),
        "expired": _("This account has expired."),
    }.get(verdict, _("Wrong account or password."))


def _login_rate() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _address_key() -> str:
    # Namespaced by the app's prefix: the limiter keeps the prefix of the first app it served.
    return f"{current_app.config['QUEUE_PREFIX']}:login:{client_ip()}"


@auth_bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate, methods=["POST"], key_func=_address_key)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        account = form.account.data.strip()
        with transaction():
            outcome = check_sign_in(account, form.password.data, client_ip())
            user = outcome.user
            audit_entry("login", "ok" if outcome.verdict == "ok" else "refused", target=account,
                        detail={"reason": outcome.reason, "channel": "web"},
                        operator_id=user.id if user else None, operator_name=account)
        if outcome.verdict == "ok":
            login_user(user)
            session[SESSION_VERSION] = user.session_version
            session["seen"] = int(time.time())
            return redirect(_safe_next(request.args.get("next")) or landing_page(user))
        form.password.errors.append(_message(outcome.verdict))
    status = 200
    if request.method == "POST":
        # 401: the account or password was refused; 400: the form itself was incomplete.
        status = 401 if form.password.errors and form.account.data and form.password.data else 400
    return render_template("auth/login.html", form=form), status


@auth_bp.post("/logout")
@login_required
def logout():
    """Sign out everywhere: every session of the account ends, copied cookies included."""
    with transaction():
        end_sessions(current_user)
    logout_user()
    session.clear()
    flash(_("Signed out."))
    return redirect(url_for("auth.login"))


@auth_bp.get("/")
def home():
    if current_user.is_authenticated:
        return redirect(landing_page(current_user))
    return redirect(url_for("auth.login"))
