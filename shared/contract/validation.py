"""Checking an input against the contract, and saying what is wrong in one sentence that
names the field.

Validation runs before any AWS call: invalid input never creates anything, and nothing
botocore would refuse reaches it. The schemas are compiled once per container (fastjsonschema
turns a schema into Python code: about 20 ms that a warm invocation must not pay again), on the
first validation. fastjsonschema itself (about 3 ms of imports) is loaded then too, beside the
compile it is there for, rather than in the function's import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import botocore

from shared.contract.model_schema import VERSION_KEY, checked_in_schema, running_botocore_gap
from shared.contract.rules import CROSS_FIELD_RULES, preview
from shared.contract.schema import SchemaKind, schema
from shared.errors import InvalidInput
from shared.text import cut, names_list

if TYPE_CHECKING:
    import fastjsonschema


def validate_create_request(payload: Mapping[str, Any]) -> None:
    """Check a create request (without the Terraform key): the schema, then the hand-written
    rules, then what the running botocore knows."""
    check("create", payload)
    for rule in CROSS_FIELD_RULES:
        rule(payload)
    _require_known_to_running_botocore(payload)


Validator = Callable[[Any], Any]


@cache
def _validator(kind: SchemaKind, *, detailed: bool) -> Validator:
    """Compiled once per container. The plain validator says only "valid or not" and compiles
    in a third of the time; the detailed one, whose exceptions carry the rule and the value a
    message is made of, is compiled when the first invalid input arrives."""
    import fastjsonschema

    return fastjsonschema.compile(schema(kind), detailed_exceptions=detailed)


def check(kind: SchemaKind, data: object, root: str = "") -> None:
    plain = _validator(kind, detailed=False)  # loads fastjsonschema: the except needs it
    from fastjsonschema import JsonSchemaValueException

    try:
        plain(data)
    except JsonSchemaValueException:
        try:
            _validator(kind, detailed=True)(data)
        except JsonSchemaValueException as error:
            message, field_name = _describe(error, root)
            raise InvalidInput(message, field=field_name) from None
        raise  # the two validators disagree: a fastjsonschema bug, not the caller's


def _require_known_to_running_botocore(payload: Mapping[str, Any]) -> None:
    """A member the running botocore's model lacks would be refused by botocore itself
    ("Unknown parameter in input") after the request was accepted: refuse it here instead,
    saying why, before anything is created."""
    for path in running_botocore_gap():
        if any(True for _ in _values_at(payload, path)):
            raise InvalidInput(
                f"{path.replace('[]', '[*]')} is not known to the botocore of this Lambda "
                f"runtime ({botocore.__version__}); the contract follows CodeDeploy's model as "
                f"of botocore {checked_in_schema()[VERSION_KEY]}. botocore would refuse it "
                "before calling CodeDeploy: remove it, or run the function with a newer boto3 "
                "(a newer Lambda runtime, or boto3 in a layer)",
                field=path,
            )


def _values_at(data: object, path: str) -> Iterator[object]:
    """Every value at a member path such as ``targetInstances.tagFilters[].Key``."""
    head, _, rest = path.partition(".")
    name, brackets = head.partition("[]")[0], head.count("[]")
    if not isinstance(data, Mapping) or name not in data:
        return
    values = [data[name]]
    for _ in range(brackets):
        values = [item for value in values if isinstance(value, list) for item in value]
    for value in values:
        if rest:
            yield from _values_at(value, rest)
        else:
            yield value


def _describe(error: fastjsonschema.JsonSchemaValueException, root: str) -> tuple[str, str]:
    """Turn fastjsonschema's report into one sentence that names the field, and that field."""
    path = list(error.path or ["data"])[1:]
    field_name = _field_name([root, *path] if root else path)
    rule, value = error.rule, error.value
    expected: Any = error.rule_definition
    definition: Mapping[str, Any] = error.definition or {}
    if rule == "required":
        present = value if isinstance(value, Mapping) else {}
        missing = [name for name in expected if name not in present]
        prefix = f"{field_name}." if path or root else ""
        first = f"{prefix}{missing[0]}" if missing else field_name
        return "; ".join(f"{prefix}{name} is required" for name in missing), first
    if rule == "additionalProperties":
        known = list(definition.get("properties", {}))
        extra = sorted(set(value) - set(known)) if isinstance(value, Mapping) else []
        return (
            f"unknown key(s) in {field_name}: {with_key_hints(extra, known)}; "
            f"allowed keys: {', '.join(sorted(known))}",
            field_name,
        )
    if rule == "type":
        message = f"{field_name} must be {_article(expected)}, got {json_type(value)}"
        return message + _list_of_lists_hint(expected, value, path), field_name
    if rule in ("enum", "const"):
        options = expected if isinstance(expected, list) else [expected]
        return (
            f"{field_name} must be one of {', '.join(map(str, options))}, got "
            f"{preview(value)}{_case_hint(value, options)}",
            field_name,
        )
    if rule in ("pattern", "maxLength") and "description" in definition:
        got = preview(value) if rule == "pattern" else f"{len(str(value))} characters"
        return f"{field_name} must be {definition['description']}, got {got}", field_name
    if rule == "minLength":
        if expected == 1:
            return f"{field_name} must not be empty", field_name
        return f"{field_name} must be at least {expected} characters long", field_name
    if rule == "maxLength":
        size = len(str(value))
        return (
            f"{field_name} must be at most {expected} characters long, got {size} characters",
            field_name,
        )
    if rule == "pattern":
        pattern = _unanchored(str(expected))
        return (
            f"{field_name} must match the pattern {pattern} (CodeDeploy's model), got "
            f"{preview(value)}",
            field_name,
        )
    if rule in ("minimum", "maximum"):
        bound = "at least" if rule == "minimum" else "at most"
        return f"{field_name} must be {bound} {expected}, got {preview(value)}", field_name
    if rule in ("minItems", "maxItems"):
        bound = "at least" if rule == "minItems" else "at most"
        count = len(value) if isinstance(value, list) else 0
        return f"{field_name} must have {bound} {expected} item(s), got {count}", field_name
    return f"{field_name} is invalid: {error.message}", field_name


