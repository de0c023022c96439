"""HTTP for surveillance programmes, enrolment, recall lists and results. No SQL here."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from backend.auth.deps import AppSettings, CurrentUser
from backend.core import listing
from backend.core.listing import ListParams
from backend.core.openapi import errors
from backend.db.deps import Conn
from backend.surveillance import results, service
from backend.surveillance.csv_import import OPTIONAL, REQUIRED
from backend.surveillance.errors import SurveillanceInvalid
from backend.surveillance.result_schemas import (
    OutcomeSign,
    ResultClinical,
    ResultCreate,
    ResultPage,
    ResultRead,
    ResultUpdate,
)
from backend.surveillance.schemas import (
    Enrolment,
    EnrolmentCreate,
    ImportReport,
    Programme,
    ProgrammeCreate,
    RecallItem,
)

router = APIRouter(prefix="/api/v1/surveillance", tags=["surveillance"])

MAX_CSV_BYTES = 1024 * 1024
_CSV_EXAMPLE = (
    ",".join(REQUIRED + OPTIONAL) + "\n"
    "alex.example@employer.example,Alex Example,EMP-00123,1985-04-12,male,Logistics,Warehouse operative,"
    "Conveyor area 87 dB(A),2026-11-02\n"
)
_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE}},
    }
}


@router.post(
    "/programmes", status_code=201, response_model=Programme, responses=errors(401, 403, 404, 409, 422)
)
async def create_programme(body: ProgrammeCreate, user: CurrentUser, conn: Conn) -> Programme:
    """Set up a programme for an employer (client administrators: their own; provider staff: a client's).
    Recall defaults by kind: noise baseline, then 12, 12 and every 36 months; HAVS, skin and night
    work yearly; respiratory 6 weeks, 6 weeks, then yearly; fitness for task every 24 months."""
    return await service.create_programme(conn, user, body)


@router.get("/programmes", response_model=list[Programme], responses=errors(401, 403, 422))
async def list_programmes(
    user: CurrentUser, conn: Conn, organisation_id: Annotated[UUID | None, Query()] = None
) -> list[Programme]:
    return await service.list_programmes(conn, user, organisation_id)


@router.post(
    "/programmes/{programme_id}/enrolments",
    status_code=201,
    response_model=Enrolment,
    responses=errors(401, 403, 404, 409, 422),
)
async def enrol(programme_id: UUID, body: EnrolmentCreate, user: CurrentUser, conn: Conn) -> Enrolment:
    """Enrol one employee. The baseline check is due on the start date (default: today)."""
    return await service.enrol(conn, user, programme_id, body)


@router.post(
    "/programmes/{programme_id}/enrolments.csv",
    response_model=ImportReport,
    openapi_extra=_CSV_BODY,
    responses=errors(401, 403, 404, 413, 422),
)
async def enrol_csv(programme_id: UUID, request: Request, user: CurrentUser, conn: Conn) -> ImportReport:
    """Enrol from a CSV file (UTF-8, header line with the columns of the example).

    **Valid rows are imported and invalid rows are reported** (line number and fields), each row
    on its own: fix the reported lines and upload just those again. A file that cannot be read as a
    whole (not UTF-8, wrong header, more than 5,000 rows) is refused with 422 and nothing is imported.
    """
    data = await request.body()
    if len(data) > MAX_CSV_BYTES:
        raise SurveillanceInvalid("The file is larger than 1 MB; split it.")
    return await service.enrol_csv(conn, user, programme_id, data)


@router.get(
    "/programmes/{programme_id}/enrolments", response_model=list[Enrolment], responses=errors(401, 403, 404)
)
async def list_enrolments(programme_id: UUID, user: CurrentUser, conn: Conn) -> list[Enrolment]:
    return await service.list_enrolments(conn, user, programme_id)


@router.delete("/enrolments/{enrolment_id}", status_code=204, responses=errors(401, 403, 404))
async def end_enrolment(enrolment_id: UUID, user: CurrentUser, conn: Conn) -> Response:
    """End an enrolment (the person left the exposure group); its results are kept."""
    await service.end_enrolment(conn, user, enrolment_id)
    return Response(status_code=204)


@router.get("/recalls", response_model=list[RecallItem], responses=errors(401, 403, 404, 422))
async def recalls(
    user: CurrentUser,
    conn: Conn,
    organisation_id: Annotated[UUID | None, Query(description="Provider staff: which client")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[RecallItem]:
    """Named list of who is overdue or due within 30 days: client administrators and clinicians only."""
    return await service.recalls(conn, user, organisation_id, limit=limit)


@router.post("/results", status_code=201, response_model=ResultClinical, responses=errors(401, 403, 404, 422))
async def record_result(body: ResultCreate, user: CurrentUser, conn: Conn) -> ResultClinical:
    """Record a check as a draft (clinicians). The answer holds the rule set's proposal and why."""
    return await results.record(conn, user, body)


@router.put("/results/{result_id}", response_model=ResultClinical, responses=errors(401, 403, 404, 409, 422))
async def update_result(result_id: UUID, body: ResultUpdate, user: CurrentUser, conn: Conn) -> ResultClinical:
    return await results.update(conn, user, result_id, body)


@router.post(
    "/results/{result_id}/sign", response_model=ResultClinical, responses=errors(401, 403, 404, 409, 422)
)
async def sign_result(
    result_id: UUID, body: OutcomeSign, user: CurrentUser, conn: Conn, settings: AppSettings
) -> ResultClinical:
    """Confirm or override the proposal and sign the outcome. Final; the certificate is available at once."""
    return await results.sign(conn, user, result_id, body, settings)


ResultList = Annotated[
    ListParams, Depends(listing.query(sorts=("updated", "performed", "name"), default="-updated"))
]


@router.get("/results", response_model=ResultPage, responses=errors(401, 422))
async def list_results(
    user: CurrentUser,
    conn: Conn,
    page: ResultList,
    status: Annotated[Literal["draft", "signed"] | None, Query()] = None,
) -> ResultPage:
    """Results you may see: clinicians their provider's; employers signed outcomes only (managers: their
    department's); employees their own. `q` searches the name and employee number."""
    return await results.list_for(conn, user, status=status, page=page)


@router.get("/results/{result_id}", response_model=ResultClinical | ResultRead, responses=errors(401, 404))
async def get_result(result_id: UUID, user: CurrentUser, conn: Conn) -> ResultRead | ResultClinical:
    return await results.get(conn, user, result_id)
