"""``flask demo``: one street, two communities, six grids, their people and devices."""
from __future__ import annotations

import hashlib

import click
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from extensions import db
from handlers.catalogue import active_departments, ensure_catalogue
from handlers.grids import invalidate_grid_index
from handlers.vocabulary import Role
from integrations.broker_files import mosquitto_hash
from models import Device, Grid, OrgUnit, User, transaction
from models.devices import DEVICE_KINDS
from web.commands.demo_residents import DEMO_OPEN311_KEY, add_demo_residents
from workflows.specs import deploy_shipped_files

DEMO_PASSWORD = "demo1234"
# Two communities side by side, each three grids wide (lon, lat; WGS84).
COMMUNITIES = [
    ("jinxiu", "锦绣社区", "JX", 120.100),
    ("cuiyuan", "翠苑社区", "CY", 120.130),
]
GRID_WIDTH, LAT_SOUTH, LAT_NORTH = 0.010, 30.270, 30.280
GRID_STAFF_ROLES = ("grid_admin", "police", "environment", "mediator", "property")
# Named responsible people of each grid (9.1.3): five per grid, thirty in all.
STAFF_NAMES = (
    "王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴婷",
    "徐强", "孙丽", "马超", "朱琳", "胡斌", "郭芳", "何勇", "高洁", "林涛", "罗娟",
    "郑凯", "梁燕", "谢鹏", "宋雪", "唐亮", "许慧", "韩冰", "冯刚", "邓颖", "曹阳",
)


def device_key(code: str) -> str:
    """The demo key of a device; real keys are issued at registration."""
    return f"demo-key-{code}"


def hash_device_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _box(west: float, south: float, east: float, north: float) -> dict:
    return {"type": "Polygon", "coordinates": [[
        [west, south], [east, south], [east, north], [west, north], [west, south]]]}


def build_demo_community() -> dict:
    """Create the demo community; returns what was made. Does nothing if it exists."""
    if db.session.scalar(select(OrgUnit).where(OrgUnit.code == "cuihu")) is not None:
        return {"created": False}
    password = generate_password_hash(DEMO_PASSWORD)
    with transaction():
        deploy_shipped_files()  # the process files of bpmn/ as version 1 (if never deployed)
        ensure_catalogue()  # the shipped categories and departments (the migration seeds them too)
        district = OrgUnit(kind="district", code="xihu", name="西湖区")
        street = OrgUnit(kind="street", code="cuihu", name="翠湖街道", parent=district)
        db.session.add_all([district, street])
        grids, communities = [], []
        for c_index, (code, name, prefix, west) in enumerate(COMMUNITIES):
            community = OrgUnit(kind="community", code=code, name=name, parent=street)
            communities.append(community)
            db.session.add(community)
            for i in range(3):
                g_west = west + i * GRID_WIDTH
                grid = Grid(
                    code=f"{prefix}-0{i + 1}", name=f"{name}第{i + 1}网格", community=community,
                    boundary=_box(g_west, LAT_SOUTH, g_west + GRID_WIDTH, LAT_NORTH),
                    staff={role: STAFF_NAMES[(c_index * 3 + i) * 5 + n]
                           for n, role in enumerate(GRID_STAFF_ROLES)},
                )
                grids.append(grid)
                db.session.add(grid)
        db.session.flush()
        users = [
            User(account="admin", name="系统管理员", role=Role.ADMIN, community=communities[0]),
            User(account="supervisor", name="街道督办员", role=Role.SUPERVISOR, community=communities[0],
                 grids=list(grids)),
        ]
        for i, community in enumerate(communities):
            own = [g for g in grids if g.community_id == community.id]
            users.append(User(account="dispatcher" if i == 0 else f"dispatcher{i + 1}",
                              name=f"{community.name}受理员", role=Role.DISPATCHER,
                              community=community, grids=own))
        for n, grid in enumerate(grids, 1):
            users.append(User(account=f"gw{n:02d}", name=f"网格员{n:02d}", role=Role.GRID_WORKER,
                              community=grid.community, grids=[grid]))
        for department in active_departments():
            users.append(User(account=f"dept_{department.code}", name=department.zh, role=Role.DEPARTMENT,
                              department=department.code, community=communities[0], grids=list(grids)))
        for user in users:
            user.password_hash = password
        db.session.add_all(users)
        devices = _demo_devices(grids)
        db.session.add_all(devices)
        add_demo_residents(communities, grids)
    invalidate_grid_index()
    return {"created": True, "grids": len(grids), "users": len(users), "devices": len(devices)}


def _demo_devices(grids: list[Grid]) -> list[Device]:
    devices = []
    for k, kind in enumerate(DEVICE_KINDS):
        for j in range(2):
            grid = grids[(k + j * 3) % len(grids)]
            west = grid.boundary["coordinates"][0][0][0]
            code = f"{kind}-{j + 1:02d}"
            devices.append(Device(
                code=code, kind=kind, name=f"{kind} {j + 1}", community_id=grid.community_id,
                grid_id=grid.id, building=f"{(k % 9) + 1}幢",
                lat=LAT_SOUTH + 0.002 + 0.001 * j, lon=west + 0.002 + 0.0002 * k,
                key_hash=hash_device_key(device_key(code)), status="unknown",
                # Demo devices sign in to the project's broker with code and demo key too.
                broker_hash=mosquitto_hash(device_key(code)),
            ))
    return devices


@click.command("demo")
def demo_command():
    """Create the demo community (idempotent) and print the accounts."""
    made = build_demo_community()
    if not made["created"]:
        click.echo("the demo community exists already")
    else:
        click.echo(f"demo community: {made['grids']} grids, {made['users']} accounts, "
                   f"{made['devices']} devices")
    click.echo(f"accounts: admin, dispatcher, dispatcher2, supervisor, gw01..gw06, dept_<department>;"
               f" password {DEMO_PASSWORD}")
    click.echo(f"Open311: /open311/v2/services.json; api_key {DEMO_OPEN311_KEY}")
