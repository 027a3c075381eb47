"""Residents' request forms: one WTForms form per request type, plus tracking and rating.

Every form carries what happened, where (an address from the community's list, or a point)
and who to call back; each type adds its own questions. The same classes check the web form
and Open311 POSTs, and describe Open311 service attributes (``integrations.open311``).
Values of choices are codes; their labels come in Chinese and English (``pick``).
Which categories residents are offered, and with which question set, is the catalogue's
(``handlers.catalogue``): a category added there is on the form at once, no code needed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import Form, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from handlers.catalogue import CategoryEntry, resident_categories
from handlers.crypto import normalize_phone
from handlers.numbers import whole_number

DESCRIPTION_MAX = 1000
NAME_MAX = 32
SHORT_MAX = 60
HONEYPOT = "website"


def pick(zh: str, en: str) -> str:
    """The label in the page's language (Chinese unless English was chosen)."""
    try:
        locale = get_locale()
    except RuntimeError:  # outside a request: the community's language
        locale = None
    return en if locale is not None and str(locale) == "en" else zh


def _choices(options: tuple[tuple[str, str, str], ...], blank: bool = True):
    def build() -> list[SelectChoice]:
        first = [SelectChoice("", pick("请选择", "Choose..."))] if blank else []
        return first + [SelectChoice(code, pick(zh, en)) for code, zh, en in options]
    return build


def choice_label(options: tuple[tuple[str, str, str], ...], code: str | None) -> str:
    return next((pick(zh, en) for c, zh, en in options if c == code), code or "")


REQUIRED = _l("Please answer this question.")

REPAIR_ITEMS = (
    ("plumbing", "水管、下水", "Water pipes, drains"), ("electrical", "电路、照明", "Wiring, lights"),
    ("door_window", "门窗、门禁", "Doors, windows, entry system"), ("elevator", "电梯", "Lift"),
    ("public_facility", "公共设施", "Shared facilities"), ("other", "其他", "Other"),
)
COMPLAINT_SUBJECTS = (
    ("noise", "噪音扰民", "Noise"), ("environment", "环境卫生", "Litter, hygiene"),
    ("property_service", "物业服务", "Property management"), ("parking", "停车", "Parking"),
    ("neighbours", "邻里纠纷", "Neighbours"), ("other", "其他", "Other"),
)
SUGGESTION_TOPICS = (
    ("community_services", "社区服务", "Community services"), ("environment", "环境绿化", "Greenery, environment"),
    ("safety", "治安安全", "Safety"), ("activities", "文体活动", "Activities"), ("other", "其他", "Other"),
)
CONSULTATION_TOPICS = (
    ("policy", "政策咨询", "Policies"), ("property", "物业相关", "Property management"),
    ("community_services", "社区服务", "Community services"), ("other", "其他", "Other"),
)
REPLY_CHANNELS = (("online", "在线答复（查询页面）", "Online (tracking page)"), ("phone", "电话回复", "By phone"))
GOV_SERVICE_ITEMS = (
    ("residence_certificate", "居住证明", "Certificate of residence"),
    ("low_income_subsidy", "最低生活保障", "Minimum living allowance"),
    ("elderly_subsidy", "高龄津贴", "Old-age allowance"),
    ("disability_certificate", "残疾人证", "Disability card"),
    ("birth_registration", "生育登记", "Birth registration"), ("other", "其他事项", "Other"),
)
CARE_PERSONS = (
    ("elderly_alone", "独居老人", "Elderly person living alone"), ("disabled", "残疾人", "Person with a disability"),
    ("left_behind_child", "留守儿童", "Child left behind"), ("other", "其他", "Other"),
)
CARE_NEEDS = (
    ("visit", "上门探访", "A visit"), ("meals", "助餐", "Meals"), ("medical", "就医协助", "Help with a doctor"),
    ("daily_help", "生活照料", "Daily help"), ("other", "其他", "Other"),
)
PLACE_MODES = (("address", "小区地址", "Address"), ("map", "地图选点", "Point on the map"),
               ("here", "我的位置", "My location"))


@dataclass(frozen=True)
class Place:
    """Where the request is: an address of the list, or a point."""

    mode: str
    address_id: int | None = None
    lat: float | None = None
    lon: float | None = None
    # Open311 only: an address in words, and the community it is in (jurisdiction_id).
    text: str | None = None
    community: str | None = None


