"""The task forms of the pages: the JSON-Schema forms of ``forms.tasks`` (declared in
``bpmn/forms/``), so the pages, the API and the CLI check a task's data by the very same rules;
the lists a form's choices come from; and the photos a disposal brings along. CSRF is checked
for every posted page form by the app's CSRFProtect."""
from __future__ import annotations

from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage, MultiDict

from forms.tasks import TaskForm, empty_form, task_form
from handlers.catalogue import HANDLER_ROLES, active_departments
from handlers.photos import PhotoRejected, store_photo
from models import Case, User, transaction

MAX_PHOTOS = 9


def web_task_form(form_key: str | None, formdata: MultiDict | None = None) -> TaskForm:
    """The form of a task's form key, bound to ``formdata`` (else empty). Raises UnknownForm."""
    return task_form(form_key, formdata) if formdata is not None else empty_form(form_key)


def form_choices(words, roles: dict, grids: list) -> dict[str, list[tuple[str, str]]]:
    """(code, label) pairs of each ``x-choices`` list, in the page's language."""
    return {
        "departments": [(d.code, words.department(d.code)) for d in active_departments()],
        "handler_roles": [(role, str(roles.get(role, role))) for role in HANDLER_ROLES],
        "grids": [(g.code, f"{g.code} {g.name}") for g in grids],
    }


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
