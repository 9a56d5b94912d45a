"""Build Task_Manager_API.postman_collection.json from its source in postman/.

    python scripts/build_postman.py           # write the collection (`make postman`)
    python scripts/build_postman.py --check   # exit 1 if the committed collection is not what the source gives
    python scripts/build_postman.py --source DIR --output FILE   # another source, another collection file

The source (see docs/testing.md, "Postman collection"):

    postman/collection.toml            name, description, the collection's auth and variables, the folders in order
    postman/collection.test.js         the test script run after every request
    postman/shared.js                  the assertions and helpers several scripts call, each defined once
    postman/<folder>/folder.toml       the folder's name, description and auth, then its requests in run order
    postman/<folder>/<slug>.test.js    a request's tests past its status code; <slug>.prerequest.js its
                                       pre-request script (slug: the request's name in lower case, other
                                       characters as "-")

A request is a `[[request]]` table: `name`, `method`, `url` (starting with a base URL variable such as
`{{gateway_url}}`), `description`, `status` (the status code its test checks first), optionally
`auth = "none"`, `bearer = "<token>"` or `api_key = "<key>"` (sent as `X-API-Key`; otherwise it
inherits its folder's, then the collection's, auth), and a body:
`json = '''...'''` (sent as is, with `Content-Type: application/json`) or `form = {key = "value", ...}`
(form-urlencoded).

postman/shared.js is a series of blocks separated by blank lines, each a comment and one top-level
`function name(...)` or `const NAME = ...`. A request's script gets, in front of it, the blocks it
uses (by name, and those these use in turn): Postman runs each script on its own, so what a script
calls must be in it. Standard library only.
"""

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "postman"
COLLECTION = ROOT / "Task_Manager_API.postman_collection.json"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
SHARED = "shared.js"
REQUEST_KEYS = {"name", "method", "url", "description", "status", "auth", "bearer", "api_key", "json", "form"}
STATUS_TEST = """\
pm.test('Status code is {status}', function () {{
    pm.response.to.have.status({status});
}});
"""
FOLDER_KEYS = {"name", "description", "auth", "bearer", "request"}
COLLECTION_KEYS = {"name", "postman_id", "description", "bearer", "folders", "variables"}


class SourceError(Exception):
    """The source in postman/ is incomplete or inconsistent."""


