"""The committed Postman collection is what its source in postman/ builds, and the source's scripts parse."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

# Compiles each file given (without running it) and names those that do not parse.
COMPILE_EACH = """
const fs = require('fs'), vm = require('vm');
for (const file of process.argv.slice(1)) {
    try { new vm.Script(fs.readFileSync(file, 'utf8'), {filename: file}); }
    catch (error) { console.log(file + ': ' + error.message); process.exitCode = 1; }
}
"""


def test_the_committed_collection_is_what_the_source_builds() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_postman.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr + "(edit postman/, then `make postman` rebuilds the collection)"


def test_every_script_is_valid_javascript() -> None:
    node = shutil.which("node")
    assert node, "node is missing: newman needs Node.js 16 or later (see docs/testing.md)"
    scripts = sorted(str(path) for path in (ROOT / "postman").rglob("*.js"))
    assert len(scripts) > 100

    result = subprocess.run([node, "-e", COMPILE_EACH, *scripts], capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stdout + result.stderr


SHARED_JS = """\
// The checks the scripts share.

// What expectMissing calls.
function expectDetail(detail) {
    pm.expect(pm.response.json().detail).to.eql(detail);
}

// What the request's script calls.
function expectMissing() {
    expectDetail('Task not found');
}
"""


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A source folder of one request, whose test script calls a shared check."""
    folder = tmp_path / "postman"
    (folder / "tasks").mkdir(parents=True)
    (folder / "collection.toml").write_text(
        'name = "n"\npostman_id = "p"\ndescription = "d"\nfolders = ["tasks"]\n[variables]\ntask_url = "u"\n'
    )
    (folder / "collection.test.js").write_text("// after every request\n")
    (folder / "shared.js").write_text(SHARED_JS)
    (folder / "tasks" / "folder.toml").write_text(
        'name = "Tasks"\ndescription = "d"\n\n[[request]]\nname = "Get missing task"\nmethod = "GET"\n'
        'url = "{{task_url}}/tasks/0"\nstatus = 404\ndescription = "d"\n'
    )
    (folder / "tasks" / "get-missing-task.test.js").write_text("expectMissing();\n")
    return folder


def build(source: Path) -> subprocess.CompletedProcess:
    output = source.parent / "collection.json"
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_postman.py"), "--source", str(source), "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_script_gets_its_status_check_and_the_shared_blocks_it_uses_in_front_of_it(source):
    result = build(source)

    assert result.returncode == 0, result.stderr
    [folder] = json.loads((source.parent / "collection.json").read_text())["item"]
    [event] = folder["item"][0]["event"]
    script = "\n".join(event["script"]["exec"])
    # The block the script calls, and the one that block calls, in shared.js's order; then the status check.
    assert script.count("function expectDetail(") == script.count("function expectMissing(") == 1
    assert script.index("function expectDetail(") < script.index("function expectMissing(")
    assert script.index("function expectMissing(") < script.index("pm.response.to.have.status(404);")
    assert script.endswith("});\n\nexpectMissing();")


def test_a_script_that_defines_a_shared_function_again_is_refused(source):
    script = source / "tasks" / "get-missing-task.test.js"
    script.write_text("function expectDetail(detail) {}\n" + script.read_text())

    result = build(source)

    assert result.returncode == 2
    assert "defines expectDetail, which" in result.stderr


def test_a_shared_block_no_script_uses_is_refused(source):
    (source / "tasks" / "get-missing-task.test.js").write_text("expectDetail('Task not found');\n")

    result = build(source)

    assert result.returncode == 2
    assert "defines what no script uses: ['expectMissing']" in result.stderr
