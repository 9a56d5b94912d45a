"""The figures of the last `make mutation`, per module: mutants killed, survived, untested, timed out.

Reads what `mutmut results --all true` says of every mutant ("<module>.<function>__mutmut_<n>: <status>")
and leaves out those the run did not try (outside the sample). The survivors are listed by name:
`.venv/bin/mutmut show <name>` prints the change.
"""

import subprocess
import sys
from collections import Counter, defaultdict

NOT_TRIED = "not checked"
SURVIVED = "survived"
STATUSES = ("killed", SURVIVED, "no tests", "timeout", "suspicious", "segfault")


def main() -> int:
    listing = subprocess.run(
        [".venv/bin/mutmut", "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: list[str] = []
    for line in listing.splitlines():
        name, separator, status = line.strip().rpartition(": ")
        if not separator or status == NOT_TRIED:
            continue
        # Mutant names are "<module>.x_<function>__mutmut_<n>" or "<module>.xǁ<Class>ǁ<method>__mutmut_<n>".
        module = name.split(".x", 1)[0]
        by_module[module][status] += 1
        if status == SURVIVED:
            survivors.append(name)
    if not by_module:
        print("no mutant was tried: run `make mutation` first")
        return 1
    statuses = [*STATUSES, *sorted({s for counts in by_module.values() for s in counts} - set(STATUSES))]
    print(f"{'module':40}" + "".join(f"{status:>12}" for status in statuses))
    for module, counts in sorted(by_module.items()):
        print(f"{module:40}" + "".join(f"{counts[status]:>12}" for status in statuses))
    total = sum(by_module.values(), Counter())
    print(f"{'all':40}" + "".join(f"{total[status]:>12}" for status in statuses))
    tried = sum(total.values())
    print(f"\n{total['killed']} of {tried} mutants killed ({100 * total['killed'] / tried:.0f} %)")
    if survivors:
        print("\nsurvived:\n" + "\n".join(f"  {name}" for name in survivors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
