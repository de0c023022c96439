"""HTTP for pulse readings: consent, streams, batch ingestion, reads and the FHIR export.

Parses, calls the service, returns schemas. No SQL here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from backend.auth.deps import AppSettings
from backend.core import listing
from backend.core.listing import ListParams
from backend.core.openapi import errors, ok
from backend.db.deps import Conn
from backend.readings import ingest, service
from backend.readings.deps import BatchWriter, Reader
from backend.readings.schemas import (
    EXAMPLE_STREAM_SUMMARY,
    BatchReceipt,
    Consent,
    ConsentCreate,
    ConsentStatus,
    ReadingOut,
    StreamCreate,
    StreamCreated,
    StreamPage,
    StreamSummary,
)
from sensors.protocol import ReadingBatch

router = APIRouter(prefix="/api/v1/readings", tags=["readings"])

FHIR_JSON = "application/fhir+json"


@router.get("/consent", response_model=ConsentStatus, responses=errors(401, 403, 503))
async def consent_status(user: Reader, conn: Conn) -> ConsentStatus:
    """The wording of the consent to collect pulse readings, and your consent now in force (if any)."""
    return await service.consent_status(conn, user)


@router.post(
    "/consent",
    status_code=201,
    response_model=Consent,
    responses={
        200: {"model": Consent, "description": "Consent was already in force"},
        **errors(401, 403, 409, 422),
    },
)
async def give_consent(body: ConsentCreate, user: Reader, conn: Conn, response: Response) -> Consent:
    """Agree to the collection of your pulse readings (needed before measuring)."""
    consent, created = await service.give_consent(conn, user, body)
    response.status_code = 201 if created else 200
    return consent


@router.post("/consent/withdraw", response_model=Consent, responses=errors(401, 403))
async def withdraw_consent(user: Reader, conn: Conn) -> Consent:
    """Stop collection: open measurements end and nothing more is stored. Readings sent stay."""
    return await service.withdraw_consent(conn, user)


@router.post(
    "/streams",
    status_code=201,
    response_model=StreamCreated,
    responses={
        200: {"model": StreamCreated, "description": "The stream existed already: a fresh device token"},
        **errors(401, 403, 404, 409, 422),
    },
)
async def create_stream(
    body: StreamCreate, user: Reader, conn: Conn, settings: AppSettings, request: Request, response: Response
) -> StreamCreated:
    """Start a measurement. The answer carries a device token that can only send this stream's batches."""
    created, new = await service.create_stream(conn, user, body, settings)
    request.app.state.ingestion.estimator.warm()  # ready before the first heart rate is due
    response.status_code = 201 if new else 200
    return created


StreamList = Annotated[
    ListParams, Depends(listing.query(sorts=("activity", "started"), default="-activity", search=False))
]


@router.get("/streams", response_model=StreamPage, responses=errors(401, 422))
async def list_streams(
    user: Reader,
    conn: Conn,
    settings: AppSettings,
    page: StreamList,
    employee_id: UUID | None = None,
    status: Literal["open", "closed"] | None = None,
) -> StreamPage:
    """Measurement streams you may see, most recently active first unless sorted otherwise (clinicians:
    their provider's)."""
    return await service.list_streams(conn, user, settings, employee_id=employee_id, status=status, page=page)


@router.get(
    "/streams/{stream_id}",
    response_model=StreamSummary,
    responses={**ok(EXAMPLE_STREAM_SUMMARY), **errors(401, 404)},
)
async def get_stream(stream_id: UUID, user: Reader, conn: Conn, settings: AppSettings) -> StreamSummary:
    """Summary: heart rate mean/min/max, SpO2 min, signal quality, samples, duration and alert flags."""
    return await service.get_stream(conn, user, stream_id, settings)


@router.get("/streams/{stream_id}/readings", response_model=list[ReadingOut], responses=errors(401, 404, 422))
async def list_readings(
    stream_id: UUID,
    user: Reader,
    conn: Conn,
    limit: Annotated[int, Query(ge=1, le=service.MAX_READINGS)] = 5000,
) -> list[ReadingOut]:
    """The stream's readings in time order."""
    return await service.list_readings(conn, user, stream_id, limit=limit)


@router.post("/streams/{stream_id}/close", response_model=StreamSummary, responses=errors(401, 403, 404))
async def close_stream(
    stream_id: UUID, writer: BatchWriter, conn: Conn, settings: AppSettings
) -> StreamSummary:
    """End the measurement (the employee or the stream's device token); its device token stops working."""
    return await service.close_stream(conn, writer, stream_id, settings)


@router.get(
    "/streams/{stream_id}/fhir",
    responses={
        200: {"content": {FHIR_JSON: {"schema": {"type": "object"}}}, "description": "A FHIR R4 Bundle"},
        **errors(401, 404),
    },
)
async def fhir_export(stream_id: UUID, user: Reader, conn: Conn, settings: AppSettings) -> JSONResponse:
    """The stream as a FHIR R4 Bundle of vital-signs Observations with the waveform as SampledData."""
    bundle: dict[str, Any] = await service.fhir_bundle(conn, user, stream_id, base_url=settings.public_url)
    return JSONResponse(bundle, media_type=FHIR_JSON)


@router.post(
    "/batches",
    status_code=201,
    response_model=BatchReceipt,
    responses={
        200: {"model": BatchReceipt, "description": "A repeat of (stream_id, seq): the original receipt"},
        **errors(401, 403, 404, 409, 413, 422, 503),
    },
)
async def post_batch(batch: ReadingBatch, writer: BatchWriter, conn: Conn, request: Request) -> Response:
    """Send one batch of readings (idempotent on stream_id and seq). Send the stream's device token
    as the bearer token, or use the employee's own session."""
    # Most batches are answered before the router, with this route's answers
    # (``backend.readings.fastpath``); this route answers the rest and describes the endpoint.
    receipt, created = await ingest.ingest(conn, writer, batch, request.app.state.ingestion)
    # Serialised directly: the receipt is already a validated BatchReceipt (the hottest endpoint).
    return Response(receipt.model_dump_json(), 201 if created else 200, media_type="application/json")
