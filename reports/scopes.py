"""What a report covers: one grid, or a community or street (all of its grids), and who may ask."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from extensions import db
from handlers.vocabulary import Role
from models import Grid, OrgUnit, User, user_grids

SCOPE_KINDS = ("grid", "community", "street")
SCOPE_NAMES = {"grid": "网格", "community": "社区", "street": "街道"}
# The named responsible people of a grid (9.1.3), in the order the cover lists them.
STAFF_ROLES = {
    "grid_admin": "网格管理员", "police": "社区民警", "environment": "环境监督员",
    "mediator": "人民调解员", "property": "物业负责人",
}


class ScopeNotFound(LookupError):
    """No grid, community or street with that code; the message says which."""


@dataclass(frozen=True)
class GridInfo:
    id: int
    code: str
    name: str
    community: str
    staff: dict[str, str]
    workers: tuple[str, ...] = ()

    @property
    def staff_rows(self) -> list[tuple[str, str]]:
        """(role name, person) for each named role, '—' when nobody is named."""
        return [(label, self.staff.get(role) or "—") for role, label in STAFF_ROLES.items()]


@dataclass(frozen=True)
class Scope:
    kind: str
    code: str
    name: str
    # The units above it, outermost first, e.g. ("西湖区", "翠湖街道").
    parents: tuple[str, ...]
    grids: tuple[GridInfo, ...] = field(default_factory=tuple)

    @property
    def grid_ids(self) -> list[int]:
        return [g.id for g in self.grids]

    @property
    def kind_name(self) -> str:
        return SCOPE_NAMES[self.kind]

    @property
    def full_name(self) -> str:
        return " ".join((*self.parents, self.name))


def _parents(unit: OrgUnit | None) -> tuple[str, ...]:
    names = []
    while unit is not None:
        names.append(unit.name)
        unit = unit.parent
    return tuple(reversed(names))


def _grid_workers(grid_ids: list[int]) -> dict[int, list[str]]:
    rows = db.session.execute(
        select(user_grids.c.grid_id, User.name)
        .join(User, User.id == user_grids.c.user_id)
        .where(user_grids.c.grid_id.in_(grid_ids), User.role == Role.GRID_WORKER, User.active.is_(True))
        .order_by(User.account)
    ).all()
    workers: dict[int, list[str]] = {}
    for grid_id, name in rows:
        workers.setdefault(grid_id, []).append(name)
    return workers


def _grid_infos(grids: list[Grid]) -> tuple[GridInfo, ...]:
    workers = _grid_workers([g.id for g in grids]) if grids else {}
    return tuple(
        GridInfo(id=g.id, code=g.code, name=g.name, community=g.community.name,
                 staff=dict(g.staff or {}), workers=tuple(workers.get(g.id, ())))
        for g in sorted(grids, key=lambda g: g.code)
    )


def resolve_scope(kind: str, code: str) -> Scope:
    """The scope of that kind and code with its grids. Raises ScopeNotFound (unknown kind or code)."""
    code = (code or "").strip()
    if kind == "grid":
        grid = db.session.scalar(select(Grid).where(Grid.code == code))
        if grid is None:
            raise ScopeNotFound(f"no grid {code!r}")
        return Scope("grid", grid.code, grid.name, _parents(grid.community), _grid_infos([grid]))
    if kind not in ("community", "street"):
        raise ScopeNotFound(f"scope must be one of {', '.join(SCOPE_KINDS)}")
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code, OrgUnit.kind == kind))
    if unit is None:
        raise ScopeNotFound(f"no {kind} {code!r}")
    community_ids = [unit.id] if kind == "community" else list(db.session.scalars(
        select(OrgUnit.id).where(OrgUnit.parent_id == unit.id, OrgUnit.kind == "community")))
    grids = list(db.session.scalars(select(Grid).where(Grid.community_id.in_(community_ids))))
    return Scope(kind, unit.code, unit.name, _parents(unit.parent), _grid_infos(grids))


def reportable_scopes(user: User) -> list[tuple[str, str, str]]:
    """The scopes ``user`` may report on as (kind, code, name): streets, communities, then grids.

    Administrators get every scope; anyone else (the web layer lets only roles with the
    reports.view function in) gets a grid of theirs, and a community or street only when every
    grid in it is theirs."""
    units = db.session.execute(
        select(OrgUnit.id, OrgUnit.kind, OrgUnit.code, OrgUnit.name, OrgUnit.parent_id)
        .where(OrgUnit.kind.in_(("street", "community"))).order_by(OrgUnit.code)).all()
    grids = db.session.execute(select(Grid.id, Grid.code, Grid.name, Grid.community_id).order_by(Grid.code)).all()
    mine = None if user.role == Role.ADMIN else user.grid_ids
    by_unit: dict[int, set[int]] = {}
    parent = {u.id: u.parent_id for u in units}
    for g in grids:
        by_unit.setdefault(g.community_id, set()).add(g.id)
        by_unit.setdefault(parent.get(g.community_id), set()).add(g.id)

    def allowed(grid_ids: set[int]) -> bool:
        return mine is None or grid_ids <= mine

    return ([(u.kind, u.code, u.name) for u in units
             if u.kind == "street" and allowed(by_unit.get(u.id, set()))]
            + [(u.kind, u.code, u.name) for u in units
               if u.kind == "community" and allowed(by_unit.get(u.id, set()))]
            + [("grid", g.code, g.name) for g in grids if allowed({g.id})])


def may_report_on(user: User, scope: Scope) -> bool:
    """Administrators may report on every scope; anyone else on a scope whose grids are all theirs."""
    return user.role == Role.ADMIN or set(scope.grid_ids) <= user.grid_ids
