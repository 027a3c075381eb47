"""Which rows a caller may see: the one row scope of the pages, the API and the shell (7.3.5).

A role says *what* a caller may do (``handlers.permissions``: functions and API groups); its
reach says *where*, over rows that carry a community and a grid (cases, tasks, alarms,
devices; photos through their case):

- ``all``: every row (administrators);
- ``street``: every community of the street above the caller's community (supervisors);
- ``community``: the caller's community (dispatchers);
- ``grids``: the caller's grids and their community's rows not yet in a grid (grid workers,
  department handlers, and any role an administrator adds);
- ``own``: only the cases the caller reported (residents).

On top of their place, department handlers see their department's cases in the communities
they work in, and anyone may read a case they worked a task of (it may have moved since).
API clients (other systems with an X-Api-Key) read everything the API groups an
administrator gave them allow: they are platforms a community shares its data with
(6.2.x), and views that need a person's place (cases, tasks, photos) refuse keys.

A row out of scope is answered as if it did not exist (404), never 403.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from extensions import db
from handlers.permissions import reach_of
from models import Case, Grid, OrgUnit, Photo, Task, User, user_grids


@dataclass(frozen=True)
class Scope:
    """Where a caller may look. Build it with ``scope_of_user`` or ``EVERYTHING``."""

    everything: bool = False
    # Every row of these communities.
    community_ids: frozenset[int] = frozenset()
    # Every row of these grids.
    grid_ids: frozenset[int] = frozenset()
    # Rows of this community that are in no grid yet (the community's unassigned queue).
    queue_community_id: int | None = None
    # Cases of this department in these communities (department handlers).
    department: str | None = None
    department_community_ids: frozenset[int] = frozenset()
    # The caller: cases they reported, or worked a task of.
    user_id: int | None = None
    reported_only: bool = False
    label: str = field(default="", compare=False)

    def where(self, community_column, grid_column) -> ColumnElement:
        """A query filter: rows (with these community and grid columns) in the caller's place."""
        if self.everything:
            return true()
        place = []
        if self.community_ids:
            place.append(community_column.in_(sorted(self.community_ids)))
        if self.grid_ids:
            place.append(grid_column.in_(sorted(self.grid_ids)))
        if self.queue_community_id is not None:
            place.append(and_(grid_column.is_(None), community_column == self.queue_community_id))
        return or_(*place) if place else false()

    def covers_place(self, community_id: int | None, grid_id: int | None) -> bool:
        """Whether a row at this community and grid is in the caller's place."""
        if self.everything:
            return True
        return (community_id in self.community_ids or (grid_id is not None and grid_id in self.grid_ids)
                or (grid_id is None and community_id is not None and community_id == self.queue_community_id))

    def cases_where(self) -> ColumnElement:
        """A filter on ``Case`` for lists (board, search, counts): place, department, reporter."""
        if self.everything:
            return true()
        if self.reported_only:
            return Case.reporter_id == self.user_id if self.user_id is not None else false()
        clauses = [self.where(Case.community_id, Case.grid_id)]
        if self.department and self.department_community_ids:
            clauses.append(and_(Case.department == self.department,
                                Case.community_id.in_(sorted(self.department_community_ids))))
        return or_(*clauses)

    def covers_case(self, case: Case) -> bool:
        """Whether the caller may see this case: what ``cases_where`` lists, and any case they
        worked a task of (one query, only when the place does not already say yes)."""
        if self.everything:
            return True
        if self.user_id is not None and case.reporter_id == self.user_id:
            return True
        if self.reported_only:
            return False
        if self.covers_place(case.community_id, case.grid_id):
            return True
        if (self.department and case.department == self.department
                and case.community_id in self.department_community_ids):
            return True
        if self.user_id is None:
            return False
        return bool(db.session.scalar(select(exists().where(
            Task.case_id == case.id,
            or_(Task.assignee_id == self.user_id, Task.completed_by_id == self.user_id)))))

    def covers_case_id(self, case_id: int | None) -> bool:
        """``covers_case`` for a case known by id (a missing case is covered by no one but
        the everything scope, which asks nothing)."""
        if self.everything:
            return True
        case = db.session.get(Case, case_id) if case_id is not None else None
        return case is not None and self.covers_case(case)

    def covers_photo(self, photo: Photo) -> bool:
        """A photo of a case goes with its case; one not yet cited by any case is its uploader's."""
        if self.everything:
            return True
        if photo.case_id is None:
            return self.user_id is not None and photo.uploaded_by_id == self.user_id
        return self.covers_case_id(photo.case_id)

    def covers_grids(self, grids: list[tuple[int, int]]) -> bool:
        """Whether every one of these (grid id, community id) is in the caller's place, and
        there is at least one: what a report of a grid, community or street covers."""
        if self.everything:
            return True
        return bool(grids) and all(self.covers_place(community, grid) for grid, community in grids)

    def key(self) -> str:
        """A short stable text naming this scope (for cache keys)."""
        if self.everything:
            return "all"
        return (f"c{sorted(self.community_ids)}g{sorted(self.grid_ids)}q{self.queue_community_id}"
                f"d{self.department}{sorted(self.department_community_ids)}"
                f"r{self.user_id if self.reported_only else ''}")  # lists name the user only for residents


