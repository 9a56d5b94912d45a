"""The committed Postman collection is what its source in postman/ builds, and the source's scripts parse."""

import shutil
import subprocess
import sys

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
