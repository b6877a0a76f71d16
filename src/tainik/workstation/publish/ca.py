"""The organisation's local certificate authority, for signing publications.

C2PA validators refuse self-signed signing certificates. So the organisation keeps a small CA
of its own: a root certificate (ECDSA P-256) that it publishes, on its website and beside its
publications, for verifiers to use as their trust anchor, and whose private key never leaves
the workstation. Each publication is signed with a fresh key whose certificate the CA issues
on the spot; that key is used once and forgotten, so the only long-lived secret is the CA key.

The signing certificate carries what C2PA asks of one: digitalSignature key usage, an extended
key usage on its allowed list (document signing and e-mail protection), and both key
identifiers so that validators can build the chain.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tainik.core.errors import N_, UsageError

CA_YEARS = 30
#: Long, because a validator checks the certificate's validity when it reads the manifest
#: (there is no time-stamp authority on an offline workstation).
SIGNING_YEARS = 25
_DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


def _usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _years(moment: datetime.datetime, years: int) -> datetime.datetime:
    return moment + datetime.timedelta(days=365 * years + years // 4)


@dataclass(frozen=True)
class SigningCredentials:
    """A one-time signing key and its certificate chain (leaf first, then the CA)."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain_pem: bytes

    def key_pem(self) -> bytes:
        """The key as unencrypted PKCS#8 PEM, for the C2PA library (kept in memory only)."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def serial(self) -> str:
        """The certificate's serial number in hexadecimal."""
        return format(self.certificate.serial_number, "x")


@dataclass(frozen=True)
class CertificateAuthority:
    """A root certificate and its private key."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def create(cls, organisation: str, now: datetime.datetime) -> CertificateAuthority:
        """A new CA named for ``organisation``."""
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} publication CA"),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(_years(now, CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(sign=False, ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        return cls(certificate, key)

    @property
    def organisation(self) -> str:
        """The organisation name in the CA's subject."""
        values = self.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        return str(values[0].value) if values else ""

    def certificate_pem(self) -> bytes:
        """The root certificate, PEM: what verifiers use as their trust anchor."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def fingerprint(self) -> str:
        """SHA-256 of the root certificate (DER), hexadecimal: to compare by eye."""
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    def issue(self, now: datetime.datetime) -> SigningCredentials:
        """A fresh signing key and a certificate for it, issued by this CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        ca_key_id = self.certificate.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier
        ).value
        certificate = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organisation),
                        x509.NameAttribute(
                            NameOID.COMMON_NAME, f"{self.organisation} publication signing"
                        ),
                    ]
                )
            )
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(min(_years(now, SIGNING_YEARS), self.certificate.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(sign=True, ca=False), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([_DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id), False
            )
            .sign(self.key, hashes.SHA256())
        )
        chain = certificate.public_bytes(serialization.Encoding.PEM) + self.certificate_pem()
        return SigningCredentials(key, certificate, chain)

    def key_pem(self) -> bytes:
        """The CA key as PKCS#8 PEM, unencrypted: :mod:`.castore` protects it before storage."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @classmethod
    def from_pem(cls, certificate_pem: bytes, key_pem: bytes) -> CertificateAuthority:
        """Load a CA written by :meth:`certificate_pem` and :meth:`key_pem`."""
        certificate = x509.load_pem_x509_certificate(certificate_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the CA key is not an EC key")
        spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
            raise ValueError("the CA key does not match the CA certificate")
        return cls(certificate, key)


def load_certificates(pem: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle."""
    return x509.load_pem_x509_certificates(pem)


def check_trust_anchors(pem: bytes, path: Path) -> None:
    """Refuse a --trust file that holds no PEM certificate (the C2PA library expects one)."""
    try:
        load_certificates(pem)
    except ValueError as exc:
        raise UsageError(
            N_("{path}: not a PEM certificate ({reason})"), path=str(path), reason=str(exc)
        ) from exc
