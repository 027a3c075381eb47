"""The app's database role on PostgreSQL: every table to read and write, the audit log insert-only.

Migrations run as the schema owner (``DATABASE_OWNER_URL``); the web, worker and ingest
processes connect as the role of ``DATABASE_URL``. After every ``flask db upgrade`` (and
``flask restore``) ``secure_audit_log`` makes sure, idempotently, that this role exists,
may use every table and sequence, and may only INSERT and SELECT the audit log: no UPDATE,
DELETE or TRUNCATE, and as it does not own the table, no ALTER TABLE ... DISABLE TRIGGER.
The daily purge goes through ``audit_log_purge(days)``, a SECURITY DEFINER function owned by
the owner that deletes only entries older than the retention set at the upgrade.

SQLite has no roles: its triggers (models.access.AUDIT_GUARD_SQL) keep the log append-only.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from models.access import AUDIT_MIN_RETENTION_DAYS


class UnsafeAppRole(RuntimeError):
    """The app's role could change the audit log anyway (a superuser or a member of the owner)."""


def purge_function_sql(retention_days: int) -> str:
    floor = max(retention_days, AUDIT_MIN_RETENTION_DAYS)
    return f"""CREATE OR REPLACE FUNCTION audit_log_purge(days integer) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  WITH gone AS (DELETE FROM public.audit_log
                WHERE at < now() - make_interval(days => greatest(days, {floor})) RETURNING 1)
  SELECT count(*) FROM gone
$$"""


def secure_audit_log(connection: Connection, app_url: str, retention_days: int) -> str | None:
    """On PostgreSQL, run as the owner: create the purge function and, when the app connects
    as another role, create that role if needed and grant it what it may do. Returns the
    app role's name when one was set up. Raises UnsafeAppRole."""
    if connection.dialect.name != "postgresql":
        return None
    connection.execute(text(purge_function_sql(retention_days)))
    connection.execute(text("REVOKE ALL ON FUNCTION audit_log_purge(integer) FROM PUBLIC"))
    connection.execute(text("REVOKE ALL ON audit_log FROM PUBLIC"))
    url = make_url(app_url)
    owner = connection.scalar(text("SELECT current_user"))
    if not url.username or url.username == owner:
        return None
    quote = connection.dialect.identifier_preparer.quote
    role = quote(url.username)
    if not connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": url.username}):
        password = "" if url.password is None else " PASSWORD '" + str(url.password).replace("'", "''") + "'"
        # Two set-ups at once (test runs, rolling deploys): the second one keeps the first's role.
        connection.execute(text(f"DO $$ BEGIN CREATE ROLE {role} LOGIN{password}; "
                                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
                                .replace(":", r"\:")))
    unsafe = connection.execute(text(
        "SELECT rolsuper OR rolbypassrls OR pg_has_role(:name, current_user, 'MEMBER') "
        "FROM pg_roles WHERE rolname = :name"), {"name": url.username}).scalar_one()
    if unsafe:
        raise UnsafeAppRole(f"the app's database role {url.username!r} is a superuser or a member of the owner "
                            f"{owner!r}: it could wipe the audit log. Give the app a role of its own.")
    database = quote(connection.scalar(text("SELECT current_database()")))
    for statement in (
        f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"REVOKE ALL ON audit_log FROM {role}",
        f"GRANT SELECT, INSERT ON audit_log TO {role}",
        f"GRANT EXECUTE ON FUNCTION audit_log_purge(integer) TO {role}",
    ):
        connection.execute(text(statement))
    return url.username
