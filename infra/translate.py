#!/usr/bin/env python3
"""Translate the SAM template to plain CloudFormation, offline.

Usage: translate.py [TEMPLATE] [OUTPUT]   (defaults: infra/template.yaml, stdout)

Local code paths (CodeUri: ..) are first replaced by placeholder S3 URIs, as
`sam package` would do after `sam build`; the translator accepts only S3 URIs.

Uses samtranslator's Translator directly (not samtranslator.translator.transform,
whose managed-policy loader calls IAM): the region comes from a boto3 Session
built with a fixed region name (no credentials, no network), and managed policy
names resolve through the static map below.
"""

import json
import os
import sys

# Never reach for credentials or instance metadata.
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

import boto3  # noqa: E402
from samtranslator.parser.parser import Parser  # noqa: E402
from samtranslator.translator.translator import Translator  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

REGION = "ap-southeast-3"
PARTITION = "aws"
ACCOUNT_ID = "123456789012"  # fake; only used where SAM needs a value

# Managed policies referenced by name in the template's Policies (none today:
# all function policies are SAM policy templates). The basic execution role
# SAM attaches to every function is listed for completeness.
MANAGED_POLICY_MAP = {
    "AWSLambdaBasicExecutionRole": f"arn:{PARTITION}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
}


# Properties that `sam package` uploads, by resource type.
PACKAGED_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}
PLACEHOLDER_BUCKET = "pantau-sam-artifacts-placeholder"


def _is_local_path(value) -> bool:
    return isinstance(value, str) and not value.startswith("s3://")


def fake_package(sam_template: dict) -> None:
    """Point local artifact paths at placeholder S3 objects, in place."""
    globals_fn = sam_template.get("Globals", {}).get("Function", {})
    if _is_local_path(globals_fn.get("CodeUri")):
        globals_fn["CodeUri"] = f"s3://{PLACEHOLDER_BUCKET}/globals.zip"
    for logical_id, resource in sam_template.get("Resources", {}).items():
        prop = PACKAGED_PROPERTIES.get(resource.get("Type"))
        props = resource.get("Properties") or {}
        if prop and _is_local_path(props.get(prop)):
            props[prop] = f"s3://{PLACEHOLDER_BUCKET}/{logical_id}.zip"


def translate(template_text: str) -> dict:
    sam_template = yaml_parse(template_text)
    fake_package(sam_template)
    session = boto3.session.Session(region_name=REGION)
    translator = Translator(MANAGED_POLICY_MAP, Parser(), boto_session=session)
    parameter_values = {
        "AWS::Region": REGION,
        "AWS::Partition": PARTITION,
        "AWS::AccountId": ACCOUNT_ID,
    }
    return translator.translate(
        sam_template,
        parameter_values=parameter_values,
        get_managed_policy_map=lambda: MANAGED_POLICY_MAP,
    )


def main(argv: list[str]) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    src = argv[1] if len(argv) > 1 else os.path.join(here, "template.yaml")
    with open(src, encoding="utf-8") as f:
        text = f.read()
    try:
        out = translate(text)
    except Exception as e:  # samtranslator raises InvalidDocumentException with causes
        causes = getattr(e, "causes", None) or []
        print(f"translate: {src}: {e}", file=sys.stderr)
        for cause in causes:
            print(f"  - {getattr(cause, 'message', cause)}", file=sys.stderr)
        return 1
    data = json.dumps(out, indent=2, sort_keys=False) + "\n"
    if len(argv) > 2:
        with open(argv[2], "w", encoding="utf-8") as f:
            f.write(data)
    else:
        sys.stdout.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
