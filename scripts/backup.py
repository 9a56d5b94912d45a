"""Back up the three databases to one folder, or restore them from it.

    python scripts/backup.py backup [--to backups]      # writes backups/<UTC timestamp>/
    python scripts/backup.py restore backups/<timestamp>

The databases are the ones the services use (their *_DATABASE_URL settings, from the
environment or `.env`). A backup is plain SQL: `auth.sql` (pg_dump), `tasks.sql` and
`notifications.sql` (mysqldump, one consistent snapshot each), and `manifest.json` naming the
migration revision of each. A restore empties each database, loads the backup, then applies
any newer migrations. Stop the services (or at least the writers) before restoring.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from auth_service.config import Settings as AuthSettings  # noqa: E402
from common.migrations import drop_everything  # noqa: E402
from notification_service.config import Settings as NotificationSettings  # noqa: E402
from task_service.config import Settings as TaskSettings  # noqa: E402


@dataclass(frozen=True)
class Database:
    name: str
    service: str
    url: str

    @property
    def file(self) -> str:
        return f"{self.name}.sql"


def databases() -> list[Database]:
    return [
        Database("auth", "auth_service", AuthSettings().database_url),
        Database("tasks", "task_service", TaskSettings().database_url),
        Database("notifications", "notification_service", NotificationSettings().database_url),
    ]


def _client(url: str, dump: bool) -> tuple[list[str], dict[str, str]]:
    """The command line (without the database's SQL) and environment for pg_dump/psql or mysqldump/mysql."""
    parsed = make_url(url)
    if not parsed.database:
        raise SystemExit(f"{parsed.render_as_string(hide_password=True)} names no database")
    host, port, user, name = parsed.host or "127.0.0.1", str(parsed.port or ""), parsed.username or "", parsed.database
    if parsed.get_backend_name() == "postgresql":
        env = {"PGPASSWORD": parsed.password or ""}
        common = ["-h", host, "-p", port or "5432", "-U", user, "-d", name]
        if dump:
            return ["pg_dump", "--clean", "--if-exists", "--no-owner", "--no-privileges", *common], env
        return ["psql", "--quiet", "--set", "ON_ERROR_STOP=1", *common], env
    env = {"MYSQL_PWD": parsed.password or ""}
    common = ["-h", host, "-P", port or "3306", "-u", user]
    if dump:
        return [
            "mysqldump",
            "--single-transaction",
            "--no-tablespaces",
            "--add-drop-table",
            *common,
            name,
        ], env
    return ["mysql", *common, name], env


def revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def backup(destination: Path, targets: list[Database]) -> Path:
    folder = destination / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder.mkdir(parents=True)
    created_at = datetime.now(UTC).isoformat()
    revisions: dict[str, dict[str, str | None]] = {}
    for database in targets:
        command, env = _client(database.url, dump=True)
        with (folder / database.file).open("wb") as out:
            subprocess.run(command, stdout=out, env={**os.environ, **env}, check=True)
        revisions[database.name] = {"service": database.service, "revision": revision(database.url)}
    manifest = {"created_at": created_at, "databases": revisions}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return folder


def restore(folder: Path, targets: list[Database]) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    for database in targets:
        if database.name not in manifest["databases"]:
            raise SystemExit(f"{folder} holds no backup of {database.name}")
        # Tables that newer migrations added would clash with the restored schema.
        drop_everything(database.url)
        command, env = _client(database.url, dump=False)
        with (folder / database.file).open("rb") as source:
            subprocess.run(command, stdin=source, env={**os.environ, **env}, check=True)
        # The backup may predate newer migrations: bring the schema up to date.
        subprocess.run(
            [sys.executable, "-m", "alembic", "-c", f"{database.service}/alembic.ini", "upgrade", "head"],
            cwd=ROOT,
            check=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    backup_command = commands.add_parser("backup")
    backup_command.add_argument("--to", type=Path, default=ROOT / "backups")
    restore_command = commands.add_parser("restore")
    restore_command.add_argument("folder", type=Path)
    arguments = parser.parse_args()
    missing = [tool for tool in ("pg_dump", "psql", "mysqldump", "mysql") if shutil.which(tool) is None]
    if missing:
        print(f"backup: {', '.join(missing)} not found; install the PostgreSQL and MariaDB clients", file=sys.stderr)
        return 1
    if arguments.command == "backup":
        print(backup(arguments.to, databases()))
    else:
        restore(arguments.folder, databases())
    return 0


if __name__ == "__main__":
    sys.exit(main())
