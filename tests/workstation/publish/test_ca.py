from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tainik.workstation.publish.ca import CertificateAuthority
from workstation.publish.conftest import NOW


def test_signing_certificate_is_issued_not_self_signed(ca: CertificateAuthority) -> None:
    signing = ca.issue(NOW)
    cert = signing.certificate
    assert cert.issuer == ca.certificate.subject != cert.subject
    cert.verify_directly_issued_by(ca.certificate)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert not usage.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert not basic.ca
    assert signing.chain_pem.count(b"BEGIN CERTIFICATE") == 2


def test_each_publication_gets_its_own_key(ca: CertificateAuthority) -> None:
    assert ca.issue(NOW).certificate.public_key() != ca.issue(NOW).certificate.public_key()
    assert ca.issue(NOW).serial != ca.issue(NOW).serial


def test_ca_round_trips_through_pem(ca: CertificateAuthority) -> None:
    again = CertificateAuthority.from_pem(ca.certificate_pem(), ca.key_pem())
    assert again.fingerprint() == ca.fingerprint()
    assert again.organisation == "Test NGO"
