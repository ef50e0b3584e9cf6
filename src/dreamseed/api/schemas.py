"""Request and response bodies: the original R Plumber contract, plus the online θ update.

Ids may be sent as strings or numbers and are handled as text. Text never holds NUL or an unpaired
surrogate (PostgreSQL cannot store either): such values are rejected with a 422 like any other
invalid value. Unknown fields are ignored (the original's clients send extras such as
``responded_at``), wrong types and values are rejected with a 422 that names the field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    model_validator,
)

MODEL_ALIASES = {"RASCH": "1PL", "1PL": "1PL", "2PL": "2PL", "3PL": "3PL"}


def _id_text(value: Any) -> Any:
    if isinstance(value, bool):
        return value  # rejected below: a boolean is not an id
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return value


def storable_text(value: str) -> str:
    """``value`` unchanged, or ValueError when it holds NUL or an unpaired surrogate."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL (\\u0000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must not contain unpaired surrogates") from None
    return value


def _model_name(value: Any) -> Any:
    return MODEL_ALIASES.get(value.strip().upper(), value) if isinstance(value, str) else value


NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, Field(pattern=NO_NUL), AfterValidator(storable_text)]
Id = Annotated[
    str,
    BeforeValidator(_id_text),
    Field(min_length=1, max_length=200, pattern=NO_NUL),
    AfterValidator(storable_text),
]
ModelName = Annotated[Literal["1PL", "2PL", "3PL"], BeforeValidator(_model_name)]
Answer = Literal[0, 1] | None
Finite = Annotated[float, Field(allow_inf_nan=False)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Observation(_Body):
    user_id: Id
    item_id: Id
    is_correct: StrictBool | Literal[0, 1]
    responded_at: Text | None = None


class ItemValues(_Body):
    """P(correct | θ) = c + (1 − c) / (1 + exp(−a(θ − b)))."""

    a: Finite = Field(1.0, gt=0)
    b: Finite = 0.0
    c: Finite = Field(0.0, ge=0, lt=1)


class AnchorValues(_Body):
    """An anchor's stored parameters; without ``b`` it has none (a tag-only anchor) and is calibrated
    freely. ``a`` defaults to 1 and ``c`` to 0 when ``b`` is given."""

    a: Finite | None = Field(None, gt=0)
    b: Finite | None = None
    c: Finite | None = Field(None, ge=0, lt=1)

    @property
    def known(self) -> bool:
        return self.b is not None


class Anchor(_Body):
    item_id: Id
    params: AnchorValues = Field(default_factory=AnchorValues)
    fixed: bool = Field(
        True,
        description="Held at these values (else only a linking reference). An anchor without `b` is "
        "calibrated freely and listed in fit_meta.anchors_without_params.",
    )


class LogNormalIn(_Body):
    mean_log: Finite = 0.0
    sd_log: Finite = Field(0.5, gt=0)


class NormalIn(_Body):
    mean: Finite = 0.0
    sd: Finite = Field(2.0, gt=0)


class BetaIn(_Body):
    alpha: Finite = Field(5.0, ge=1)
    beta: Finite = Field(17.0, ge=1)


class PriorsIn(_Body):
    """Item priors (Bayes-modal estimation); absent = maximum likelihood, except the 3PL's Beta(5, 17)
    on c, which stays unless ``c`` is given (null removes it). An extension: R ignores it."""

    a: LogNormalIn | None = Field(None, description="log a ~ Normal(mean_log, sd_log²).")
    b: NormalIn | None = Field(None, description="b ~ Normal(mean, sd²).")
    c: BetaIn | None = Field(None, description="c ~ Beta(alpha, beta) (3PL only).")


def _check_matrix(rows: list[list[Answer]], width: int | None, name: str) -> None:
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise ValueError(f"{name}: every row must have the same number of answers")
    if width is not None and widths and widths != {width}:
        raise ValueError(f"{name}: rows have {widths.pop()} answers but there are {width} items")


class CalibrateRequest(_Body):
    """Observations (long format) or a response matrix (rows = persons, 0/1/null), model, anchors."""

    observations: list[Observation] | None = Field(None, description="One answer per element.")
    responses: list[list[Answer]] | None = Field(None, description="Persons × items, 0/1/null.")
    user_ids: list[Id] | None = Field(None, description="Row ids of `responses` (default 1..N).")
    item_ids: list[Id] | None = Field(None, description="Column ids of `responses` (default item_1..item_J).")
    model: ModelName = "2PL"
    anchors: list[Anchor] = Field(default_factory=list)
    priors: PriorsIn | None = None

    @model_validator(mode="after")
    def _shapes(self) -> CalibrateRequest:
        if self.responses is not None:
            _check_matrix(
                self.responses, len(self.item_ids) if self.item_ids is not None else None, "responses"
            )
            if self.user_ids is not None and len(self.user_ids) != len(self.responses):
                raise ValueError("user_ids must have one id per row of responses")
        return self


class ItemOut(BaseModel):
    item_id: str
    params: dict[str, float]
    se: dict[str, float]
    fixed: bool
    status: str | None = Field(None, description='e.g. "free: anchor had no parameters".')


class AbilityOut(BaseModel):
    user_id: str
    theta: float
    se: float


class FitMeta(BaseModel):
    run_id: str
    model_spec: dict[str, Any]
    linking_constants: dict[str, Any] | None
    metrics: dict[str, Any]
    anchors_without_params: list[str] = Field(
        default_factory=list, description="Anchors sent without parameters: calibrated freely."
    )


class CalibrateResponse(BaseModel):
    status: Literal["ok"] = "ok"
    fit_meta: FitMeta
    item_params: list[ItemOut]
    abilities: list[AbilityOut]


class ScoreRequest(_Body):
    """Items in column order and one row of answers per person (EAP, 81 points on [−4, 4], N(0, 1))."""

    item_params: list[ItemValues] = Field(min_length=1)
    responses: list[list[Answer]] = Field(min_length=1)
    user_ids: list[Id] | None = None

    @model_validator(mode="after")
    def _shapes(self) -> ScoreRequest:
        _check_matrix(self.responses, len(self.item_params), "responses")
        if self.user_ids is not None and len(self.user_ids) != len(self.responses):
            raise ValueError("user_ids must have one id per row of responses")
        return self


class ScoreOut(BaseModel):
    theta: float
    se: float
    user_id: str | None = None


class ScoreResponse(BaseModel):
    status: Literal["ok"] = "ok"
    abilities: list[ScoreOut]


class UpdateThetaRequest(_Body):
    user_id: Id
    session_id: Annotated[
        Annotated[str, Field(max_length=200, pattern=NO_NUL), AfterValidator(storable_text)] | None,
        BeforeValidator(_id_text),
    ] = None
    lookback_days: int = Field(30, ge=1, le=3650)
    model: ModelName | None = Field(None, description="Only items of this model (default: all).")
    version: Text | None = Field(
        None, min_length=1, max_length=200, description="Item version (default MIRT_VERSION); unknown: 404."
    )


class UpdateThetaResponse(BaseModel):
    status: Literal["ok", "noop"]
    user_id: str
    theta: float | None = None
    se: float | None = None
    model: str | None = None
    version: str | None = None
    updated_at: datetime | None = None
    n_responses: int | None = None
    session_id: str | None = None
    message: str | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    service: str
    version: str
    time: datetime
    database: Literal["ok", "unreachable"]
    database_error: str | None = None
