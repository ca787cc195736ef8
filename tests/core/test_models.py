"""``builder``: an adapter's cheaper way to build models must validate and build exactly as
``Model(**fields)`` does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pydantic
import pytest

import socialgate as sg
from socialgate._models import builder


def test_builder_gives_the_same_model_as_the_constructor() -> None:
    author = sg.Profile(network="x", id="1", handle="jack")
    fields = {
        "network": "x",
        "id": "20",
        "author": author,
        "text": "just setting up my twttr",
        "created_at": datetime(2006, 3, 21, 20, 50, 14, tzinfo=timezone(timedelta(hours=2))),
        "metrics": sg.Metrics(likes=1),
        "media": (sg.Media(id="m", kind="image"),),
        "raw": {"id": "20", "unknown": [1]},
        "extra_field": "kept",
    }
    built = builder(sg.Post)(dict(fields))
    assert type(built) is sg.Post
    assert built == sg.Post(**fields)
    assert built.created_at == datetime(2006, 3, 21, 18, 50, 14, tzinfo=UTC)
    assert built.model_extra == {"extra_field": "kept"}
    assert built.model_fields_set == sg.Post(**fields).model_fields_set
    assert built.raw is fields["raw"]
    with pytest.raises(pydantic.ValidationError):
        built.text = "edited"  # type: ignore[misc]  # frozen like any other


@pytest.mark.parametrize(
    "fields",
    [
        {"network": "x"},  # no id
        {"network": "x", "id": 20},  # not a string
        {"network": "x", "id": "20", "created_at": datetime(2006, 3, 21)},  # naive
        {"network": "x", "id": "20", "metrics": {"likes": "many"}},
    ],
)
def test_builder_refuses_what_the_constructor_refuses(fields: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError) as by_constructor:
        sg.Post(**fields)  # type: ignore[arg-type]
    with pytest.raises(pydantic.ValidationError) as by_builder:
        builder(sg.Post)(fields)
    # (the context holds exception instances, which never compare equal)
    assert by_builder.value.errors(include_context=False) == by_constructor.value.errors(
        include_context=False
    )


def test_builder_needs_a_built_schema() -> None:
    class Later(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(defer_build=True)
        child: Later | None = None

    with pytest.raises(TypeError, match="model_rebuild"):
        builder(Later)
    Later.model_rebuild()
    assert builder(Later)({"child": {}}) == Later(child=Later())
