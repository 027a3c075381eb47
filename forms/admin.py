"""Forms of the administration pages: accounts and roles (validated on the server)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from handlers.catalogue import departments


class AccountForm(FlaskForm):
    account = StringField("Account", [DataRequired(), Regexp(r"^[A-Za-z0-9_.\-]{2,64}$",
                                                               message="2-64 letters, digits, _ . -")])
    name = StringField("Name", [DataRequired(), Length(max=64)])
    role = SelectField("Role", validators=[DataRequired()])
    department = SelectField("Department", choices=lambda: [("", "")] + [
        (d.code, d.zh if d.active else f"{d.zh} (停用)") for d in departments().values()], validators=[Optional()])
    community = SelectField("Community", validators=[Optional()])
    grids = SelectMultipleField("Grids", validators=[Optional()])
    phone = StringField("Phone", [Optional(), Regexp(r"^[0-9+\- ]{5,20}$", message="digits only")])
    id_number = StringField("ID number", [Optional(), Regexp(r"^[0-9]{17}[0-9Xx]$", message="18 characters")])
    valid_until = DateTimeLocalField("Valid until", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    session_timeout_minutes = IntegerField("Idle timeout (minutes)", [NumberRange(1, 1440)], default=30)
    max_login_attempts = IntegerField("Failed logins before lockout", [NumberRange(1, 20)], default=5)
    active = BooleanField("Active", default=True)
    password = PasswordField("Initial password", [Optional(), Length(max=128)])


class PasswordForm(FlaskForm):
    password = PasswordField("New password", [DataRequired(), Length(max=128)])


class RoleForm(FlaskForm):
    code = StringField("Code", [DataRequired(), Regexp(r"^[a-z][a-z0-9_]{1,31}$", message="a-z, 0-9, _")])
    name = StringField("Name", [DataRequired(), Length(max=64)])
    description = TextAreaField("Description", [Length(max=2000)])
    functions = SelectMultipleField("Functions", validators=[Optional()])
    api_groups = SelectMultipleField("API groups", validators=[Optional()])
