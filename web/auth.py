"""Signing in and out of the staff pages (Flask-Login sessions, CSRF-protected form)."""
from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from extensions import db, login_manager
from handlers.passwords import password_matches
from models import User, transaction, utcnow
from web.audit import audit_entry

auth_bp = Blueprint("auth", __name__)
login_manager.login_view = "auth.login"
login_manager.login_message = None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


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


def _refusal(user: User | None, password: str) -> tuple[str | None, str]:
    """Why this sign-in is refused (a message for the user, a reason for the audit log)."""
    now = utcnow()
    if user is None or not user.active:
        return _("Wrong account or password."), "unknown or inactive account"
    if user.locked_until is not None and user.locked_until > now:
        return _("Too many failed attempts: the account is locked for a while."), "locked"
    if user.valid_until is not None and user.valid_until < now:
        return _("This account has expired."), "expired"
    if not password_matches(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= user.max_login_attempts:
            user.locked_until = now + timedelta(minutes=current_app.config["LOCKOUT_MINUTES"])
            user.failed_logins = 0
            return _("Too many failed attempts: the account is locked for a while."), "wrong password, locked"
        return _("Wrong account or password."), "wrong password"
    return None, "ok"


@auth_bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        account = form.account.data.strip()
        user = db.session.scalar(select(User).where(User.account == account))
        with transaction():
            message, reason = _refusal(user, form.password.data)
            if message is None:
                user.failed_logins, user.locked_until, user.last_login_at = 0, None, utcnow()
            audit_entry("login", "ok" if message is None else "refused", target=account,
                        detail={"reason": reason, "channel": "web"},
                        operator_id=user.id if user else None, operator_name=account)
        if message is None:
            login_user(user)
            session["seen"] = int(time.time())
            return redirect(_safe_next(request.args.get("next")) or landing_page(user))
        form.password.errors.append(message)
    status = 200
    if request.method == "POST":
        # 401: the account or password was refused; 400: the form itself was incomplete.
        status = 401 if form.password.errors and form.account.data and form.password.data else 400
    return render_template("auth/login.html", form=form), status


@auth_bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("Signed out."))
    return redirect(url_for("auth.login"))


@auth_bp.get("/")
def home():
    if current_user.is_authenticated:
        return redirect(landing_page(current_user))
    return redirect(url_for("auth.login"))
