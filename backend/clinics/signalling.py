"""The ``/ws/clinic`` protocol: one JSON object per WebSocket text message, typed by ``t``.

``docs/clinic-protocol.md`` describes every message, participant state and close code; a test
checks that it lists every ``t`` and every ``CloseCode`` defined here.

Client -> server (``ClientMessage``, a discriminated union; anything else is refused):
  join        first message: ``appointment`` (employee, third party) or ``clinic`` (its clinician);
              optional ``token`` (else the cookie), ``resume`` (the gen to resume after a drop) and
              ``last_signal`` (the id of the last sdp/ice/bye received, to be given what was missed)
  ping        heartbeat, every few seconds; the server answers ``pong``
  testing     the pre-call test has started             ready      entering the waiting room
  precall     the browser's offer to the server's echo peer (pre-call test)
  precall_result  what the browser measured; the server answers ``precall_verdict``
  sdp / ice / bye  WebRTC signalling to another member of the same call (``to``, ``pc``)
  quality     a connection-quality sample during the call
  leave       the person leaves the call (or the waiting room, or the nurse the clinic) on purpose
  admit / hold / message / invite / end  the clinician running the clinic only

Server -> client (``ServerMessage`` models below): welcome, state, queue, room, participant,
call, peer, sdp/ice/bye (with ``from`` and ``id``), message, peer_quality, precall_answer,
precall_verdict, invited, pong, error.

Limits: at most ``MAX_MESSAGE_BYTES`` per message; SDP must be well-formed (``v=0`` first, ``x=``
lines, ``o=``/``s=``/``t=`` and at least one ``m=`` section). A refused message gets an ``error``
(with the code and the refused ``t``) and changes nothing else; the socket stays open.
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from backend.clinics.errors import MessageInvalid, MessageTooLarge
from backend.clinics.schemas import GuestRole, Level, ParticipantKind, ParticipantState, RoomEntry

MAX_MESSAGE_BYTES = 64 * 1024
MAX_SDP_CHARS = 48 * 1024
_SDP_LINE = re.compile(r"^[a-z]=[^\x00-\x08\x0a-\x1f\x7f]*$")
_CANDIDATE = re.compile(r"^(candidate:[^\x00-\x1f\x7f]{1,1000})?$")
PcId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Token = Annotated[str, Field(min_length=16, max_length=200)]


class CloseCode(IntEnum):
    """Why the server closed a room socket: one meaning per code (see docs/clinic-protocol.md)."""

    NORMAL = 1000  # the server ended the socket after the person's own close or leave
    SERVER_RESTARTING = 1012  # this process is stopping: reconnect (any process will do)
    INVALID_JOIN = 4400  # no join message in time, or the first message was not a valid join
    NOT_SIGNED_IN = 4401  # neither the token nor a cookie identifies anyone
    FORBIDDEN_ORIGIN = 4403  # the page calling is not this site
    NOT_INVITED = 4404  # the caller has no place in this clinic or appointment (or it was removed)
    NO_HEARTBEAT = 4408  # nothing received for SILENCE_SECONDS: reconnect
    REPLACED = 4409  # the same person joined from another window or device; this one must stop
    APPOINTMENT_CLOSED = 4410  # the appointment has ended, was cancelled or marked did-not-attend
    ROOM_NOT_OPEN = 4425  # too early: the waiting room opens a few minutes before the appointment
    TOO_SLOW = 4429  # the socket did not take its messages fast enough: reconnect


def check_sdp(sdp: str) -> str:
    """Refuse text that is not a session description; the content itself is the browsers' business."""
    lines = sdp.replace("\r\n", "\n").rstrip("\n").split("\n")
    if lines[0] != "v=0":
        raise ValueError("SDP must start with the line v=0")
    for number, line in enumerate(lines, 1):
        if not _SDP_LINE.match(line):
            raise ValueError(f"SDP line {number} is not of the form x=value")
    kinds = {line[0] for line in lines}
    missing = [k for k in "ostm" if k not in kinds]
    if missing:
        raise ValueError(f"SDP has no {missing[0]}= line")
    return sdp


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SessionDescription(_Message):
    type: Literal["offer", "answer"]
    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)

    @field_validator("sdp")
    @classmethod
    def _well_formed(cls, value: str) -> str:
        return check_sdp(value)


