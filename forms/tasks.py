"""One form per user-task form key: the data a task needs before it can be completed.

The same forms check JSON from the API and posted forms from the inbox, so a rule holds
whichever way a task is completed.
"""
from __future__ import annotations

from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from extensions import db
from forms.fields import IdListField, YesNoField
from handlers.departments import DEPARTMENTS, HANDLER_ROLES
from models import Photo

NOTE = [Length(max=2000)]


class AcceptForm(Form):
    accepted = YesNoField("立案")
    note = TextAreaField("说明", NOTE)

    def validate_note(self, field):
        if self.accepted.data is False and not (field.data or "").strip():
            raise ValidationError("say why the case is not accepted")

    def task_data(self) -> dict:
        return {"accepted": self.accepted.data, "accept_note": self.note.data or ""}


class DispatchForm(Form):
    department = SelectField("处置部门", choices=list(DEPARTMENTS.items()), validators=[DataRequired()])
    handler_role = SelectField("处置人", choices=[("", "")] + [(r, r) for r in HANDLER_ROLES],
                               validators=[Optional()])
    grid = StringField("网格", [Optional(), Length(max=64)])
    note = TextAreaField("派遣意见", [DataRequired(message="a dispatch note is required"), *NOTE])

    def task_data(self) -> dict:
        data = {"department": self.department.data, "dispatch_note": self.note.data}
        if self.handler_role.data:
            data["handler_role"] = self.handler_role.data
        if self.grid.data:
            data["grid_code"] = self.grid.data
        return data


class DisposeForm(Form):
    result = SelectField("处置结果", choices=[
        ("resolved", "已解决"), ("partially_resolved", "部分解决"), ("cannot_resolve", "无法解决"),
    ], validators=[DataRequired()])
    note = TextAreaField("处置说明", [DataRequired(message="a disposal note is required"), *NOTE])
    photos = IdListField("照片", max_items=9)

    def validate_photos(self, field):
        """A disposal is proven by at least one stored photo (uploaded first, referenced by id)."""
        ids = field.data or []
        if not ids:
            raise ValidationError("attach at least one photo of the result")
        known = set(db.session.scalars(select(Photo.id).where(Photo.id.in_(ids))))
        if any(i not in known for i in ids):
            raise ValidationError("a photo is not stored: upload it first")

    def task_data(self) -> dict:
        return {"dispose_result": self.result.data, "dispose_note": self.note.data,
                "photos": self.photos.data or []}


class VerifyForm(Form):
    passed = YesNoField("核查通过")
    note = TextAreaField("核查意见", [DataRequired(message="a verification note is required"), *NOTE])

    def task_data(self) -> dict:
        return {"verified": self.passed.data, "verify_note": self.note.data}


class FeedbackForm(Form):
    satisfaction = SelectField("满意度", choices=[
        ("satisfied", "满意"), ("basically_satisfied", "基本满意"), ("not_satisfied", "不满意"),
    ], validators=[DataRequired()])
    comment = TextAreaField("评价", NOTE)

    def task_data(self) -> dict:
        return {"satisfaction": self.satisfaction.data, "feedback_comment": self.comment.data or ""}


class CloseForm(Form):
    note = TextAreaField("结案意见", NOTE)

    def task_data(self) -> dict:
        return {"close_note": self.note.data or ""}


class EscalateForm(Form):
    action = SelectField("督办措施", choices=[
        ("urged", "已督促"), ("extended", "同意延期"), ("reassigned", "改派"),
    ], validators=[DataRequired()])
    note = TextAreaField("督办意见", [DataRequired(message="an escalation note is required"), *NOTE])

    def task_data(self) -> dict:
        return {"escalation_action": self.action.data, "escalation_note": self.note.data}


TASK_FORMS: dict[str, type[Form]] = {
    "accept": AcceptForm, "dispatch": DispatchForm, "dispose": DisposeForm, "verify": VerifyForm,
    "feedback": FeedbackForm, "close": CloseForm, "escalate": EscalateForm,
}


def task_form(form_key: str | None, data: dict | MultiDict) -> Form:
    """The bound form of a task; ``validate()`` it and read ``task_data()``."""
    form_class = TASK_FORMS.get(form_key or "", CloseForm)
    formdata = data if isinstance(data, MultiDict) else MultiDict(
        [(k, v) for k, v in data.items() if not isinstance(v, list)]
        + [(k, v) for k, v in data.items() if isinstance(v, list)]
    )
    return form_class(formdata=formdata)
