"""Forms of the catalogue admin page: add a category or a department, rename or retire one.

Labels are English message ids; the page translates them (Chinese by default). The values
are checked again by ``handlers.catalogue`` (the API's checks), which has the last word.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from handlers.catalogue import RESIDENT_FORMS
from handlers.vocabulary import Severity
from models.catalogue import FAMILIES

CODE_RULE = Regexp(r"^[a-z][a-z0-9_]{1,63}$", message=_l("Lower-case letters, digits and _, starting with a letter."))


class CategoryForm(FlaskForm):
    code = StringField(_l("Code"), [DataRequired(), Length(max=64), CODE_RULE])
    name_zh = StringField(_l("Chinese name"), [DataRequired(), Length(max=64)])
    name_en = StringField(_l("English name"), [DataRequired(), Length(max=128)])
    family = SelectField(_l("Family"), choices=[(f, f) for f in FAMILIES], default="people")
    default_severity = SelectField(_l("Default severity"), choices=list(Severity.lazy_labels().items()),
                                   default=Severity.NORMAL.value)
    process_id = SelectField(_l("Process"), validators=[DataRequired()])
    national_code = StringField(_l("National classification code"), [Optional(), Length(max=32)])
    questions = SelectField(_l("Resident form questions"), choices=[("", "—")] + [(f, f) for f in RESIDENT_FORMS],
                       validators=[Optional()])
    public = BooleanField(_l("Shown to residents"))
    photo_required = BooleanField(_l("Photo required"))


class CategoryChangeForm(FlaskForm):
    """Rename a category; the button pressed says whether it is also retired or restored."""

    name_zh = StringField(_l("Chinese name"), [DataRequired(), Length(max=64)])
    name_en = StringField(_l("English name"), [DataRequired(), Length(max=128)])
    action = SelectField(choices=[("save", "save"), ("retire", "retire"), ("restore", "restore")], default="save")


class DepartmentForm(FlaskForm):
    code = StringField(_l("Code"), [DataRequired(), Length(max=32), CODE_RULE])
    name_zh = StringField(_l("Chinese name"), [DataRequired(), Length(max=64)])
    name_en = StringField(_l("English name"), [DataRequired(), Length(max=128)])


class DepartmentChangeForm(CategoryChangeForm):
    """Rename, retire or restore a department."""
