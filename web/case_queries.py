"""The reads behind the staff pages: inbox rows and the case board (filters, search, counts
per status), within the caller's scope (``handlers.scopes``). A query or two each; nothing here writes to the database
(big counts per status are kept a few seconds in Redis)."""
from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

from flask import g
from sqlalchemy import ARRAY, Text, and_, cast, func, not_, or_, select
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.sql.elements import ColumnElement

from extensions import db, redis
from handlers.scopes import Scope
from handlers.tasks import workable_tasks_query
from models import Case, CaseSearch, Grid, Task, User, user_grids, utcnow

log = logging.getLogger(__name__)
INBOX_LIMIT = 100
BOARD_PAGE = 50
# Counting tens of thousands of cases per status costs tens of milliseconds on every page
# view: such big counts are kept this long (small ones are always counted live).
BIG_COUNT, BIG_COUNT_SECONDS = 5000, 15
MAX_TERMS = 8


def with_grid_ids(user: User) -> User:
    """The user with the ids of their grids read alone, once per request: ``user.grids``
    would load every grid with its polygon (all 200 of them for a supervisor)."""
    if g.get("grid_ids_of") != user.id:
        user.known_grid_ids = set(db.session.scalars(
            select(user_grids.c.grid_id).where(user_grids.c.user_id == user.id)))
        g.grid_ids_of = user.id
    return user


@dataclass
class InboxRow:
    """An open task with the facts of its case the inbox shows."""

    task: Task
    ref: str
    title: str
    category: str
    severity: str
    opened_at: datetime
    address: str | None
    grid_code: str | None
    grid_name: str | None


def inbox_rows(user: User, limit: int = INBOX_LIMIT) -> list[InboxRow]:
    """The user's workable tasks (theirs and claimable), earliest deadline (overdue) first.

    Two short queries rather than one join: the task index gives the first ``limit`` tasks,
    then their cases are read by id (a join let the planner scan every case)."""
    tasks = list(db.session.scalars(workable_tasks_query(user).limit(limit)))
    if not tasks:
        return []
    facts = {row[0]: row[1:] for row in db.session.execute(
        select(Case.id, Case.ref, Case.title, Case.category, Case.severity, Case.opened_at, Case.address,
               Grid.code, Grid.name)
        .outerjoin(Grid, Grid.id == Case.grid_id).where(Case.id.in_({t.case_id for t in tasks})))}
    return [InboxRow(task, *facts[task.case_id]) for task in tasks if task.case_id in facts]


def inbox_signature(user: User, since: int = 0) -> tuple[int, int, int]:
    """(tasks in the inbox, newest task id, tasks newer than ``since``), in one query: the
    page's poll reloads the list when the first two change."""
    listed = workable_tasks_query(user).order_by(None).with_only_columns(Task.id).subquery()
    count, newest, fresh = db.session.execute(select(
        func.count(), func.max(listed.c.id), func.count().filter(listed.c.id > since))).one()
    return count, newest or 0, fresh


# --- the board -------------------------------------------------------------------------------

@dataclass
class SearchTerm:
    text: str
    negated: bool = False


@dataclass
class BoardFilters:
    grid_id: int | None = None
    category: str | None = None
    status: str | None = None
    overdue: bool = False
    opened_from: datetime | None = None  # inclusive, UTC
    opened_before: datetime | None = None  # exclusive, UTC
    # AND of clauses, each an OR of terms.
    search: list[list[SearchTerm]] = field(default_factory=list)


_TOKEN = re.compile(r'-?"[^"]*"|\S+')
OR_WORDS = {"OR", "|", "或"}


def parse_search(text: str) -> list[list[SearchTerm]]:
    """Search words: all must match; ``a OR b`` either; ``-a`` must not; ``"a b"`` a phrase."""
    clauses: list[list[SearchTerm]] = []
    join_next = False
    for token in _TOKEN.findall(text or "")[: MAX_TERMS * 2]:
        if token.upper() in OR_WORDS:
            join_next = bool(clauses)
            continue
        negated = token.startswith("-") and len(token) > 1
        words = token[1:] if negated else token
        words = words.strip('"').strip()
        if not words:
            continue
        term = SearchTerm(words[:50], negated)
        if join_next and not negated:
            clauses[-1].append(term)
        else:
            clauses.append([term])
        join_next = False
    return clauses[:MAX_TERMS]


def query_grams(term: str) -> list[str]:
    """Grams of a term to look up in the gram index: its one character, or bigrams that cover
    it without overlapping (fewer posting lists to intersect; the LIKE re-check is exact)."""
    text = term.lower()
    if len(text) == 1:
        return [] if text.isspace() else [text]
    starts = list(range(0, len(text) - 1, 2))
    if len(text) % 2:
        starts.append(len(text) - 2)
    return sorted({text[i:i + 2] for i in starts if not any(c.isspace() for c in text[i:i + 2])})


def _ref_prefix(term: str) -> ColumnElement | None:
    """Refs are digits (yymmdd + number): six or more digits are taken as the start of a ref,
    searched as a range the unique index on ``ref`` answers."""
    if not (term.isdigit() and term.isascii() and len(term) >= 6):
        return None
    bound = [Case.ref >= term, Case.ref.startswith(term, autoescape=True)]
    if set(term) != {"9"}:
        bound.append(Case.ref < str(int(term) + 1).zfill(len(term)))
    return and_(*bound)