def _number(raw: str | None, low: float, high: float) -> float | None:
    try:
        value = float((raw or "").strip())
    except ValueError:
        return None
    return value if low <= value <= high else None


class RequestForm(Form):
    """The part every request type shares."""

    # The question set's code (the catalogue's ``form`` of a category).
    code: ClassVar[str] = "general"
    # The category a form of one category opens (form_for binds it); None for a form whose
    # CATEGORY_FIELD chooses among several.
    CATEGORY_CODE: ClassVar[str | None] = None
    # What the set asks about, shown under a category's name on the pick page and in Open311.
    HINT: ClassVar[tuple[str, str]] = ("", "")
    # The pick page's name of a set choosing among several categories (zh, en).
    TITLE: ClassVar[tuple[str, str]] = ("", "")
    # Type-specific fields, in order: the Open311 attributes of the type's services.
    ATTRIBUTES: ClassVar[tuple[str, ...]] = ()
    # A field choosing the category among several (hazards), else None.
    CATEGORY_FIELD: ClassVar[str | None] = None

    description = TextAreaField(_l("What happened"), [InputRequired(message=_l("Please describe the matter."))])
    name = StringField(_l("Your name"), [Length(max=NAME_MAX, message=_l("The name is too long."))])
    phone = StringField(_l("Phone"), [Length(max=24, message=_l("This is not a phone number."))])
    place = RadioField(_l("Where"), choices=_choices(PLACE_MODES, blank=False), default="address",
                       validate_choice=False)
    address_id = StringField(_l("Room"))
    lat = StringField(_l("Latitude"))
    lon = StringField(_l("Longitude"))
    # Open311 only (address_string): the web form offers the list, the map and the location.
    address_text = StringField(_l("Address"))
    # A field people never see: software that fills in every field gives itself away.
    website = StringField(_l("Leave this empty"))

    def __init__(self, formdata=None, *, contact_required: bool = True, name_required: bool = False,
                 description_max: int = DESCRIPTION_MAX, text_address: bool = False, **kw):
        super().__init__(formdata=formdata, **kw)
        self.contact_required = contact_required
        self.name_required = name_required
        self.description_max = description_max
        self.text_address = text_address
        self.chosen_place: Place | None = None

    def category(self) -> str:
        return getattr(self, self.CATEGORY_FIELD).data if self.CATEGORY_FIELD else (self.CATEGORY_CODE or "")

    def attributes(self) -> dict[str, str]:
        return {name: (getattr(self, name).data or "").strip() for name in self.ATTRIBUTES
                if (getattr(self, name).data or "").strip()}

    def is_spam(self) -> bool:
        return bool((self.website.data or "").strip())

    def validate_description(self, field) -> None:
        if not (field.data or "").strip():
            raise ValidationError(_l("Please describe the matter."))
        if len(field.data) > self.description_max:
            raise ValidationError(_l("Please keep it under %(max)d characters.", max=self.description_max))

    def validate_name(self, field) -> None:
        if self.name_required and not (field.data or "").strip():
            raise ValidationError(_l("Please give the caller's name."))

    def validate_phone(self, field) -> None:
        raw = (field.data or "").strip()
        if not raw:
            if self.contact_required:
                raise ValidationError(_l("Please give a phone number: it is how you follow your request."))
            return
        if normalize_phone(raw) is None:
            raise ValidationError(_l("This is not a phone number."))

    def validate_website(self, field) -> None:
        if self.is_spam():
            raise ValidationError(_l("This form was filled in by software; reload the page and try again."))

    def validate_place(self, field) -> None:
        if field.data == "text" and self.text_address:
            text = (self.address_text.data or "").strip()
            if not text or len(text) > 200:
                raise ValidationError(_l("Please give the address (up to 200 characters)."))
            self.chosen_place = Place("text", text=text)
            return
        mode = field.data if field.data in {m for m, _, _ in PLACE_MODES} else "address"
        if mode == "address":
            raw = (self.address_id.data or "").strip()
            address_id = whole_number(raw)
            if address_id is None:
                raise ValidationError(_l("Please choose the building, unit and room."))
            self.chosen_place = Place("address", address_id=address_id)
            return
        lat = _number(self.lat.data, -90, 90)
        lon = _number(self.lon.data, -180, 180)
        if lat is None or lon is None:
            message = (_l("Tap the map to mark the place.") if mode == "map"
                       else _l("Your location is not known yet: allow it, or choose another way."))
            raise ValidationError(message)
        self.chosen_place = Place(mode, lat=lat, lon=lon)


