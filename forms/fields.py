"""Fields that read JSON bodies as well as posted forms."""
from __future__ import annotations

from wtforms import Field
from wtforms.validators import ValidationError

TRUE = {"true", "1", "yes", "on", "y", "是"}
FALSE = {"false", "0", "no", "off", "n", "否"}


class YesNoField(Field):
    """A required yes/no answer: JSON true/false or the strings of a posted form."""

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist:
            return
        raw = valuelist[0]
        if isinstance(raw, bool):
            self.data = raw
        elif str(raw).strip().lower() in TRUE:
            self.data = True
        elif str(raw).strip().lower() in FALSE:
            self.data = False
        else:
            raise ValueError("answer yes (true) or no (false)")

    def pre_validate(self, form):
        if self.data is None and not self.process_errors:
            raise ValidationError("this answer is required")


class IdListField(Field):
    """A list of ids: a JSON array, or repeated form values."""

    def __init__(self, label=None, validators=None, max_items=10, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.max_items = max_items

    def process_formdata(self, valuelist):
        values = valuelist[0] if len(valuelist) == 1 and isinstance(valuelist[0], list) else valuelist
        self.data = [str(v).strip() for v in values if str(v).strip()]
        if len(self.data) > self.max_items:
            raise ValueError(f"at most {self.max_items} items")

    def _value(self):
        return ",".join(self.data or [])
