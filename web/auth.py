"""Signing in and out of the staff pages (Flask-Login sessions, CSRF-protected form)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from extensions import db, login_manager
from models import User

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


@auth_bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.account == form.account.data.strip()))
        if user and user.active and user.password_hash and check_password_hash(user.password_hash, form.password.data):
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or landing_page(user))
        form.password.errors.append(_("Wrong account or password."))
    return render_template("auth/login.html", form=form), (200 if request.method == "GET" or not form.errors else 401)


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
