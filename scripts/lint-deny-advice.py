"""Reads `cargo deny --format json check ...` (its stderr) on stdin and says,
for each error, which crate or licence it is about and what to do."""
import json
import sys


def advice(f):
    code = f.get("code", "")
    krates = [g["Krate"] for g in f.get("graphs", []) if "Krate" in g]
    who = ", ".join(f"{k['name']} {k['version']}" for k in krates) or "a crate"
    what = " / ".join(sorted({l["span"] for l in f.get("labels", []) if l.get("span")}))
    if code == "rejected":
        if any("Copyleft" in n for n in f.get("notes", [])):
            todo = ("It is copyleft, which the shipped binary must not carry: drop the dependency "
                    "or choose a crate under a permissive licence.")
        else:
            todo = ("If that licence is acceptable in a binary we ship (permissive), add it to `allow` "
                    "with the crates that need it; otherwise drop the dependency.")
        return f"crate {who}: its licence {what} is not in deny.toml's [licenses] allow list. {todo}"
    if code == "license-not-encountered":
        return f"deny.toml allows {what}, which no crate uses any more: remove it from [licenses] allow."
    if code in ("unlicensed", "no-license-field"):
        return (f"crate {who} declares no licence: read its licence file and add a "
                "[[licenses.clarify]] entry to deny.toml, or drop the dependency.")
    if code == "banned":
        name = krates[0]["name"] if krates else "CRATE"
        return (f"crate {who} is banned in deny.toml's [bans] (the reason is there): "
                f"remove what brings it in (`cargo tree -i {name}`).")
    if code == "wildcard":
        return f"{who} depends on a crate by version `*`: give it a version in Cargo.toml."
    if code.startswith("source-") or "git" in code:
        return f"crate {who} comes from a source other than crates.io ({code}): use its crates.io release."
    return f"{f.get('message', code)} ({who}): see the cargo-deny error above and deny.toml."


for line in sys.stdin:
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("type") == "diagnostic" and d["fields"].get("severity") == "error":
        print("lint: " + advice(d["fields"]), file=sys.stderr)