EVERYTHING = Scope(everything=True, label="all")


def grids_of_unit(kind: str, code: str) -> list[tuple[int, int]]:
    """(grid id, community id) of every grid a grid, community or street code covers."""
    query = select(Grid.id, Grid.community_id)
    if kind == "grid":
        query = query.where(Grid.code == code)
    elif kind == "community":
        query = query.where(Grid.community_id == select(OrgUnit.id).where(OrgUnit.code == code).scalar_subquery())
    elif kind == "street":
        street = select(OrgUnit.id).where(OrgUnit.code == code).scalar_subquery()
        query = query.where(Grid.community_id.in_(select(OrgUnit.id).where(OrgUnit.parent_id == street)))
    else:
        return []
    return [(grid, community) for grid, community in db.session.execute(query).all()]


def _street_of(community_id: int) -> int | None:
    """The street above a community (walking up the organisation tree), or None."""
    seen: set[int] = set()
    unit_id: int | None = community_id
    while unit_id is not None and unit_id not in seen:
        seen.add(unit_id)
        row = db.session.execute(select(OrgUnit.kind, OrgUnit.parent_id).where(OrgUnit.id == unit_id)).first()
        if row is None:
            return None
        if row.kind == "street":
            return unit_id
        unit_id = row.parent_id
    return None


def _communities_of_street(street_id: int) -> set[int]:
    return set(db.session.scalars(select(OrgUnit.id).where(
        OrgUnit.parent_id == street_id, OrgUnit.kind == "community")))


def scope_of_user(user: User) -> Scope:
    """The scope of a person's account, by the reach of their role (see the module's doc).
    Reads their grids (ids and communities) in one query, and the street for street roles."""
    reach = reach_of(user.role)
    if reach == "all":
        return EVERYTHING
    if reach == "own":
        return Scope(user_id=user.id, reported_only=True, label="own")
    grid_rows = db.session.execute(
        select(user_grids.c.grid_id, Grid.community_id).join(Grid, Grid.id == user_grids.c.grid_id)
        .where(user_grids.c.user_id == user.id)).all()
    communities: set[int] = set()
    if reach == "street" and user.community_id is not None:
        street = _street_of(user.community_id)
        communities = _communities_of_street(street) if street is not None else {user.community_id}
    elif reach == "community" and user.community_id is not None:
        communities = {user.community_id}
    # Grids and queues of communities covered whole add nothing: a shorter filter.
    grid_ids = frozenset(grid for grid, community in grid_rows if community not in communities)
    queue = user.community_id if user.community_id not in communities else None
    department_communities: frozenset[int] = frozenset()
    if user.role == "department" and user.department:
        department_communities = frozenset({row[1] for row in grid_rows}
                                           | ({user.community_id} if user.community_id else set()))
    return Scope(community_ids=frozenset(communities), grid_ids=grid_ids, queue_community_id=queue,
                 department=user.department if department_communities else None,
                 department_community_ids=department_communities, user_id=user.id, label=reach)