def shown(path: Path) -> str:
    """`path` as messages name it: from the repository root when it is inside."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def check_keys(table: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(table.keys() - allowed)
    if unknown:
        raise SourceError(f"{where}: unknown keys {unknown} (allowed: {sorted(allowed)})")


def source_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        raise SourceError(f"{shown(path)}: must end with a newline")
    return text


def script(text: str, listen: str) -> dict:
    return {"listen": listen, "script": {"type": "text/javascript", "exec": text[:-1].split("\n")}}


class Shared:
    """The blocks of postman/shared.js by the name each defines, and which of them the scripts used."""

    def __init__(self, path: Path) -> None:
        self.where = shown(path)
        self.blocks: dict[str, str] = {}
        self.used: set[str] = set()
        for block in source_text(path).rstrip("\n").split("\n\n")[1:]:  # the first is the file's own comment
            defined = re.findall(r"^(?:function (\w+)\(|const (\w+) =)", block, re.MULTILINE)
            if len(defined) != 1:
                raise SourceError(f"{self.where}: each block defines one function or constant: {block!r}")
            name = "".join(defined[0])
            if name in self.blocks:
                raise SourceError(f"{self.where}: {name} is defined twice")
            self.blocks[name] = block

    def uses(self, text: str) -> list[str]:
        """The names `text` uses, with those they use in turn, in the order shared.js defines them."""
        needed: set[str] = set()
        pending = [text]
        while pending:
            code = re.sub(r"//.*", "", pending.pop())  # a comment naming a block does not use it
            for name, block in self.blocks.items():
                if name not in needed and re.search(rf"\b{name}\b", code):
                    needed.add(name)
                    pending.append(block)
        return [name for name in self.blocks if name in needed]

    def with_what_it_uses(self, text: str, where: str) -> str:
        for name in self.blocks:
            if re.search(rf"^(?:function {name}\(|const {name} =)", text, re.MULTILINE):
                raise SourceError(f"{where}: defines {name}, which {self.where} already does")
        names = self.uses(text)
        self.used.update(names)
        return "".join(self.blocks[name] + "\n\n" for name in names) + text


def auth(table: dict, where: str) -> dict | None:
    """`auth = "none"`, `bearer = "<token>"` or `api_key = "<key>"`; none of them inherits."""
    if len(table.keys() & {"auth", "bearer", "api_key"}) > 1:
        raise SourceError(f"{where}: give one of auth, bearer and api_key, not several")
    if "api_key" in table:
        return {
            "type": "apikey",
            "apikey": [
                {"key": "key", "value": "X-API-Key", "type": "string"},
                {"key": "value", "value": table["api_key"], "type": "string"},
                {"key": "in", "value": "header", "type": "string"},
            ],
        }
    if "bearer" in table:
        return {"type": "bearer", "bearer": [{"key": "token", "value": table["bearer"], "type": "string"}]}
    if "auth" in table:
        if table["auth"] != "none":
            raise SourceError(f'{where}: auth must be "none" (or use bearer = "...")')
        return {"type": "noauth"}
    return None


def url(raw: str, where: str) -> dict:
    match = re.fullmatch(r"(\{\{\w+\}\})/([^?#]*)(?:\?(.*))?", raw)
    if not match:
        raise SourceError(f"{where}: url {raw!r} must start with a base URL variable such as {{{{gateway_url}}}}/")
    host, path, query = match.groups()
    built = {"raw": raw, "host": [host], "path": path.split("/")}
    if query:
        built["query"] = [dict(zip(("key", "value"), pair.split("=", 1), strict=True)) for pair in query.split("&")]
    return built


def request_item(folder: Path, table: dict, used: set[Path], shared: Shared) -> dict:
    where = f"{shown(folder)}/folder.toml, request {table.get('name')!r}"
    check_keys(table, REQUEST_KEYS, where)
    missing = sorted({"name", "method", "url", "description", "status"} - table.keys())
    if missing:
        raise SourceError(f"{where}: missing {missing}")
    if "json" in table and "form" in table:
        raise SourceError(f"{where}: give either json or form, not both")

    if not isinstance(table["status"], int) or not 100 <= table["status"] <= 599:
        raise SourceError(f"{where}: status must be an HTTP status code, not {table['status']!r}")

    events = []
    for listen in ("prerequest", "test"):
        path = folder / f"{slug(table['name'])}.{listen}.js"
        text = source_text(path) if path.exists() else ""
        if listen == "test":
            # Every request checks its status code first; its own tests, when it has more, follow.
            text = STATUS_TEST.format(status=table["status"]) + (f"\n{text}" if text else "")
        if text:
            events.append(script(shared.with_what_it_uses(text, shown(path)), listen))
        if path.exists():
            used.add(path)

    request: dict = {"method": table["method"], "header": []}
    request_auth = auth(table, where)
    if request_auth:
        request["auth"] = request_auth
    if "json" in table:
        request["header"] = [{"key": "Content-Type", "value": "application/json"}]
        request["body"] = {"mode": "raw", "raw": table["json"], "options": {"raw": {"language": "json"}}}
    elif "form" in table:
        request["header"] = [{"key": "Content-Type", "value": "application/x-www-form-urlencoded"}]
        fields = [{"key": key, "value": value, "type": "text"} for key, value in table["form"].items()]
        request["body"] = {"mode": "urlencoded", "urlencoded": fields}
    request["url"] = url(table["url"], where)
    request["description"] = table["description"]
    return {"name": table["name"], "event": events, "request": request, "response": []}


def folder_item(folder: Path, shared: Shared) -> dict:
    where = f"{shown(folder)}/folder.toml"
    if not (folder / "folder.toml").exists():
        raise SourceError(f"{where} is missing")
    table = tomllib.loads((folder / "folder.toml").read_text(encoding="utf-8"))
    check_keys(table, FOLDER_KEYS, where)
    used: set[Path] = set()
    item = {
        "name": table["name"],
        "description": table["description"],
        "item": [request_item(folder, request, used, shared) for request in table.get("request", [])],
    }
    names = [request["name"] for request in item["item"]]
    duplicates = sorted({slug(name) for name in names if [slug(n) for n in names].count(slug(name)) > 1})
    if duplicates:
        raise SourceError(f"{where}: request names that give the same script name: {duplicates}")
    orphans = sorted(path.name for path in folder.glob("*.js") if path not in used)
    if orphans:
        raise SourceError(f"{shown(folder)}: scripts that name no request: {orphans}")
    folder_auth = auth(table, where)
    if folder_auth:
        item["auth"] = folder_auth
    return item


def build(source: Path = SOURCE) -> str:
    """The collection, as the JSON text that is committed."""
    table = tomllib.loads((source / "collection.toml").read_text(encoding="utf-8"))
    where = shown(source / "collection.toml")
    check_keys(table, COLLECTION_KEYS, where)
    listed = table["folders"]
    present = sorted(path.name for path in source.iterdir() if path.is_dir())
    if sorted(listed) != present:
        raise SourceError(f"{where} lists folders {listed}, {shown(source)}/ has {present}")
    shared = Shared(source / SHARED)
    collection = {
        "info": {
            "_postman_id": table["postman_id"],
            "name": table["name"],
            "description": table["description"],
            "schema": SCHEMA,
        },
        "item": [folder_item(source / name, shared) for name in listed],
        "auth": auth(table, where),
        "event": [script(source_text(source / "collection.test.js"), "test")],
        "variable": [{"key": key, "value": value, "type": "string"} for key, value in table["variables"].items()],
    }
    unused = sorted(shared.blocks.keys() - shared.used)
    if unused:
        raise SourceError(f"{shared.where}: defines what no script uses: {unused}")
    return json.dumps(collection, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if the committed file differs")
    parser.add_argument("--source", type=Path, default=SOURCE, help="the source folder (default: postman/)")
    parser.add_argument("--output", type=Path, default=COLLECTION, help="the collection file it writes or checks")
    arguments = parser.parse_args()
    try:
        built = build(arguments.source.resolve())
    except (SourceError, OSError, KeyError, tomllib.TOMLDecodeError) as error:
        print(f"build_postman: {error}", file=sys.stderr)
        return 2
    output = arguments.output.resolve()
    name, source = shown(output), shown(arguments.source.resolve())
    if arguments.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != built:
            print(f"build_postman: {name} is not what {source}/ gives; run `make postman`", file=sys.stderr)
            return 1
        print(f"{name} is up to date with {source}/")
        return 0
    output.write_text(built, encoding="utf-8")
    print(f"wrote {name} ({len(built.encode())} bytes) from {source}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