class IceCandidate(_Message):
    candidate: str = Field(max_length=1100, pattern=_CANDIDATE.pattern)
    sdpMid: str | None = Field(default=None, max_length=64)
    sdpMLineIndex: int | None = Field(default=None, ge=0, le=64)
    usernameFragment: str | None = Field(default=None, max_length=256)


class QualitySample(_Message):
    level: Literal["good", "fair", "poor"]
    rtt_ms: float | None = Field(default=None, ge=0, le=60_000)
    loss_pct: float | None = Field(default=None, ge=0, le=100)
    jitter_ms: float | None = Field(default=None, ge=0, le=60_000)
    fps: float | None = Field(default=None, ge=0, le=240)
    bitrate_kbps: float | None = Field(default=None, ge=0, le=1_000_000)
    frames_decoded: int | None = Field(default=None, ge=0)
    audio_only: bool = False


class ClientStats(_Message):
    """What the browser measured during the pre-call echo."""

    rtt_ms: float | None = Field(default=None, ge=0, le=60_000)
    jitter_ms: float | None = Field(default=None, ge=0, le=60_000)
    loss_pct: float | None = Field(default=None, ge=0, le=100)
    out_bitrate_kbps: float | None = Field(default=None, ge=0, le=1_000_000)
    available_kbps: float | None = Field(default=None, ge=0, le=10_000_000)
    frames_decoded: int | None = Field(default=None, ge=0)
    frame_width: int | None = Field(default=None, ge=0, le=10_000)
    frame_height: int | None = Field(default=None, ge=0, le=10_000)
    audio_level: float | None = Field(default=None, ge=0, le=1)
    candidate_type: Literal["host", "srflx", "prflx", "relay"] | None = None
    camera: bool = False
    microphone: bool = False


# --- client -> server ---


class Join(_Message):
    t: Literal["join"]
    appointment: UUID | None = None
    clinic: UUID | None = None
    token: Token | None = None
    resume: int | None = Field(default=None, ge=0)
    last_signal: int | None = Field(default=None, ge=0)


class Ping(_Message):
    t: Literal["ping"]


class Testing(_Message):
    t: Literal["testing"]


class Ready(_Message):
    t: Literal["ready"]


class Precall(_Message):
    t: Literal["precall"]
    description: SessionDescription


class PrecallResult(_Message):
    t: Literal["precall_result"]
    stats: ClientStats


class Sdp(_Message):
    t: Literal["sdp"]
    to: UUID
    pc: PcId
    description: SessionDescription


class Ice(_Message):
    t: Literal["ice"]
    to: UUID
    pc: PcId
    candidate: IceCandidate | None


class Bye(_Message):
    t: Literal["bye"]
    to: UUID
    pc: PcId | None = None
    reason: str = Field(default="", max_length=200)


class Leave(_Message):
    """Leaving on purpose: the place becomes ``left`` and the others are told (not "reconnecting")."""

    t: Literal["leave"]


class Quality(_Message):
    t: Literal["quality"]
    sample: QualitySample


class Admit(_Message):
    t: Literal["admit"]
    participant: UUID


class Hold(_Message):
    t: Literal["hold"]
    participant: UUID


class Message(_Message):
    t: Literal["message"]
    to: UUID
    text: str = Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")


class Invite(_Message):
    t: Literal["invite"]
    appointment: UUID
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
    role: GuestRole = "interpreter"
    email: str | None = Field(default=None, max_length=254)


class End(_Message):
    t: Literal["end"]
    appointment: UUID


