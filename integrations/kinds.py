"""Per device kind: the alarm types it raises, the readings it sends and how both are graded.

Grades are the case severities (low < normal < high < urgent, seed 6.2.3.6 c). A reading
outside its normal band raises the band's alarm; back inside by the hysteresis it clears it,
so a value hovering on the limit does not open and close cases all day.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from integrations.payloads import EventIn, Rejected

SEVERITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
OFFLINE = "offline"
# Kinds whose silence is itself a hazard: their offline alarm is graded higher.
LIFE_SAFETY_KINDS = frozenset({"smoke_detector", "heat_detector", "gas_detector", "fire_hydrant",
                               "emergency_button", "fire_door"})


def graver(a: str, b: str) -> str:
    return a if SEVERITY_RANK[a] >= SEVERITY_RANK[b] else b


@dataclass(frozen=True)
class AlarmType:
    """An alarm a kind can raise and its base grade; the case category it opens is the
    catalogue's (``handlers.catalogue.alarm_category``), editable without code."""

    code: str
    severity: str
    # (quantity, at least, severity): a reading that makes this alarm graver.
    escalate: tuple[tuple[str, float, str], ...] = ()
    needs_snapshot: bool = False


@dataclass(frozen=True)
class Quantity:
    name: str
    unit: str
    lowest: float  # plausible range: outside it the sensor is broken, the message rejected
    highest: float


@dataclass(frozen=True)
class Limit:
    """A quantity's normal band [low, high]; outside raises ``alarm``, graver past severe_*."""

    quantity: str
    alarm: str
    low: float | None = None
    high: float | None = None
    hysteresis: float = 0.0
    severe_low: float | None = None
    severe_high: float | None = None
    severe: str = "urgent"

    def judge(self, value: float, base: str) -> tuple[bool, str] | None:
        """(True, severity) out of band, (False, base) back in band, None in the hysteresis zone."""
        if (self.high is not None and value > self.high) or (self.low is not None and value < self.low):
            severe = ((self.severe_high is not None and value >= self.severe_high)
                      or (self.severe_low is not None and value <= self.severe_low))
            return True, self.severe if severe else base
        inside_high = self.high is None or value <= self.high - self.hysteresis
        inside_low = self.low is None or value >= self.low + self.hysteresis
        return (False, base) if inside_high and inside_low else None


@dataclass(frozen=True)
class KindSpec:
    kind: str
    alarms: tuple[AlarmType, ...] = ()
    quantities: tuple[Quantity, ...] = ()
    limits: tuple[Limit, ...] = ()
    # Fault code -> severity (elevators); an unknown code keeps the alarm type's severity.
    codes: dict[str, str] = field(default_factory=dict)

    def alarm(self, code: str) -> AlarmType | None:
        return next((a for a in self.alarms if a.code == code), None)

    def quantity(self, name: str) -> Quantity | None:
        return next((q for q in self.quantities if q.name == name), None)


@dataclass(frozen=True)
class Signal:
    """One alarm of a device raised (again) or cleared by a message."""

    alarm: str
    raised: bool
    severity: str
    detail: dict


BATTERY = Quantity("battery_pct", "%", 0, 100)
SIGNAL = Quantity("rssi_dbm", "dBm", -150, 0)
COMMON = (BATTERY, SIGNAL)

