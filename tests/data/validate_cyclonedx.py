"""Validates CycloneDX JSON documents against the specification's JSON schema.

Usage: python validate_cyclonedx.py FILE...   (run with the venv `cargo xtask setup` makes)
Prints `valid FILE` or the first schema violation; the exit status counts the invalid files.
"""
import json
import sys

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

invalid = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as file:
        text = file.read()
    version = json.loads(text).get("specVersion", "")
    schema = SchemaVersion.from_version(version)
    error = JsonStrictValidator(schema).validate_str(text)
    if error is None:
        print(f"valid {path} (CycloneDX {version})")
    else:
        invalid += 1
        print(f"invalid {path}: {error.data.message} at {list(error.data.absolute_path)}")
sys.exit(invalid)