ClientMessage = Annotated[
    Join
    | Ping
    | Testing
    | Ready
    | Precall
    | PrecallResult
    | Sdp
    | Ice
    | Bye
    | Quality
    | Leave
    | Admit
    | Hold
    | Message
    | Invite
    | End,
    Field(discriminator="t"),
]
RELAYED = (Sdp, Ice, Bye)
CLINICIAN_ONLY = (Admit, Hold, Message, Invite, End)
_CLIENT = TypeAdapter[ClientMessage](ClientMessage)


def parse(text: str | bytes) -> ClientMessage:
    """One client message, or MessageTooLarge / MessageInvalid saying exactly what is wrong."""
    size = len(text.encode() if isinstance(text, str) else text)
    if size > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"Messages may be at most {MAX_MESSAGE_BYTES} bytes; this one has {size}.")
    try:
        return _CLIENT.validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "message"
        detail = str(first["msg"]).removeprefix("Value error, ")
        raise MessageInvalid(f"{where}: {detail}") from None


def message_type(text: str | bytes) -> str | None:
    """The ``t`` of a refused message, if it can be seen cheaply (for the error reply)."""
    match = re.search(rb'"t"\s*:\s*"([a-z_]{1,20})"', text.encode() if isinstance(text, str) else text[:200])
    return match.group(1).decode() if match else None


# --- server -> client ---


class Out(BaseModel):
    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class IceServerOut(BaseModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class Welcome(Out):
    t: Literal["welcome"] = "welcome"
    participant: UUID
    kind: ParticipantKind
    gen: int
    resumed: bool
    clinic: UUID
    appointment: UUID | None
    ice_servers: list[IceServerOut]
    heartbeat_seconds: int


class State(Out):
    t: Literal["state"] = "state"
    state: ParticipantState
    appointment_status: str | None = None


class Queue(Out):
    t: Literal["queue"] = "queue"
    position: int
    waiting: int
    estimate_minutes: int
    pace_minutes: int
    clinician_busy: bool


class Room(Out):
    t: Literal["room"] = "room"
    entries: list[RoomEntry]
    active_appointment: UUID | None


class Participant(Out):
    t: Literal["participant"] = "participant"
    entry: RoomEntry


class CallPeer(BaseModel):
    participant: UUID
    kind: ParticipantKind
    name: str
    gen: int
    connected: bool
    polite: bool  # perfect negotiation: the polite side yields on glare; the other side offers


class Call(Out):
    t: Literal["call"] = "call"
    appointment: UUID | None
    peers: list[CallPeer]


class Peer(Out):
    t: Literal["peer"] = "peer"
    status: Literal["joined", "left", "reconnecting", "connected"]
    peer: CallPeer
    # With "left": where the peer went ("left" = they chose to leave, "held", "waiting", "done"...).
    state: ParticipantState | None = None


class Relayed(Out):
    """An sdp / ice / bye message from another call member (``from`` replaces ``to``)."""

    model_config = ConfigDict(populate_by_name=True)

    t: Literal["sdp", "ice", "bye"]
    id: int  # increasing per receiver: sent back as join's last_signal after a drop
    sender: UUID = Field(serialization_alias="from")
    from_gen: int
    pc: str | None = None
    description: dict[str, Any] | None = None
    candidate: dict[str, Any] | None = None
    reason: str | None = None


class RoomMessage(Out):
    t: Literal["message"] = "message"
    at: AwareDatetime
    text: str
    sender: str = Field(serialization_alias="from")


class PeerQuality(Out):
    t: Literal["peer_quality"] = "peer_quality"
    participant: UUID
    level: Level
    audio_only: bool


class PrecallAnswer(Out):
    t: Literal["precall_answer"] = "precall_answer"
    description: SessionDescription


class PrecallVerdict(Out):
    t: Literal["precall_verdict"] = "precall_verdict"
    verdict: dict[str, Any]


class Invited(Out):
    t: Literal["invited"] = "invited"
    participant: UUID
    name: str
    url: str


class Pong(Out):
    t: Literal["pong"] = "pong"


class Error(Out):
    t: Literal["error"] = "error"
    code: str
    detail: str
    refused: str | None = None
