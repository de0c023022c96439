"""The signing key from settings: PEM files with a passphrase and a chain, and the refusals that
name the setting when the files cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.core.config import Settings
from backend.reports import render, signing
from tests.signing_keys import KeyFiles, provider_keys, validate


def _pdf() -> bytes:
    from datetime import UTC, datetime
    from uuid import uuid4

    stamp = render.Stamp(uuid4(), datetime.now(UTC).replace(microsecond=0), "0" * 64)
    return render.build("Health surveillance certificate", [render.para("Outcome: fit")], stamp)


def _settings(files: KeyFiles, passphrase: str | None = None) -> Settings:
    return Settings(
        environment="development",
        signing_key_file=files.key,
        signing_cert_file=files.cert,
        signing_key_passphrase=passphrase,
    )


@pytest.fixture(scope="module")
def encrypted(tmp_path_factory: pytest.TempPathFactory) -> KeyFiles:
    return provider_keys(tmp_path_factory.mktemp("keys"), passphrase=b"correct horse battery staple")


def test_an_encrypted_provider_key_signs_and_validates_to_its_ca(encrypted: KeyFiles) -> None:
    signer = signing.load(_settings(encrypted, "correct horse battery staple"))
    assert not signer.development
    status = validate(signer.sign(_pdf()), encrypted.ca_der)  # the chain travels in the signature
    assert (status.intact, status.valid, status.trusted, status.bottom_line) == (True, True, True, True)
    assert status.signing_cert.subject.native["common_name"] == "Example OH Provider documents"


def test_a_wrong_or_missing_passphrase_names_the_setting(encrypted: KeyFiles) -> None:
    with pytest.raises(signing.SigningKeyError, match="OHCONNECT_SIGNING_KEY_PASSPHRASE is wrong"):
        signing.load(_settings(encrypted, "not the passphrase"))
    with pytest.raises(signing.SigningKeyError, match="OHCONNECT_SIGNING_KEY_PASSPHRASE does not fit"):
        signing.load(_settings(encrypted))


def test_a_certificate_for_another_key_is_refused(encrypted: KeyFiles, tmp_path: Path) -> None:
    other = provider_keys(tmp_path)
    mixed = KeyFiles(other.key, encrypted.cert, encrypted.ca_der)
    with pytest.raises(signing.SigningKeyError, match="OHCONNECT_SIGNING_CERT_FILE's first certificate"):
        signing.load(_settings(mixed))


def test_unreadable_or_wrong_files_name_the_setting(encrypted: KeyFiles, tmp_path: Path) -> None:
    absent = KeyFiles(tmp_path / "absent.pem", encrypted.cert, encrypted.ca_der)
    with pytest.raises(signing.SigningKeyError, match="OHCONNECT_SIGNING_KEY_FILE cannot be read"):
        signing.load(_settings(absent))
    (tmp_path / "text.pem").write_text("hello\n")
    not_cert = KeyFiles(provider_keys(tmp_path / "k").key, tmp_path / "text.pem", b"")
    with pytest.raises(signing.SigningKeyError, match="OHCONNECT_SIGNING_CERT_FILE is not a PEM certificate"):
        signing.load(_settings(not_cert))
