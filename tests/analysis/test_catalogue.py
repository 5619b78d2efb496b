"""The catalogue is data: every entry is a spec the emitters can act on."""

from __future__ import annotations

from typing import get_args

from governed_agents.analysis._catalogue import OPS_BY_KIND, Kind, all_specs
from governed_agents.analysis._emit import EMITTERS, INERT_KINDS, UNKNOWN_EMITTERS


def _walk(spec):
    yield spec
    for extra in spec.also:
        yield from _walk(extra)


def test_every_kind_has_an_emitter_or_performs_nothing():
    for kind in get_args(Kind):
        assert kind in INERT_KINDS or (kind in EMITTERS and kind in UNKNOWN_EMITTERS), kind


def test_every_entry_is_valid():
    bad = []
    for name, top in all_specs().items():
        for spec in _walk(top):
            if spec.kind not in get_args(Kind):
                bad.append(f"{name}: kind {spec.kind!r}")
            elif spec.op not in OPS_BY_KIND[spec.kind]:
                bad.append(f"{name}: op {spec.op!r} for kind {spec.kind}")
            if spec.value_from not in ("", "self", "handle", "address"):
                bad.append(f"{name}: value_from {spec.value_from!r}")
    assert not bad, bad
