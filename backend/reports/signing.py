"""PAdES signatures on issued PDFs (pyHanko), so a reader shows a document as unaltered since issue.

The key and certificate come from settings (PEM files, the key optionally encrypted). Without them,
development and demo installs sign with a development key generated once into the data folder,
and tests with one generated per process; both name themselves "ohconnect development signing key
— not for production". Production refuses to start without a configured key (core.config).

Signing is CPU work and pyHanko's synchronous API runs its own event loop: call ``sign`` from a
worker thread (backend.reports.offload), never from the server's loop.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from backend.core.config import Settings
from backend.reports import offload

logger = logging.getLogger(__name__)

DEVELOPMENT_NAME = "ohconnect development signing key — not for production"
DEVELOPMENT_FILE = "development-signing-key.pem"  # under <data_dir>/signing/: key and certificate
FIELD_NAME = "ohconnect"
REASON = "Issued by ohconnect; any change after issue invalidates this signature"


SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


class SigningKeyError(RuntimeError):
    """The configured key or certificate cannot be used; the message names the setting."""


class _KeptKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner re-parses the private key for every signature (for RSA, with a
    consistency check costing tens to hundreds of milliseconds); this one keeps the parsed key."""

    def __init__(
        self, key: SigningKey, *, cert: asn1_x509.Certificate, chain: list[asn1_x509.Certificate]
    ) -> None:
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        super().__init__(
            signing_cert=cert,
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs(chain),  # type: ignore[no-untyped-call]
        )
        self._key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        key = self._key
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        if mechanism == "ed25519" and isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        result: bytes = super().sign_raw(data, digest_algorithm)  # PSS and the rarer mechanisms
        return result


@dataclass(frozen=True)
class DocumentSigner:
    """Signs PDF bytes; ``certificate`` is the signer's certificate (DER) for checking them."""

    signer: signers.Signer
    certificate: bytes
    development: bool
    # Room for the signature container (in hex digits, two per byte), so pyHanko need not sign a
    # dummy first to measure it: the certificates it embeds plus the signature and signed
    # attributes (well under 2 kB).
    reserved: int = 16384

    def sign(self, pdf: bytes) -> bytes:
        """A PAdES baseline (B-B) certification signature, no changes permitted, appended as an
        incremental update: the rendered bytes stay as they were, with the signature after them."""
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            certify=True,
            docmdp_permissions=fields.MDPPerm.NO_CHANGES,
            reason=REASON,
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        out = signers.sign_pdf(writer, meta, signer=self.signer, bytes_reserved=self.reserved)
        signed: bytes = out.getvalue()
        return signed


def _signer(key: object, certs: list[x509.Certificate], *, development: bool) -> DocumentSigner:
    if not isinstance(key, SigningKey):
        raise SigningKeyError("OHCONNECT_SIGNING_KEY_FILE must hold an RSA, EC or Ed25519 private key")
    if certs[0].public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise SigningKeyError(
            "OHCONNECT_SIGNING_CERT_FILE's first certificate is not for OHCONNECT_SIGNING_KEY_FILE's key"
        )
    as_asn1 = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certs]
    signer = _KeptKeySigner(key, cert=as_asn1[0], chain=as_asn1[1:])
    embedded = sum(len(cert.dump()) for cert in as_asn1)
    return DocumentSigner(signer, as_asn1[0].dump(), development, reserved=2 * (2048 + embedded))


def from_pem(
    key_pem: bytes, cert_pem: bytes, passphrase: bytes | None = None, *, development: bool = False
) -> DocumentSigner:
    """A signer from a PEM private key and PEM certificates (the signer's first, then its chain)."""
    try:
        key = serialization.load_pem_private_key(key_pem, passphrase)
    except TypeError as exc:  # encrypted without a passphrase, or a passphrase for a plain key
        raise SigningKeyError(
            "OHCONNECT_SIGNING_KEY_PASSPHRASE does not fit OHCONNECT_SIGNING_KEY_FILE (set it only "
            "for an encrypted key)"
        ) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:  # not PEM, or a wrong passphrase
        raise SigningKeyError(
            "OHCONNECT_SIGNING_KEY_FILE is not a PEM private key, or OHCONNECT_SIGNING_KEY_PASSPHRASE "
            "is wrong"
        ) from exc
    try:
        certs = x509.load_pem_x509_certificates(cert_pem)
    except ValueError as exc:
        raise SigningKeyError("OHCONNECT_SIGNING_CERT_FILE is not a PEM certificate") from exc
    return _signer(key, certs, development=development)


def development_pem() -> bytes:
    """A new self-signed development key and certificate (P-256, ten years), as one PEM file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, DEVELOPMENT_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ohconnect (development only)"),
        ]
    )
    now = datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem + cert.public_bytes(serialization.Encoding.PEM)


def _development_file(data_dir: Path) -> bytes:
    """The data folder's development key, generated by whichever process gets there first."""
    path = data_dir / "signing" / DEVELOPMENT_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        draft = path.with_name(f".{DEVELOPMENT_FILE}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(development_pem())
        with contextlib.suppress(FileExistsError):  # another process won: use its key
            os.link(draft, path)
        draft.unlink()
    return path.read_bytes()


_EPHEMERAL_LOCK = threading.Lock()


@functools.cache
def _ephemeral_unlocked() -> DocumentSigner:
    pem = development_pem()
    return from_pem(pem, pem, development=True)


def _ephemeral() -> DocumentSigner:
    """One key per test process, whichever thread asks first."""
    with _EPHEMERAL_LOCK:
        return _ephemeral_unlocked()


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"{setting} cannot be read ({exc.strerror}): {path}") from exc


def load(settings: Settings) -> DocumentSigner:
    """The signer for this process, from settings; checked at start-up, so a bad key stops it."""
    if settings.signing_key_file is not None and settings.signing_cert_file is not None:
        secret = settings.signing_key_passphrase
        return from_pem(
            _read(settings.signing_key_file, "OHCONNECT_SIGNING_KEY_FILE"),
            _read(settings.signing_cert_file, "OHCONNECT_SIGNING_CERT_FILE"),
            secret.get_secret_value().encode() if secret is not None else None,
        )
    if settings.environment == "production":  # the production guard refuses this first
        raise SigningKeyError("production needs OHCONNECT_SIGNING_KEY_FILE and OHCONNECT_SIGNING_CERT_FILE")
    if settings.environment == "test":
        return _ephemeral()
    pem = _development_file(settings.data_dir)
    logger.warning("signing documents with the %s (set OHCONNECT_SIGNING_KEY_FILE)", DEVELOPMENT_NAME)
    return from_pem(pem, pem, development=True)


async def render_signed(signer: DocumentSigner, render: Callable[[], bytes]) -> bytes:
    """Render a PDF and sign it, both on a document thread (backend.reports.offload)."""
    return await offload.run(lambda: signer.sign(render()))
