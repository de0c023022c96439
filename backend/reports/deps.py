"""The process's document signer (loaded at start-up by the app's lifespan) as a dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from backend.reports.signing import DocumentSigner


async def get_signer(request: Request) -> DocumentSigner:
    """Async on purpose: a plain function dependency would run in the thread pool."""
    signer: DocumentSigner = request.app.state.signer
    return signer


Signer = Annotated[DocumentSigner, Depends(get_signer)]
