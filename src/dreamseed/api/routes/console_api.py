"""The console's JSON read API under /console/api/v1 (same roles as the pages).

Callers: a signed-in console session (the cookie), the trusted proxy header when configured, or the
service's bearer token R_IRT_INTERNAL_TOKEN (read access as admin). A teacher sees only their
orgs' students: another org's student is 404, another org's filter 403.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from dreamseed.api.openapi import error_answer
from dreamseed.console import views
from dreamseed.console.access import allowed_org, api_viewer, engine_of, require_admin
from dreamseed.console.users import Viewer

router = APIRouter(
    prefix="/console/api/v1",
    tags=["console"],
    responses={
        401: error_answer("Not signed in to the console and no bearer token sent."),
        403: error_answer("The bearer token is wrong, or the caller's role or orgs do not cover this."),
        404: error_answer("No such student or item (or one of an org the caller may not see)."),
        422: error_answer("A query parameter is invalid."),
    },
)
ApiViewer = Annotated[Viewer, Depends(api_viewer)]
Document = dict[str, Any]


def _read(request: Request, read: Any, *args: Any) -> Any:
    with engine_of(request).connect() as connection:
        return read(connection, *args)


@router.get("/me", summary="Who the caller is: name, role and orgs (null = every org)")
async def me(viewer: ApiViewer) -> Document:
    return {
        "name": viewer.name,
        "role": viewer.role,
        "org_ids": None if viewer.orgs is None else sorted(viewer.orgs),
    }


@router.get("/at-risk", summary="Students ranked by churn risk S, with the reasons a teacher can act on")
async def at_risk(
    request: Request,
    viewer: ApiViewer,
    org: int | None = None,
    goal: str | None = None,
    band: Annotated[str | None, Query(pattern="^(low|medium|high)$")] = None,
    sort: Annotated[str, Query(pattern="^(risk|days|engagement|theta|goal|last_seen|user)$")] = "risk",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=1000)] = views.PER_PAGE,
) -> Document:
    allowed_org(viewer, org)
    where = views.student_filter(viewer, org, goal, band)
    return await run_in_threadpool(
        _read, request, views.at_risk, viewer, where, sort, order == "desc", page, per_page
    )


@router.get(
    "/students/{user_id}", summary="One student: KPIs by week, θ history, θ by topic, sessions, reports"
)
async def student(request: Request, viewer: ApiViewer, user_id: str) -> Document:
    return await run_in_threadpool(_read, request, views.student, viewer, user_id)


@router.get(
    "/cohort", summary="Weekly KPI and θ distributions (quantiles, histograms) and counts of a cohort"
)
async def cohort(
    request: Request, viewer: ApiViewer, org: int | None = None, goal: str | None = None
) -> Document:
    allowed_org(viewer, org)
    return await run_in_threadpool(_read, request, views.cohort, viewer, org, goal)


@router.get("/items", summary="The item bank: a, b, c with SEs, answers, infit/outfit, drift, anchor, flags")
async def items(
    request: Request,
    viewer: ApiViewer,
    topic: str | None = None,
    flag: Annotated[
        str | None,
        Query(pattern="^(low_discrimination|extreme_difficulty|misfit|drift|anchor_moved|dif|anchor)$"),
    ] = None,
    sort: Annotated[str, Query(pattern="^(item|a|b|c|answers|infit|outfit|drift|misfit)$")] = "misfit",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Document:
    return await run_in_threadpool(_read, request, views.items, topic, flag, sort, order == "desc", page)


@router.get("/items/{item_id}", summary="One item and its parameters across calibration runs")
async def item(request: Request, viewer: ApiViewer, item_id: str) -> Document:
    return await run_in_threadpool(_read, request, views.item, item_id)


@router.get("/pipeline", summary="Job runs per job, quarantine counts and samples, calibration runs (admins)")
async def pipeline(request: Request, viewer: ApiViewer) -> Document:
    require_admin(viewer)
    return await run_in_threadpool(_read, request, views.health)
