"""The published event contracts (movieverse.contracts): each payload is defined once, by the
service that publishes it; every event a service consumes has a contract; and a contract changes
in place only compatibly -- anything else is a new version.

``event_schemas.json`` (next to this file) holds the JSON schema of every published version. A
compatible change (a new optional field) is recorded with
``MOVIEVERSE_RECORD_EVENT_SCHEMAS=1 pytest tests/contract/test_event_contracts.py``; a breaking
one (a field removed or retyped, a new required field) fails until the contract's
``event_version`` is bumped.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import pkgutil
import re
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

import movieverse.contracts
import movieverse.services
from movieverse.contracts.envelope import EventPayload, new_event
from movieverse.contracts.movies import MovieCreated, MovieUpdated, read_snapshot
from movieverse.contracts.users import UserDeleted
from movieverse.platform.events.consumers import Consumer
from tests.support import movie_snapshot_fields

SRC = Path(movieverse.__file__).parent
SCHEMAS = Path(__file__).with_name("event_schemas.json")


def published() -> dict[str, type[EventPayload]]:
    """Every contract, by event type: the classes of movieverse.contracts that name one."""
    found: dict[str, type[EventPayload]] = {}
    for module_info in pkgutil.iter_modules(movieverse.contracts.__path__):
        module = importlib.import_module(f"movieverse.contracts.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, EventPayload) and "event_type" in cls.__dict__:
                assert found.get(cls.event_type, cls) is cls, f"{cls.event_type} defined twice"
                found[cls.event_type] = cls
    return found


def consumed() -> dict[str, set[str]]:
    """Every service's consumer table, as event type -> the services that consume it. The
    tables only name bound handlers, so handler objects with no dependencies filled in do."""
    by_type: dict[str, set[str]] = {}
    for service_info in pkgutil.iter_modules(movieverse.services.__path__):
        try:
            module = importlib.import_module(f"movieverse.services.{service_info.name}.consumers")
        except ModuleNotFoundError:
            continue  # a service that consumes nothing
        table = module.consumers
        parameters = list(inspect.signature(table, eval_str=True).parameters.values())
        handlers = [p.annotation.__new__(p.annotation) for p in parameters]
        for consumer in table(*handlers):
            assert isinstance(consumer, Consumer)
            for event_type in consumer.event_types:
                by_type.setdefault(event_type, set()).add(service_info.name)
    return by_type


def test_every_consumed_event_has_a_published_contract() -> None:
    contracts = published()
    consumers = consumed()
    assert len(consumers) >= 15  # the tables were read
    missing = {t: sorted(s) for t, s in consumers.items() if t not in contracts}
    assert missing == {}


def test_each_contract_belongs_to_the_service_that_publishes_it() -> None:
    for event_type, cls in published().items():
        producer = event_type.split(".")[0]
        assert cls.__module__ == f"movieverse.contracts.{producer}", event_type
        # The producer's own code names the class (it builds or emits it).
        sources = (SRC / "services" / producer).rglob("*.py")
        pattern = re.compile(rf"\b{cls.__name__}\b")
        assert any(pattern.search(p.read_text()) for p in sources), (
            f"{producer} never publishes {cls.__name__}"
        )


def _python_files_outside_contracts() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "contracts" not in p.relative_to(SRC).parts]


def test_payloads_are_defined_only_in_contracts() -> None:
    """No payload class and no event type name is written out anywhere else: consumers use the
    contract's class and its ``event_type``, so a copy cannot drift from its producer."""
    event_types = set(published())
    for path in _python_files_outside_contracts():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases}
                assert "EventPayload" not in bases, f"{path}: payload {node.name}"
            if isinstance(node, ast.Constant) and node.value in event_types:
                raise AssertionError(f"{path}:{node.lineno} writes out {node.value!r}")


def _recorded() -> dict[str, dict[str, Any]]:
    return json.loads(SCHEMAS.read_text()) if SCHEMAS.exists() else {}


def _breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What an event written to ``old`` would no longer read as, or a reader of ``old`` would
    not understand of ``new``: a field removed or retyped, or a new required field."""
    problems = []
    old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
    for name, schema in old_fields.items():
        if name not in new_fields:
            problems.append(f"field {name} removed")
            continue
        kept = {k: v for k, v in new_fields[name].items() if k not in {"default", "description"}}
        was = {k: v for k, v in schema.items() if k not in {"default", "description"}}
        if kept != was:
            problems.append(f"field {name} retyped: {was} -> {kept}")
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"field {name} now required")
    if old.get("$defs") != new.get("$defs"):
        problems.append("nested types changed")
    return problems


def test_contracts_change_compatibly_or_by_a_new_version() -> None:
    recorded = _recorded()
    current = {
        event_type: {str(cls.event_version): cls.model_json_schema()}
        for event_type, cls in sorted(published().items())
    }
    if os.environ.get("MOVIEVERSE_RECORD_EVENT_SCHEMAS") == "1":
        merged = {t: {**recorded.get(t, {}), **versions} for t, versions in current.items()}
        for event_type, versions in current.items():
            for version, schema in versions.items():
                old = recorded.get(event_type, {}).get(version)
                assert old is None or not _breaking_changes(old, schema), event_type
        SCHEMAS.write_text(json.dumps(merged, indent=1, sort_keys=True) + "\n")
        recorded = merged
    for event_type, versions in current.items():
        for version, schema in versions.items():
            old = recorded.get(event_type, {}).get(version)
            assert old is not None, f"{event_type} v{version} is not recorded (see the docstring)"
            breaking = _breaking_changes(old, schema)
            assert not breaking, f"{event_type} v{version}: {breaking}; bump its event_version"
            assert old == schema, f"{event_type} v{version} changed compatibly: record it"


def test_a_producer_may_add_an_optional_field_without_breaking_a_reader() -> None:
    # An event from a newer producer that added a field reads as before.
    event = new_event(UserDeleted(user_id=uuid4(), username="ana"), producer="users", key="k")
    newer = event.model_copy(update={"payload": {**event.payload, "reason": "asked"}})
    assert UserDeleted.from_event(newer).username == "ana"


def test_a_newer_version_is_refused_not_misread() -> None:
    event = new_event(UserDeleted(user_id=uuid4(), username="ana"), producer="users", key="k")
    with pytest.raises(ValueError, match="version 2 is newer"):
        UserDeleted.from_event(event.model_copy(update={"version": 2}))
    with pytest.raises(ValueError, match="is not"):
        MovieCreated.from_event(event)


def test_a_movie_snapshot_reads_as_created_or_updated() -> None:
    fields = movie_snapshot_fields()
    created = new_event(MovieCreated(**fields), producer="movies", key="1")
    updated = new_event(MovieUpdated(**fields, changed=["title"]), producer="movies", key="1")
    assert type(read_snapshot(created)) is MovieCreated
    snapshot = read_snapshot(updated)
    assert isinstance(snapshot, MovieUpdated)
    assert snapshot.changed == ["title"]
