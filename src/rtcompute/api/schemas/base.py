"""Shared schema bases: requests refuse unknown fields and text no database can store."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from rtcompute.domain import names, text


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=4096)

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: object) -> object:
        return text.check_storable(value) if isinstance(value, str) else value


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorBody(BaseModel):
    code: str
    message: str
    request_id: str


def _stated(rule: names.Rule) -> Any:
    """The rule as the OpenAPI document states it: pattern, length and words. Stated, not
    enforced by pydantic (`pattern=` would answer its own 422): the rule's check enforces all
    of it, so that an empty or overlong name gets the rule's code like any other."""
    return Field(
        description=rule.words,
        json_schema_extra={"pattern": rule.pattern, "minLength": 1, "maxLength": rule.max_length},
    )


# Names as requests carry them: the OpenAPI document states the domain's pattern, and the
# domain's check refuses a name that does not fit, with the rule's code (400), as the
# service would (names are validated once, in `domain/names.py`). A field that only names an
# existing resource may stay a plain string (a cluster's network, subnet and zone): the
# lookup answers that it does not exist.
ProjectName = Annotated[str, _stated(names.PROJECT), AfterValidator(names.PROJECT.check)]
ClusterName = Annotated[str, _stated(names.CLUSTER), AfterValidator(names.CLUSTER.check)]
JobName = Annotated[str, _stated(names.JOB), AfterValidator(names.JOB.check)]
BucketName = Annotated[str, _stated(names.BUCKET), AfterValidator(names.BUCKET.check)]
NetworkName = Annotated[str, _stated(names.NETWORK), AfterValidator(names.NETWORK.check)]
SubnetName = Annotated[str, _stated(names.SUBNET), AfterValidator(names.SUBNET.check)]
ZoneName = Annotated[str, _stated(names.ZONE), AfterValidator(names.ZONE.check)]
UserName = Annotated[str, _stated(names.USER), AfterValidator(names.USER.check)]
GroupName = Annotated[str, _stated(names.GROUP), AfterValidator(names.GROUP.check)]
RoleName = Annotated[str, _stated(names.ROLE), AfterValidator(names.ROLE.check)]
PolicyName = Annotated[str, _stated(names.POLICY), AfterValidator(names.POLICY.check)]
AccountAlias = Annotated[
    str, _stated(names.ACCOUNT_ALIAS), AfterValidator(names.ACCOUNT_ALIAS.check)
]
EngineVersionName = Annotated[
    str, _stated(names.ENGINE_VERSION), AfterValidator(names.ENGINE_VERSION.check)
]
MachineTypeName = Annotated[
    str, _stated(names.MACHINE_TYPE), AfterValidator(names.MACHINE_TYPE.check)
]
RegionName = Annotated[str, _stated(names.REGION), AfterValidator(names.REGION.check)]
