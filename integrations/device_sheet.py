"""Devices in Excel (7.3.7): the template to fill in, and reading a filled one row by row.

Columns are found by header, so they may be reordered; a header reads "设备编号 code" and
either half is enough. Every wrong cell is reported with its row and column, all at once.
"""
from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import ValidationError

from handlers.errors import Invalid
from integrations.kinds import KINDS
from integrations.registry import DeviceIn, RowError
from models.devices import DEVICE_KINDS

SHEET = "devices"
MAX_ROWS = 5000
# (field, Chinese label, required, note)
COLUMNS = [
    ("code", "设备编号", True, "设备自身编号，与 MQTT 主题中的一致：字母、数字、_ - ."),
    ("kind", "设备类型", True, "从下拉列表选择，见“类型”工作表"),
    ("name", "名称", True, "便于识别的名称"),
    ("community", "社区编码", True, "如 jinxiu"),
    ("grid", "网格编码", False, "留空则按经纬度落入网格"),
    ("building", "楼栋", False, "如 6幢；火警联动开启同楼栋门禁"),
    ("lat", "纬度", False, "WGS84，如 30.275"),
    ("lon", "经度", False, "WGS84，如 120.105"),
    ("key", "设备密钥", False, "留空则自动生成，导入结果中返回一次；至少 16 个字符"),
]
KIND_NAMES = {
    "manhole_cover": "井盖", "street_light": "路灯", "elevator": "电梯", "water_tank": "二次供水水箱",
    "water_quality": "水质监测", "smoke_detector": "烟感", "heat_detector": "温感",
    "gas_detector": "可燃气体探测器", "fire_door": "防火门", "fire_hydrant": "消防栓",
    "fire_lane": "消防通道", "ebike_camera": "电动车入楼摄像机", "throwing_camera": "高空抛物摄像机",
    "perimeter_fence": "周界", "environment_station": "环境监测站", "emergency_button": "紧急呼叫按钮",
    "garbage_bin": "垃圾桶满溢", "door_controller": "门禁控制器", "sound_light_alarm": "声光报警器",
}


def template_workbook() -> bytes:
    """An .xlsx with the device columns, a drop-down of kinds and a sheet explaining them."""
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    for index, (name, label, required, note) in enumerate(COLUMNS, 1):
        cell = sheet.cell(row=1, column=index, value=f"{label} {name}")
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="C0392B" if required else "7F8C8D")
        cell.comment = Comment(("必填。" if required else "选填。") + note, "community")
        sheet.column_dimensions[cell.column_letter].width = 16
    kinds = book.create_sheet("类型")
    kinds.append(["kind", "类型", "告警类型 (type)"])
    for kind in DEVICE_KINDS:
        kinds.append([kind, KIND_NAMES.get(kind, ""), ", ".join(a.code for a in KINDS[kind].alarms)])
    choice = DataValidation(type="list", formula1=f"='类型'!$A$2:$A${len(DEVICE_KINDS) + 1}", allow_blank=False)
    choice.error, choice.errorTitle = "请从列表中选择设备类型", "设备类型"
    sheet.add_data_validation(choice)
    choice.add(f"B2:B{MAX_ROWS + 1}")
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _header_map(header: tuple) -> tuple[dict[str, int], list[RowError]]:
    known = {name: name for name, *_ in COLUMNS} | {label: name for name, label, *_ in COLUMNS}
    found: dict[str, int] = {}
    for index, value in enumerate(header):
        text = str(value or "").strip()
        for part in [text, *text.split()]:
            if part in known:
                found.setdefault(known[part], index)
                break
    missing = [name for name, _, required, _ in COLUMNS if required and name not in found]
    return found, [RowError(1, name, "this column is missing from the header row") for name in missing]


def _cell(value) -> object:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer() and abs(value) > 180:
        return int(value)  # a numeric code typed into Excel
    return value


def read_devices(data: bytes) -> tuple[list[tuple[int, DeviceIn]], list[RowError]]:
    """The rows of a filled template, validated; raises Invalid for a file that is not an .xlsx."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise Invalid(f"the file is not an Excel .xlsx workbook ({type(exc).__name__})") from None
    sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise Invalid("the workbook is empty: fill in the template from GET /api/v1/devices/template.xlsx")
    columns, errors = _header_map(header)
    if errors:
        return [], errors
    parsed: list[tuple[int, DeviceIn]] = []
    seen: dict[str, int] = {}
    for number, values in enumerate(rows, 2):
        if number > MAX_ROWS + 1:
            errors.append(RowError(number, "", f"at most {MAX_ROWS} devices per file"))
            break
        record = {name: _cell(values[index]) if index < len(values) else None for name, index in columns.items()}
        if all(value is None for value in record.values()):
            continue
        for name in ("code", "name", "community", "grid", "building", "key", "kind"):
            if record.get(name) is not None:
                record[name] = str(record[name])
        try:
            device = DeviceIn.model_validate({k: v for k, v in record.items() if v is not None})
        except ValidationError as exc:
            errors.extend(RowError(number, ".".join(str(p) for p in e["loc"]) or "", e["msg"]) for e in exc.errors())
            continue
        if device.code in seen:
            errors.append(RowError(number, "code", f"{device.code} is also on row {seen[device.code]}"))
            continue
        seen[device.code] = number
        parsed.append((number, device))
    book.close()
    return parsed, errors
