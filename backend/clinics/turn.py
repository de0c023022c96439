"""ICE servers from settings, with short-lived TURN credentials (coturn ``use-auth-secret``).

The REST scheme (draft-uberti-behave-turn-rest-00): the username is ``<expiry unix time>:<who>``
and the password is base64(HMAC-SHA1(shared secret, username)). coturn checks both and refuses
the credentials after the expiry; nothing is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from aiortc import RTCConfiguration, RTCIceServer

from backend.clinics.schemas import IceConfig, IceServer
from backend.core.clock import utc_now
from backend.core.config import Settings


def turn_credentials(secret: str, who: str, ttl_seconds: int, now: datetime) -> tuple[str, str]:
    username = f"{int(now.timestamp()) + ttl_seconds}:{who}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_config(settings: Settings, who: str) -> IceConfig:
    servers: list[IceServer] = []
    if settings.stun_urls:
        servers.append(IceServer(urls=list(settings.stun_urls)))
    if settings.turn_urls and settings.turn_secret is not None:
        username, password = turn_credentials(
            settings.turn_secret.get_secret_value(), who, settings.turn_ttl_seconds, utc_now()
        )
        servers.append(IceServer(urls=list(settings.turn_urls), username=username, credential=password))
    return IceConfig(ice_servers=servers, ttl_seconds=settings.turn_ttl_seconds)


def rtc_configuration(settings: Settings) -> RTCConfiguration:
    """The server's own peers use the same servers; with none configured, no STUN lookup at all."""
    config = ice_config(settings, "ohconnect-server")
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
            for s in config.ice_servers
        ]
    )
