"""Every party field of a declaration type gets a row of blind indexes, so list filters find it."""

from typing import Any, get_args

from pydantic import BaseModel

from clearguard.declaration_model import H1Declaration, H7Declaration
from clearguard.declarations.planner import PARTY_ROLES


def is_party(annotation: Any) -> bool:
    models = [a for a in (annotation, *get_args(annotation)) if isinstance(a, type) and issubclass(a, BaseModel)]
    return any({"name", "address"} <= set(m.model_fields) for m in models)


def test_party_roles_name_every_party_field_of_each_type() -> None:
    for type_, model in (("H1", H1Declaration), ("H7", H7Declaration)):
        parties = {name for name, info in model.model_fields.items() if is_party(info.annotation)}
        assert set(PARTY_ROLES[type_]) == parties, type_
