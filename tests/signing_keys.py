"""Throwaway signing keys for tests: a small CA and a document-signing certificate it issued, and
PDF signature validation against a chosen trust root. Nothing here is a real key."""

from __future__ import annotations

import atexit
import io
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from backend.reports import signing


@dataclass(frozen=True)
class KeyFiles:
    key: Path
    cert: Path
    ca_der: bytes  # the trust root a verifier would hold


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example OH Provider (test only)"),
        ]
    )


def _usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signer, content_commitment=signer, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=not signer, crl_sign=not signer, encipher_only=False,
        decipher_only=False,
    )  # fmt: skip


def _cert(
    subject: x509.Name, key: rsa.RSAPrivateKey, *, issuer: x509.Name, issuer_key: rsa.RSAPrivateKey, ca: bool
) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage(signer=not ca), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def provider_keys(folder: Path, *, passphrase: bytes | None = None, bits: int = 2048) -> KeyFiles:
    """An RSA signing key (encrypted when a passphrase is given) and its certificate followed by
    the issuing CA's, written as PEM files the way an operator would configure them."""
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    ca_name = _name("Example OH Provider test CA")
    ca = _cert(ca_name, ca_key, issuer=ca_name, issuer_key=ca_key, ca=True)
    leaf = _cert(_name("Example OH Provider documents"), key, issuer=ca_name, issuer_key=ca_key, ca=False)
    folder.mkdir(parents=True, exist_ok=True)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    key_file, cert_file = folder / "signing-key.pem", folder / "signing-cert.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    cert_file.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    )
    return KeyFiles(key_file, cert_file, ca.public_bytes(serialization.Encoding.DER))


def _throwaway_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="ohconnect-test-signing-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def throwaway_pem_files() -> tuple[str, str]:
    """A generated key and certificate, in one PEM file named for both settings (a production
    configuration in tests needs files that exist)."""
    path = _throwaway_folder() / "signing.pem"
    path.write_bytes(signing.development_pem())
    return str(path), str(path)


def validate(data: bytes, trust_root: bytes) -> PdfSignatureStatus:
    """pyHanko's verdict on the one signature in ``data``, trusting only ``trust_root`` (DER).
    Synchronous (pyHanko runs its own event loop): call it from a thread in async tests."""
    found = PdfFileReader(io.BytesIO(data)).embedded_signatures
    assert len(found) == 1, f"expected one signature, found {len(found)}"
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(trust_root)])
    return validate_pdf_signature(found[0], context)


def signature_count(data: bytes) -> int:
    return len(PdfFileReader(io.BytesIO(data)).embedded_signatures)
