"""Turn CustomResourceDefinition files into the JSON schemas check_chart.py validates the
examples against: one file per group/kind/version, `description` fields dropped (most of the
bytes; validation does not read them).

Usage: python vendor_crd_schemas.py OUT_DIR CRD.yaml...   (see crd-schemas/README.md)
"""

import json
import pathlib
import sys

import yaml


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [strip(x) for x in node]
    return node


out = pathlib.Path(sys.argv[1])
for path in sys.argv[2:]:
    for crd in yaml.safe_load_all(pathlib.Path(path).read_text()):
        if not crd or crd.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if not version.get("served") or not schema:
                continue
            name = f"{kind.lower()}-{group.split('.')[0]}-{version['name']}.json"
            (out / name).write_text(json.dumps(
                {"apiVersion": f"{group}/{version['name']}", "kind": kind, "schema": strip(schema)},
                separators=(",", ":"), sort_keys=True) + "\n")
            print(out / name)
