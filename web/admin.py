"""Administration pages: accounts, roles, the audit log and imports (7.3.3-7.3.7, 10.2.2)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from extensions import db
from forms.admin import AccountForm, PasswordForm, RoleForm
from handlers.accounts import (
    account_of,
    account_view,
    apply_changes,
    create_account,
    search_accounts,
    set_password,
)
from handlers.errors import CaseError
from handlers.permissions import API_GROUPS, FUNCTIONS, forget_role_grants
from models import AuditEntry, Grid, OrgUnit, Role, transaction
from web.access import requires

admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


@admin_bp.before_request
@login_required
def _signed_in():
    return None


def _fill_choices(form: AccountForm) -> None:
    form.role.choices = [(r.code, f"{r.name} ({r.code})") for r in db.session.scalars(select(Role).order_by(Role.code))]
    form.community.choices = [("", "")] + [
        (u.code, u.name) for u in db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "community").order_by(OrgUnit.code))]
    form.grids.choices = [(g.code, f"{g.code} {g.name}") for g in db.session.scalars(select(Grid).order_by(Grid.code))]


def _changes(form: AccountForm) -> dict:
    tz = ZoneInfo(current_app.config["COMMUNITY_TZ"])
    valid_until = form.valid_until.data.replace(tzinfo=tz) if form.valid_until.data else None
    return {"name": form.name.data, "role": form.role.data, "department": form.department.data or None,
            "community": form.community.data or None, "grids": form.grids.data, "phone": form.phone.data,
            "id_number": form.id_number.data, "valid_until": valid_until, "active": form.active.data,
            "session_timeout_minutes": form.session_timeout_minutes.data,
            "max_login_attempts": form.max_login_attempts.data}


@admin_bp.get("/")
@requires("users.manage")
def home():
    return redirect(url_for("admin.users"))


@admin_bp.route("/users", methods=["GET", "POST"])
@requires("users.manage")
def users():
    form = AccountForm()
    _fill_choices(form)
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors.append(_("An initial password is required."))
        else:
            try:
                with transaction():
                    create_account({"account": form.account.data, "password": form.password.data, **_changes(form)})
                flash(_("Account created."))
                return redirect(url_for("admin.users", q=form.account.data))
            except CaseError as exc:
                form.account.errors.append(exc.message)
    found = search_accounts(request.args.get("q"), request.args.get("role") or None, limit=200)
    return render_template("admin/users.html", form=form, users=[account_view(u, True) for u in found],
                           q=request.args.get("q", "")), (422 if form.errors else 200)


@admin_bp.route("/users/<account>", methods=["GET", "POST"])
@requires("users.manage")
def edit_user(account: str):
    user = account_of(account)
    form = AccountForm(obj=user if request.method == "GET" else None)
    _fill_choices(form)
    password_form = PasswordForm(prefix="pw")
    if request.method == "GET":
        view = account_view(user, True)
        form.grids.data, form.community.data = view["grids"], view["community"] or ""
        form.phone.data, form.id_number.data = view["phone"], view["id_number"]
        form.department.data = user.department or ""
    form.account.data = user.account
    if "pw-password" in request.form:
        if password_form.validate_on_submit():
            try:
                with transaction():
                    set_password(user, password_form.password.data)
                flash(_("Password reset; the account is unlocked."))
                return redirect(url_for("admin.edit_user", account=account))
            except CaseError as exc:
                password_form.password.errors.append(exc.message)
    elif form.validate_on_submit():
        try:
            with transaction():
                apply_changes(user, _changes(form))
            flash(_("Account saved."))
            return redirect(url_for("admin.edit_user", account=account))
        except CaseError as exc:
            form.name.errors.append(exc.message)
    status = 422 if (form.errors or password_form.errors) and request.method == "POST" else 200
    return render_template("admin/user.html", form=form, password_form=password_form,
                           view=account_view(user, True)), status


@admin_bp.route("/roles", methods=["GET", "POST"])
@requires("users.manage")
def roles():
    form = RoleForm()
    form.functions.choices = list(FUNCTIONS.items())
    form.api_groups.choices = list(API_GROUPS.items())
    if form.validate_on_submit():
        with transaction():
            role = db.session.get(Role, form.code.data)
            if role is None:
                role = Role(code=form.code.data, builtin=False)
                db.session.add(role)
            role.name, role.description = form.name.data, form.description.data or ""
            role.functions, role.api_groups = form.functions.data, form.api_groups.data
        forget_role_grants()
        flash(_("Role saved."))
        return redirect(url_for("admin.roles"))
    all_roles = list(db.session.scalars(select(Role).order_by(Role.code)))
    return render_template("admin/roles.html", form=form, roles=all_roles, functions=FUNCTIONS,
                           api_groups=API_GROUPS), (422 if form.errors else 200)


@admin_bp.get("/audit")
@requires("audit.view")
def audit():
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if request.args.get("operator"):
        query = query.where(AuditEntry.operator == request.args["operator"].strip())
    if request.args.get("operation"):
        query = query.where(AuditEntry.operation.like(f"%{request.args['operation'].strip()}%"))
    if request.args.get("result") in {"ok", "refused", "error"}:
        query = query.where(AuditEntry.result == request.args["result"])
    if request.args.get("since"):
        try:
            since = datetime.fromisoformat(request.args["since"]).replace(
                tzinfo=ZoneInfo(current_app.config["COMMUNITY_TZ"]))
            query = query.where(AuditEntry.at >= since)
        except ValueError:
            flash(_("The date is not valid (YYYY-MM-DD)."))
    entries = list(db.session.scalars(query.limit(300)))
    return render_template("admin/audit.html", entries=entries, args=request.args,
                           tz=ZoneInfo(current_app.config["COMMUNITY_TZ"]))


# The catalogue page registers its routes on admin_bp.
from web import admin_catalogue  # noqa: E402,F401