def _select(label, options: tuple[tuple[str, str, str], ...], required: bool = True, **kw) -> SelectField:
    checks = [InputRequired(message=REQUIRED)] if required else [Optional()]
    return SelectField(label, checks, choices=_choices(options, blank=required),
                       invalid_choice_message=_l("Please choose one of the options."), **kw)


def _short(label) -> StringField:
    return StringField(label, [Optional(), Length(max=SHORT_MAX, message=_l("Please keep it short."))])


def _catalogue_choices(form_code: str):
    """The active resident categories that use this question set, as a select's choices."""
    def build() -> list[SelectChoice]:
        return [SelectChoice("", pick("请选择", "Choose..."))] + [
            SelectChoice(c.code, pick(c.zh, c.en)) for c in resident_categories() if c.form == form_code]
    return build


class GeneralForm(RequestForm):
    """The questions every request asks, for a category without a question set of its own."""


class RepairForm(RequestForm):
    code = "repair"
    HINT = ("水电、门窗、电梯、公共设施坏了", "Pipes, wiring, doors, lifts, shared facilities")
    ATTRIBUTES = ("item", "visit_time")
    item = _select(_l("What needs repair"), REPAIR_ITEMS)
    visit_time = _short(_l("When a repairer may come"))


class HazardForm(RequestForm):
    code = "hazard"
    ATTRIBUTES = ("seen_at",)
    CATEGORY_FIELD = "kind"
    # The form is one entry of the pick page, whatever categories it offers.
    TITLE = ("隐患上报", "Hazard")
    HINT = ("安全隐患、高空抛物、群租", "Safety hazards, objects thrown from height, group renting")
    kind = SelectField(_l("Kind of hazard"), [InputRequired(message=REQUIRED)], choices=_catalogue_choices("hazard"),
                       invalid_choice_message=_l("Please choose one of the options."))
    seen_at = _short(_l("When you saw it"))


class ComplaintForm(RequestForm):
    code = "complaint"
    HINT = ("噪音、环境、物业服务等", "Noise, hygiene, property service...")
    ATTRIBUTES = ("subject",)
    subject = _select(_l("What it is about"), COMPLAINT_SUBJECTS)


class SuggestionForm(RequestForm):
    code = "suggestion"
    HINT = ("让社区更好的想法", "Ideas to make the community better")
    ATTRIBUTES = ("topic",)
    topic = _select(_l("Topic"), SUGGESTION_TOPICS)


class ConsultationForm(RequestForm):
    code = "consultation"
    HINT = ("政策、物业、社区服务", "Policies, property, community services")
    ATTRIBUTES = ("topic", "reply_by")
    topic = _select(_l("Topic"), CONSULTATION_TOPICS)
    reply_by = _select(_l("How to answer you"), REPLY_CHANNELS, required=False, default="online")


class GovernmentServiceForm(RequestForm):
    code = "government_service"
    HINT = ("证明、补贴、证件等办理申请", "Certificates, allowances, cards")
    ATTRIBUTES = ("item", "applicant")
    item = _select(_l("Service"), GOV_SERVICE_ITEMS)
    applicant = _short(_l("Applicant, if not you"))


class VulnerableCareForm(RequestForm):
    code = "vulnerable_care"
    HINT = ("独居老人、残疾人、留守儿童", "Elderly living alone, people with disabilities, children left behind")
    ATTRIBUTES = ("person", "need")
    person = _select(_l("Who needs care"), CARE_PERSONS)
    need = _select(_l("What is needed"), CARE_NEEDS)


QUESTION_SETS: dict[str, type[RequestForm]] = {form.code: form for form in (
    GeneralForm, RepairForm, HazardForm, ComplaintForm, SuggestionForm, ConsultationForm, GovernmentServiceForm,
    VulnerableCareForm)}
