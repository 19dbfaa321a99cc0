import json

import pytest
import yaml

from tabletop.scenario.schema import json_schema

from .conftest import SCENARIO


def test_scenario_schema_for_editors():
    schema = json_schema("scenario")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:tabletop:schema:v1:scenario"
    assert schema["title"] == "tabletop scenario (tabletop/v1)"
    assert "apiVersion" in schema["properties"] and "api_version" not in schema["properties"]
    assert schema["additionalProperties"] is False
    definitions = schema["$defs"]
    assert "for" in definitions["Rule"]["properties"]
    assert definitions["Inject"]["properties"]["from"]["type"] == "string"
    assert definitions["Metadata"]["properties"]["duration"]["description"].startswith("Nominal length of the drill")
    assert definitions["Slo"]["description"].startswith("A request-based SLO")
    assert schema["properties"]["rule_files"]["description"] == "Prometheus rule files, relative to the scenario."
    assert definitions["GpuXid"]["properties"]["kind"]["const"] == "gpu_xid"
    json.dumps(schema)


def test_rubric_and_script_schemas():
    rubric = json_schema("rubric")
    assert rubric["$id"] == "urn:tabletop:schema:v1:rubric"
    assert rubric["$defs"]["RunbookSteps"]["properties"]["required"]["description"] == "Steps that count (all when absent)."
    script = json_schema("script")
    assert "as" in script["$defs"]["ScriptedCommand"]["properties"]
    with pytest.raises(ValueError, match="unknown schema kind"):
        json_schema("timeline")  # type: ignore[arg-type]


def test_bundled_scenario_matches_its_schema():
    jsonschema = pytest.importorskip("jsonschema")
    data = json.loads(json.dumps(yaml.safe_load(SCENARIO.read_text()), default=str))
    jsonschema.Draft202012Validator(json_schema("scenario")).validate(data)


@pytest.mark.parametrize(("kind", "folder"), [("fleet", "fleets"), ("sweep", "sweeps")])
def test_bundled_fleets_and_sweeps_match_their_schemas(kind: str, folder: str) -> None:
    """``tabletop schema --kind fleet|sweep`` describes the files the reliability and sweep commands read."""
    import subprocess
    import sys

    jsonschema = pytest.importorskip("jsonschema")
    printed = subprocess.run([sys.executable, "-m", "tabletop", "schema", "--kind", kind], capture_output=True,
                             text=True, check=True).stdout
    schema = json.loads(printed)
    assert schema["$id"] == f"urn:tabletop:schema:v1:{kind}"
    files = sorted((SCENARIO.parent / folder).glob("*.yaml"))
    assert files
    for path in files:
        data = json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))
        jsonschema.Draft202012Validator(schema).validate(data)