def term_condition(term: str, dialect: str, *, gram_index: bool = True) -> ColumnElement:
    """Cases whose title or description holds ``term`` (any case); a run of six or more digits
    is a case number: refs starting with it.

    A term without upper/lower case (Chinese, digits) is matched by plain LIKE, many times
    cheaper than ILIKE on multibyte text. On PostgreSQL the gram index narrows the candidates
    first (``gram_index``); within one grid a plain scan is cheaper than computing grams."""
    by_ref = _ref_prefix(term)
    if by_ref is not None:
        return by_ref
    if term.lower() == term.upper():
        hit = or_(Case.title.contains(term, autoescape=True), Case.description.contains(term, autoescape=True))
    else:
        hit = or_(Case.title.icontains(term, autoescape=True), Case.description.icontains(term, autoescape=True))
    grams = query_grams(term)
    if dialect == "postgresql" and gram_index and grams:
        hit = and_(Case.id.in_(select(CaseSearch.case_id).where(
            CaseSearch.grams.op("@>")(cast(array(grams), ARRAY(Text))))), hit)
    return hit


def board_conditions(scope: Scope, filters: BoardFilters, *, with_status: bool = True) -> list[ColumnElement]:
    """The board's filters, within the caller's scope (``handlers.scopes``)."""
    dialect = db.session.get_bind().dialect.name
    where = [] if scope.everything else [scope.cases_where()]
    if filters.grid_id is not None:
        where.append(Case.grid_id == filters.grid_id)
    if filters.category:
        where.append(Case.category == filters.category)
    if with_status and filters.status:
        where.append(Case.status == filters.status)
    if filters.overdue:
        where += [Case.due_at < utcnow(), Case.closed_at.is_(None)]
    if filters.opened_from is not None:
        where.append(Case.opened_at >= filters.opened_from)
    if filters.opened_before is not None:
        where.append(Case.opened_at < filters.opened_before)
    # A grid holds few enough cases to scan; wider searches go through the gram index.
    gram_index = filters.grid_id is None
    for clause in filters.search:
        wanted = [term_condition(t.text, dialect, gram_index=gram_index) for t in clause if not t.negated]
        where += [not_(term_condition(t.text, dialect, gram_index=False)) for t in clause if t.negated]
        if wanted:
            where.append(or_(*wanted))
    return where


BOARD_COLUMNS = (Case.id, Case.ref, Case.title, Case.category, Case.severity, Case.status,
                 Case.opened_at, Case.due_at, Case.closed_at, Case.escalated, Case.rework_count,
                 Case.address, Grid.code.label("grid_code"))


def board_page(scope: Scope, filters: BoardFilters, page: int = 1, per_page: int = BOARD_PAGE):
    """One page of matching cases of ``scope``, newest first, and whether another page follows."""
    query = (select(*BOARD_COLUMNS).outerjoin(Grid, Grid.id == Case.grid_id)
             .where(*board_conditions(scope, filters))
             .order_by(Case.opened_at.desc(), Case.id.desc())
             .offset((page - 1) * per_page).limit(per_page + 1))
    rows = db.session.execute(query).all()
    return rows[:per_page], len(rows) > per_page


def status_counts(scope: Scope, filters: BoardFilters) -> tuple[dict[str, int], bool]:
    """How many matching cases are in each status (the status filter itself left out), and
    whether they were kept from a count at most BIG_COUNT_SECONDS old (only when there are
    more than BIG_COUNT of them)."""
    key = _count_key(scope, filters)
    cached = _cached_counts(key)
    if cached is not None:
        return cached, True
    query = (select(Case.status, func.count()).where(*board_conditions(scope, filters, with_status=False))
             .group_by(Case.status))
    counts = dict(db.session.execute(query).all())
    if sum(counts.values()) > BIG_COUNT:
        try:
            redis.client.set(key, json.dumps(counts), ex=BIG_COUNT_SECONDS)
        except Exception:  # noqa: BLE001 - a cache that is down only costs time
            log.warning("board counts not cached: Redis unavailable")
    return counts, False


def _count_key(scope: Scope, filters: BoardFilters) -> str:
    wanted = {**asdict(filters), "status": None}
    digest = hashlib.sha256(json.dumps([scope.key(), wanted], default=str, sort_keys=True).encode()).hexdigest()
    return f"{redis.queue_prefix}:board-counts:{digest[:32]}"


def _cached_counts(key: str) -> dict[str, int] | None:
    try:
        raw = redis.client.get(key)
    except Exception:  # noqa: BLE001
        return None
    return json.loads(raw) if raw else None


def board_grids(scope: Scope) -> list:
    """(id, code, name) of the grids the board may filter by (those of the caller's place,
    and of the communities it reaches): no polygons."""
    query = select(Grid.id, Grid.code, Grid.name).order_by(Grid.code)
    if not scope.everything:
        query = query.where(scope.where(Grid.community_id, Grid.id))
    return list(db.session.execute(query).all())
