"""`fleetscan config schema` checked the way an editor uses it: the starter
that `fleetscan config init` writes, and the example configs in config/,
validate against it (jsonschema, draft 2020-12); a misspelt key does not.
"""

from __future__ import annotations

import json
import subprocess
import tomllib

import jsonschema
import pytest

from test_formats import ROOT, binary


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(subprocess.run([str(binary()), "config", "schema"], capture_output=True, text=True,
                                       check=True).stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def starter(tmp_path) -> dict:
    path = tmp_path / "fleetscan.toml"
    subprocess.run([str(binary()), "config", "init", "--path", str(path)], capture_output=True, check=True)
    return tomllib.loads(path.read_text())


def test_starter_and_example_configs_match_the_schema(validator, tmp_path):
    configs = {"starter": starter(tmp_path)}
    for name in ["example.toml", "demo.toml"]:
        configs[name] = tomllib.loads((ROOT / "config" / name).read_text())
    for name, config in configs.items():
        assert [e.message for e in validator.iter_errors(config)] == [], name


def test_schema_refuses_a_misspelt_key_and_an_unknown_format(validator, tmp_path):
    config = starter(tmp_path)
    config["aws"]["concurency"] = 3
    assert any("concurency" in e.message for e in validator.iter_errors(config))
    config = starter_copy(tmp_path)
    config["output"]["formats"] = ["html", "pdf"]
    assert any("pdf" in e.message for e in validator.iter_errors(config))


def starter_copy(tmp_path) -> dict:
    folder = tmp_path / "again"
    folder.mkdir()
    return starter(folder)