_bound: dict[tuple[str, str], type[RequestForm]] = {}


def form_for(entry: CategoryEntry) -> type[RequestForm]:
    """The form that takes requests of this category: its question set, bound to the category
    unless the set chooses the category itself (hazards)."""
    questions = QUESTION_SETS.get(entry.form or "", GeneralForm)
    if questions.CATEGORY_FIELD:
        return questions
    key = (questions.code, entry.code)
    if key not in _bound:
        _bound[key] = type(f"{questions.__name__}_{entry.code}", (questions,), {"CATEGORY_CODE": entry.code})
    return _bound[key]


@dataclass(frozen=True)
class RequestType:
    """An entry of the pick page: one category, or a question set choosing among several."""

    code: str
    zh: str
    en: str
    hint_zh: str
    hint_en: str
    form: type[RequestForm]
    categories: tuple[str, ...]

    @property
    def label(self) -> str:
        return pick(self.zh, self.en)

    @property
    def hint(self) -> str:
        return pick(self.hint_zh, self.hint_en)


def request_types() -> dict[str, RequestType]:
    """What residents may ask for now, in the catalogue's order (read on every call: a
    category added or retired shows here within seconds)."""
    types: dict[str, RequestType] = {}
    for entry in resident_categories():
        form = form_for(entry)
        if form.CATEGORY_FIELD:
            found = types.get(form.code)
            codes = (found.categories if found else ()) + (entry.code,)
            types[form.code] = RequestType(form.code, *form.TITLE, *form.HINT, form, codes)
        else:
            types[entry.code] = RequestType(entry.code, entry.zh, entry.en, *form.HINT, form, (entry.code,))
    return types


def category_form(code: str) -> type[RequestForm] | None:
    """The form taking requests of an active resident category (an Open311 service), or None."""
    entry = next((c for c in resident_categories() if c.code == code), None)
    return form_for(entry) if entry is not None else None


OPTION_LISTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "repair.item": REPAIR_ITEMS, "complaint.subject": COMPLAINT_SUBJECTS,
    "suggestion.topic": SUGGESTION_TOPICS, "consultation.topic": CONSULTATION_TOPICS,
    "consultation.reply_by": REPLY_CHANNELS, "government_service.item": GOV_SERVICE_ITEMS,
    "vulnerable_care.person": CARE_PERSONS, "vulnerable_care.need": CARE_NEEDS,
}


def attribute_label(form_code: str, name: str, value: str) -> str:
    """The words for an attribute value (a choice's label, or the text as typed)."""
    options = OPTION_LISTS.get(f"{form_code}.{name}")
    return choice_label(options, value) if options else value


SATISFACTION = (("satisfied", "满意", "Satisfied"), ("basically_satisfied", "基本满意", "Mostly satisfied"),
                ("not_satisfied", "不满意", "Not satisfied"))


class RatingForm(Form):
    """The resident's rating at the feedback step."""

    satisfaction = RadioField(_l("How was it handled?"), [InputRequired(message=_l("Please choose a rating."))],
                              choices=_choices(SATISFACTION, blank=False),
                              invalid_choice_message=_l("Please choose a rating."))
    comment = TextAreaField(_l("Comment"), [Length(max=500, message=_l("Please keep it under %(max)d characters.",
                                                                       max=500))])

    def task_data(self) -> dict:
        return {"satisfaction": self.satisfaction.data, "comment": (self.comment.data or "").strip()}


class TrackForm(Form):
    """Find a request by its tracking number and the phone given with it."""

    ref = StringField(_l("Tracking number"), [InputRequired(message=_l("Please enter the tracking number.")),
                                              Length(max=32, message=_l("This is not a tracking number."))])
    phone = StringField(_l("Phone"), [InputRequired(message=_l("Please enter the phone number you gave.")),
                                      Length(max=24, message=_l("This is not a phone number."))])

    def validate_ref(self, field) -> None:
        field.data = (field.data or "").strip()
        if not (field.data.isascii() and field.data.isdigit()):
            raise ValidationError(_l("This is not a tracking number."))

    def validate_phone(self, field) -> None:
        if normalize_phone(field.data) is None:
            raise ValidationError(_l("This is not a phone number."))