def with_key_hints(keys: list[str], known: list[str]) -> str:
    """``key (did you mean `Key`?)``: HCL users write keys in lower case or snake case.

    The first ten keys, each cut, then how many more: a payload of a million unknown keys
    gets a message of a few hundred bytes."""
    by_form = {_key_form(name): name for name in known}
    hinted = [
        f"{_shown(key)} (did you mean `{by_form[_key_form(key)]}`?)"
        if _key_form(key) in by_form
        else _shown(key)
        for key in keys[:10]
    ]
    return names_list([*hinted, *keys[10:]], first=10, max_name_bytes=200)


def _shown(key: str) -> str:
    """A key as an error names it: control characters made visible, cut to 100 bytes."""
    return cut(key if key.isprintable() else repr(key)[1:-1], 100)


def _key_form(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def _case_hint(value: object, options: list[Any]) -> str:
    """`` (did you mean `YAML`?)`` for ``yaml``: enum values are case sensitive."""
    if not isinstance(value, str):
        return ""
    matches = [option for option in options if str(option).lower() == value.lower()]
    return f" (did you mean `{matches[0]}`?)" if matches else ""


def _list_of_lists_hint(expected: object, value: object, path: Sequence[object]) -> str:
    """ec2TagSetList is a list of tag groups, each itself a list: a flat list is the usual
    mistake."""
    if expected != "array" or not isinstance(value, Mapping) or not path:
        return ""
    if not (isinstance(path[-1], int) or str(path[-1]).isdigit()):
        return ""
    parent = _field_name(path[:-1])
    return f" ({parent} is a list of lists: write [[{{...}}]], not [{{...}}])"


def _unanchored(pattern: str) -> str:
    """``^(?:[a-z]*)$`` -> ``[a-z]*``: the pattern as the model writes it."""
    if pattern.startswith("^(?:") and pattern.endswith(")$"):
        return pattern[4:-2]
    return pattern


def _field_name(path: Sequence[object]) -> str:
    """``['revision', 's3Location', 'key']`` -> ``revision.s3Location.key``; indexes as ``[0]``."""
    name = ""
    for part in path:
        if isinstance(part, int) or str(part).isdigit():
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "input"


def _article(json_type: object) -> str:
    names = {"object": "an object", "array": "an array", "integer": "an integer"}
    kind = str(json_type)
    return names.get(kind, f"a {kind}")


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