KINDS: dict[str, KindSpec] = {spec.kind: spec for spec in [
    KindSpec("manhole_cover", (
        AlarmType("tilt", "normal"),
        AlarmType("open", "high"),
        AlarmType("fault", "low"),
    ), (Quantity("tilt_deg", "°", 0, 180), *COMMON),
        (Limit("tilt_deg", "tilt", high=15, hysteresis=5, severe_high=45, severe="high"),)),
    KindSpec("street_light", (
        AlarmType("lamp_fault", "normal"),
        AlarmType("terminal_fault", "normal"),
        AlarmType("cable_fault", "high"),
    ), (Quantity("voltage_v", "V", 0, 500), Quantity("current_a", "A", 0, 100),
        Quantity("power_w", "W", 0, 5000), *COMMON)),
    KindSpec("elevator", (AlarmType("fault", "high"),),
             (Quantity("floor", "", -10, 200), Quantity("speed_mps", "m/s", 0, 20),
              Quantity("load_kg", "kg", 0, 10000), *COMMON),
             codes={"trapped": "urgent", "overspeed": "urgent", "unintended_movement": "urgent",
                    "door_open_moving": "urgent", "stopped_out_of_zone": "high",
                    "power_failure": "high", "door_fault": "normal", "overheat": "normal",
                    "maintenance_due": "low"}),
    KindSpec("water_tank", (
        AlarmType("level_low", "normal"),
        AlarmType("level_high", "normal"),
        AlarmType("lid_open", "high"),
    ), (Quantity("level_pct", "%", 0, 100), Quantity("water_temp_c", "°C", -10, 100), *COMMON),
        (Limit("level_pct", "level_low", low=20, hysteresis=5, severe_low=10, severe="high"),
         Limit("level_pct", "level_high", high=95, hysteresis=3, severe_high=99.5, severe="high"))),
    # GB 5749-2022 limits for drinking water at the tap.
    KindSpec("water_quality", (
        AlarmType("turbidity", "high"),
        AlarmType("residual_chlorine", "high"),
        AlarmType("ph", "high"),
        AlarmType("conductivity", "normal"),
        AlarmType("colour", "normal"),
    ), (Quantity("turbidity_ntu", "NTU", 0, 4000), Quantity("chlorine_mg_l", "mg/L", 0, 20),
        Quantity("ph", "", 0, 14), Quantity("conductivity_us_cm", "µS/cm", 0, 20000),
        Quantity("colour_pcu", "PCU", 0, 500), *COMMON),
        (Limit("turbidity_ntu", "turbidity", high=1, hysteresis=0.2, severe_high=3),
         Limit("chlorine_mg_l", "residual_chlorine", low=0.05, high=2, hysteresis=0.02, severe_low=0.01,
               severe_high=4),
         Limit("ph", "ph", low=6.5, high=8.5, hysteresis=0.1, severe_low=5.5, severe_high=9.5),
         Limit("conductivity_us_cm", "conductivity", high=1000, hysteresis=50, severe_high=2000, severe="high"),
         Limit("colour_pcu", "colour", high=15, hysteresis=2, severe_high=30, severe="high"))),
    KindSpec("smoke_detector", (AlarmType("smoke", "urgent"),),
             (Quantity("obscuration_pct_m", "%/m", 0, 100), Quantity("temperature_c", "°C", -40, 200), *COMMON)),
    KindSpec("heat_detector", (AlarmType("heat", "urgent"),),
             (Quantity("temperature_c", "°C", -40, 200), *COMMON),
             (Limit("temperature_c", "heat", high=57, hysteresis=5, severe="urgent"),)),
    KindSpec("gas_detector", (AlarmType("gas", "high", escalate=(("lel_pct", 25, "urgent"),)),),
             (Quantity("lel_pct", "%LEL", 0, 100), *COMMON),
             (Limit("lel_pct", "gas", high=10, hysteresis=2, severe_high=25, severe="urgent"),)),
    KindSpec("fire_door", (AlarmType("open", "normal", escalate=(("open_s", 600, "high"),)),),
             (Quantity("open_s", "s", 0, 10**7), *COMMON)),
    # GB 50974: an outdoor hydrant keeps at least 0.10 MPa.
    KindSpec("fire_hydrant", (
        AlarmType("pressure_low", "high"),
        AlarmType("leak", "high"),
        AlarmType("tamper", "normal"),
        AlarmType("collision", "high"),
    ), (Quantity("pressure_mpa", "MPa", 0, 5), Quantity("tilt_deg", "°", 0, 180), *COMMON),
        (Limit("pressure_mpa", "pressure_low", low=0.10, hysteresis=0.02, severe_low=0.05),)),
    KindSpec("fire_lane", (AlarmType("blocked", "high",
                                     escalate=(("blocked_s", 900, "urgent"),)),),
             (Quantity("blocked_s", "s", 0, 10**7),)),
    KindSpec("ebike_camera", (AlarmType("ebike", "high"),),
             (Quantity("confidence", "", 0, 1), Quantity("floor", "", -10, 200))),
    KindSpec("throwing_camera", (AlarmType("throwing", "high",
                                           escalate=(("floor", 10, "urgent"),), needs_snapshot=True),),
             (Quantity("confidence", "", 0, 1), Quantity("floor", "", -10, 200))),
    KindSpec("perimeter_fence", (
        AlarmType("intrusion", "high"),
        AlarmType("cut", "urgent"),
    ), (Quantity("zone", "", 0, 10**6), *COMMON)),
    # GB 3096 (noise, class 4a daytime), GB 3095 (PM, class 2 daily), gale force 8 (wind).
    KindSpec("environment_station", (
        AlarmType("noise", "normal"),
        AlarmType("pm25", "normal"),
        AlarmType("pm10", "normal"),
        AlarmType("heat", "normal"),
        AlarmType("wind", "normal"),
    ), (Quantity("noise_db", "dB(A)", 0, 160), Quantity("pm25_ug_m3", "µg/m³", 0, 3000),
        Quantity("pm10_ug_m3", "µg/m³", 0, 5000), Quantity("temperature_c", "°C", -60, 70),
        Quantity("humidity_pct", "%", 0, 100), Quantity("pressure_hpa", "hPa", 500, 1100),
        Quantity("wind_speed_mps", "m/s", 0, 100), Quantity("wind_dir_deg", "°", 0, 360)),
        (Limit("noise_db", "noise", high=70, hysteresis=3, severe_high=85, severe="high"),
         Limit("pm25_ug_m3", "pm25", high=75, hysteresis=10, severe_high=150, severe="high"),
         Limit("pm10_ug_m3", "pm10", high=150, hysteresis=15, severe_high=250, severe="high"),
         Limit("temperature_c", "heat", high=40, hysteresis=2, severe_high=43, severe="high"),
         Limit("wind_speed_mps", "wind", high=17.2, hysteresis=2, severe_high=24.5, severe="high"))),
    KindSpec("emergency_button", (AlarmType("pressed", "urgent"),), COMMON),
    KindSpec("garbage_bin", (AlarmType("full", "low"),),
             (Quantity("fill_pct", "%", 0, 100), *COMMON),
             (Limit("fill_pct", "full", high=85, hysteresis=25, severe_high=100, severe="normal"),)),
    KindSpec("door_controller", (
        AlarmType("forced", "high"),
        AlarmType("held_open", "normal", escalate=(("open_s", 900, "high"),)),
    ), (Quantity("open_s", "s", 0, 10**7), *COMMON)),
    # The monitoring room's sound and light unit: it takes commands and sends heartbeats only.
    KindSpec("sound_light_alarm", (), COMMON),
]}


