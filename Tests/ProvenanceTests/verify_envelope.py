#!/usr/bin/env python3
"""Verifies a DSSE envelope holding an in-toto statement with securesystemslib, independently
of buildchain's Swift code: the key id is recomputed here (SHA-256 of the public key's DER
SubjectPublicKeyInfo), the signature is checked over securesystemslib's own PAE, and the
statement's subject must carry the SHA-256 of the artifact file computed here.

usage: verify_envelope.py ENVELOPE PUBLIC_KEY_PEM ARTIFACT
Prints "ok" and exits 0 when all hold; prints why and exits 1 otherwise.
"""
import hashlib
import json
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey


def main(envelope_path, key_path, artifact_path):
    pem = open(key_path, "rb").read()
    public = serialization.load_pem_public_key(pem)
    if isinstance(public, ec.EllipticCurvePublicKey):
        keytype, scheme = "ecdsa", "ecdsa-sha2-nistp256"
    elif isinstance(public, ed25519.Ed25519PublicKey):
        keytype, scheme = "ed25519", "ed25519"
    else:
        return "unsupported key type"
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    keyid = hashlib.sha256(der).hexdigest()
    key = SSlibKey.from_crypto(public, keyid=keyid, scheme=scheme)
    if key.keytype != keytype:
        return f"securesystemslib reads a {key.keytype} key"

    envelope = Envelope.from_dict(json.load(open(envelope_path)))
    try:
        envelope.verify([key], 1)
    except Exception as error:  # VerificationError and friends
        return f"signature: {error}"
    if envelope.payload_type != "application/vnd.in-toto+json":
        return f"payload type {envelope.payload_type}"
    statement = json.loads(envelope.payload)
    if statement.get("_type") != "https://in-toto.io/Statement/v1":
        return f"statement type {statement.get('_type')}"
    if statement.get("predicateType") != "https://slsa.dev/provenance/v1":
        return f"predicate type {statement.get('predicateType')}"
    artifact = hashlib.sha256(open(artifact_path, "rb").read()).hexdigest()
    if not any(s.get("digest", {}).get("sha256") == artifact for s in statement.get("subject", [])):
        return f"no subject has the artifact's sha256 {artifact}"
    return None


if __name__ == "__main__":
    why = main(*sys.argv[1:4])
    print("ok" if why is None else why)
    sys.exit(0 if why is None else 1)
