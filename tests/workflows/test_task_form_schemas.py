"""The JSON-Schema task forms (forms/tasks.py, bpmn/forms/): anything sent is either accepted
or answered with field errors, never an exception; an unknown form key is an error."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from forms.tasks import FORMS_DIR, UnknownForm, load_form, task_form

FORM_KEYS = sorted(p.name.removesuffix(".schema.json") for p in FORMS_DIR.glob("*.schema.json"))
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=6)


def test_the_shipped_forms_are_the_process_files_form_keys():
    assert FORM_KEYS == ["accept", "answer", "close", "dispatch", "dispose", "escalate", "feedback", "verify"]


def test_an_unknown_form_key_is_an_error_not_another_form():
    with pytest.raises(UnknownForm):
        task_form("no_such_form", {"note": "x"})
    with pytest.raises(UnknownForm):
        task_form(None, {"note": "x"})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(FORM_KEYS), data=st.dictionaries(
    st.sampled_from(["accepted", "passed", "note", "answer", "reply", "result", "photos", "department",
                     "handler_role", "grid", "satisfaction", "comment", "action", "other"]), JSON, max_size=6))
def test_any_json_gets_a_verdict_with_errors_only_on_declared_fields(app, key, data):
    with app.app_context():
        form = task_form(key, data)
        valid = form.validate()
        names = {f.name for f in load_form(key).fields}
        assert set(form.errors) <= names
        if valid:
            stored = form.task_data()
            assert set(stored) <= {f.data_key for f in load_form(key).fields}


def test_a_posted_form_and_json_give_the_same_task_data(app):
    with app.app_context():
        posted = task_form("verify", MultiDict([("passed", "false"), ("note", "仍松动")]))
        sent = task_form("verify", {"passed": False, "note": "仍松动"})
        assert posted.validate() and sent.validate()
        assert posted.task_data() == sent.task_data() == {"verified": False, "verify_note": "仍松动"}
        refused = task_form("accept", {"accepted": False, "note": "   "})
        assert not refused.validate() and refused.errors == {"note": ["say why the case is not accepted"]}
