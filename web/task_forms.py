"""The task forms of the pages: each form of ``forms.tasks`` with CSRF protection (FlaskForm),
so the pages and the API check a task's data by the very same rules; and the photos a
disposal brings along."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage, MultiDict

from forms.tasks import (
    AcceptForm,
    CloseForm,
    DispatchForm,
    DisposeForm,
    EscalateForm,
    FeedbackForm,
    VerifyForm,
)
from handlers.photos import PhotoRejected, store_photo
from models import Case, User, transaction


class WebAccept(FlaskForm, AcceptForm):
    pass


class WebDispatch(FlaskForm, DispatchForm):
    pass


class WebDispose(FlaskForm, DisposeForm):
    pass


class WebVerify(FlaskForm, VerifyForm):
    pass


class WebFeedback(FlaskForm, FeedbackForm):
    pass


class WebClose(FlaskForm, CloseForm):
    pass


class WebEscalate(FlaskForm, EscalateForm):
    pass


WEB_FORMS: dict[str, type[FlaskForm]] = {
    "accept": WebAccept, "dispatch": WebDispatch, "dispose": WebDispose, "verify": WebVerify,
    "feedback": WebFeedback, "close": WebClose, "escalate": WebEscalate,
}
MAX_PHOTOS = 9


def web_task_form(form_key: str | None, formdata: MultiDict | None = None) -> FlaskForm:
    """The page form of a task's form key, bound to ``formdata`` (else to the request)."""
    form_class = WEB_FORMS.get(form_key or "", WebClose)
    return form_class(formdata=formdata) if formdata is not None else form_class()


def keep_uploads(files: list[FileStorage], user: User, case: Case) -> tuple[list[str], list[str]]:
    """Store each uploaded photo in a unit of work of its own: a bad file costs only itself.

    Returns the ids of the stored photos and a message for each file that was refused."""
    stored, problems = [], []
    for upload in files[:MAX_PHOTOS]:
        try:
            with transaction():
                stored.append(store_photo(upload.read(), uploaded_by_id=user.id, case_id=case.id).id)
        except PhotoRejected as exc:
            problems.append(_("%(file)s: %(why)s", file=(upload.filename or "?")[:60], why=_(str(exc))))
    if len(files) > MAX_PHOTOS:
        problems.append(_("At most %(n)s photos.", n=MAX_PHOTOS))
    return stored, problems


def uploaded_files(files: list[FileStorage]) -> list[FileStorage]:
    """The file inputs that hold a file (a browser sends an empty part for an empty input)."""
    return [f for f in files if f is not None and f.filename]