def kind_spec(kind: str) -> KindSpec:
    """The spec of a device kind; raises Rejected for a kind we do not know."""
    spec = KINDS.get(kind)
    if spec is None:
        raise Rejected("unknown_kind", f"no payload schema for device kind {kind!r}")
    return spec


def checked_readings(spec: KindSpec, readings: dict[str, float]) -> dict[str, float]:
    """The readings, each a known quantity of the kind within its plausible range; raises Rejected."""
    for name, value in readings.items():
        quantity = spec.quantity(name)
        if quantity is None:
            known = ", ".join(q.name for q in spec.quantities) or "none"
            raise Rejected("bad_reading", f"{spec.kind} has no reading {name!r}; known: {known}")
        if not quantity.lowest <= value <= quantity.highest:
            raise Rejected("bad_reading", f"{name}={value} is outside {quantity.lowest}..{quantity.highest}"
                                          f" {quantity.unit}: a broken sensor?".rstrip())
    return readings


def interpret(kind: str, event: EventIn) -> list[Signal]:
    """The alarms an event raises or clears, graded. Raises Rejected (unknown_type, bad_reading,
    invalid_payload) for what the kind cannot send."""
    spec = kind_spec(kind)
    readings = checked_readings(spec, event.readings)
    detail = _detail(event)
    explicit: Signal | None = None
    if event.type not in ("reading", "heartbeat"):
        alarm = spec.alarm(event.type)
        if alarm is None:
            known = ", ".join([a.code for a in spec.alarms] + ["reading", "heartbeat"])
            raise Rejected("unknown_type", f"{kind} sends no {event.type!r}; its types: {known}")
        if event.state == "clear":
            explicit = Signal(alarm.code, False, alarm.severity, detail)
        else:
            if alarm.needs_snapshot and not event.snapshot:
                raise Rejected("invalid_payload", f"snapshot: a {event.type} alarm needs its snapshot reference")
            explicit = Signal(alarm.code, True, _grade(spec, alarm, event, readings), detail)
    elif event.state == "clear":
        raise Rejected("invalid_payload", "state: 'clear' needs the alarm type it clears in 'type'")
    signals = [explicit] if explicit else []
    for limit in spec.limits:
        if limit.quantity not in readings or (explicit and explicit.alarm == limit.alarm):
            continue
        alarm = spec.alarm(limit.alarm)
        verdict = limit.judge(readings[limit.quantity], alarm.severity)
        if verdict is not None:
            raised, severity = verdict
            signals.append(Signal(alarm.code, raised, severity,
                                  {**detail, "quantity": limit.quantity, "value": readings[limit.quantity]}))
    return signals


def _grade(spec: KindSpec, alarm: AlarmType, event: EventIn, readings: dict[str, float]) -> str:
    severity = alarm.severity
    if event.code is not None and event.code in spec.codes:
        severity = spec.codes[event.code]
    for quantity, at_least, graver_severity in alarm.escalate:
        if readings.get(quantity, float("-inf")) >= at_least:
            severity = graver(severity, graver_severity)
    for limit in spec.limits:
        if limit.alarm == alarm.code and limit.quantity in readings:
            verdict = limit.judge(readings[limit.quantity], alarm.severity)
            if verdict and verdict[0]:
                severity = graver(severity, verdict[1])
    return severity


def _detail(event: EventIn) -> dict:
    detail: dict = {"msg_id": event.msg_id}
    if event.ts is not None:
        detail["ts"] = event.ts.isoformat()
    if event._clock_ahead is not None:  # noted for whoever checks the device
        detail["device_clock_ahead"] = event._clock_ahead.isoformat()
    for name in ("code", "snapshot", "message"):
        value = getattr(event, name)
        if value:
            detail[name] = value
    if event.readings:
        detail["readings"] = dict(event.readings)
    return detail


def offline_signal(kind: str, last_seen: str | None) -> Signal:
    """The device_offline alarm of a silent device, graver for life-safety devices."""
    severity = "normal" if kind in LIFE_SAFETY_KINDS else "low"
    return Signal(OFFLINE, True, severity, {"last_seen_at": last_seen})


def back_online_signal() -> Signal:
    return Signal(OFFLINE, False, "low", {})
