"""The catalogue admin page: list, add, rename and retire categories and departments
(catalogue.manage). The same checks as the API (``handlers.catalogue``); a change is used at
once, everywhere, without a restart."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from forms.catalogue import CategoryChangeForm, CategoryForm, DepartmentChangeForm, DepartmentForm
from handlers.catalogue import (
    add_category,
    add_department,
    categories,
    change_category,
    change_department,
    departments,
)
from handlers.errors import CaseError
from models import transaction
from web.access import requires
from web.admin import admin_bp
from web.process_names import known_processes

ACTIVE_AFTER = {"retire": False, "restore": True}


def _category_form() -> CategoryForm:
    form = CategoryForm()
    form.process_id.choices = [(p, p) for p in sorted(known_processes(set()))]
    return form


def _show_errors(form, exc: CaseError) -> None:
    """The handler's problems on the fields they name, the rest above the form."""
    placed = False
    for name, problem in (exc.details or {}).items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, problem]
            placed = True
    if not placed:
        flash(exc.message)


@admin_bp.route("/categories", methods=["GET", "POST"])
@requires("catalogue.manage")
def categories_page():
    form = _category_form()
    status = 200
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in (
            "name_zh", "name_en", "family", "default_severity", "national_code", "public", "photo_required")}
        values["form"] = form.questions.data or None
        values["process"] = form.process_id.data
        try:
            with transaction():
                add_category({"code": form.code.data, **values}, known_processes({form.process_id.data}))
            flash(_("Category added: it is offered at once."))
            return redirect(url_for("admin.categories_page"))
        except CaseError as exc:
            _show_errors(form, exc)
    if form.errors or form.is_submitted():
        status = 422
    return render_template("admin/categories.html", form=form, items=list(categories().values()),
                           change=CategoryChangeForm(formdata=None)), status


@admin_bp.post("/categories/<code>")
@requires("catalogue.manage")
def change_category_page(code: str):
    form = CategoryChangeForm()
    if not form.validate_on_submit():
        flash(_("Both names are needed."))
        return redirect(url_for("admin.categories_page"), 303)
    changes = {"name_zh": form.name_zh.data, "name_en": form.name_en.data}
    if form.action.data in ACTIVE_AFTER:
        changes["active"] = ACTIVE_AFTER[form.action.data]
    try:
        with transaction():
            change_category(code, changes, set())
        flash(_("Category saved."))
    except CaseError as exc:
        flash(exc.message)
    return redirect(url_for("admin.categories_page"), 303)


@admin_bp.route("/departments", methods=["GET", "POST"])
@requires("catalogue.manage")
def departments_page():
    form = DepartmentForm()
    if form.validate_on_submit():
        try:
            with transaction():
                add_department({"code": form.code.data, "name_zh": form.name_zh.data, "name_en": form.name_en.data})
            flash(_("Department added: it can be dispatched to at once."))
            return redirect(url_for("admin.departments_page"))
        except CaseError as exc:
            _show_errors(form, exc)
    status = 422 if form.is_submitted() else 200
    return render_template("admin/departments.html", form=form, items=list(departments().values()),
                           change=DepartmentChangeForm(formdata=None)), status


@admin_bp.post("/departments/<code>")
@requires("catalogue.manage")
def change_department_page(code: str):
    form = DepartmentChangeForm()
    if not form.validate_on_submit():
        flash(_("Both names are needed."))
        return redirect(url_for("admin.departments_page"), 303)
    changes = {"name_zh": form.name_zh.data, "name_en": form.name_en.data}
    if form.action.data in ACTIVE_AFTER:
        changes["active"] = ACTIVE_AFTER[form.action.data]
    try:
        with transaction():
            change_department(code, changes)
        flash(_("Department saved."))
    except CaseError as exc:
        flash(exc.message)
    return redirect(url_for("admin.departments_page"), 303)
