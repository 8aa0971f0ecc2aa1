"""Which failures are retried by redelivery and which become a condition, and what the
condition says (never key material, never a wall of text)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.acme.errors import PermanentAcmeError, TransientAcmeError
from shared.failures import INTERNAL_ERROR, describe, internal_error_since, unexpected
from shared.issuance.certificates import RetryLater
from shared.kube.errors import Conflict, Invalid, NotFound, Unavailable


@pytest.mark.parametrize(
    "error",
    [
        RetryLater("moved"),
        Unavailable(503, "ServiceUnavailable", "down"),
        Conflict(409, "Conflict", "moved"),
        NotFound(404, "NotFound", "gone"),
        TransientAcmeError(problem_type="rateLimited", detail="slow down"),
    ],
    ids=type,
)
def test_what_redelivery_may_fix_is_not_unexpected(error: Exception) -> None:
    assert not unexpected(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("Attribute's length must be >= 1 and <= 64"),
        KeyError('Directory field "newAccount" not found'),
        TypeError("unsupported operand"),
        Invalid(422, "Invalid", "refused"),
        PermanentAcmeError(problem_type="client", detail="bug"),
    ],
    ids=type,
)
def test_bugs_unforeseen_input_and_refused_writes_are_unexpected(error: Exception) -> None:
    assert unexpected(error)


def test_a_library_panic_is_unexpected_but_cancellation_interrupts_and_exits_are_not() -> None:
    import asyncio

    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    key = ec.generate_private_key(ec.SECP256R1())
    data = pkcs12.serialize_key_and_certificates(
        b"x", key, None, None, BestAvailableEncryption(b"a\x00b")
    )
    with pytest.raises(BaseException) as panic:
        pkcs12.load_pkcs12(data, b"a\x00b")
    assert not isinstance(panic.value, Exception)
    assert unexpected(panic.value)
    assert not unexpected(KeyboardInterrupt())
    assert not unexpected(SystemExit(1))
    assert not unexpected(asyncio.CancelledError())


def test_the_message_names_the_step_the_type_and_the_text_on_one_line() -> None:
    error = ValueError("DNSName values should be passed\nas an A-label string")
    assert describe(error, doing="reconciling the Certificate") == (
        "Internal error while reconciling the Certificate: ValueError: "
        "DNSName values should be passed as an A-label string"
    )


def test_the_message_never_carries_key_material_and_is_cut_short() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----"
    message = describe(ValueError(f"could not load {pem}"), doing="signing")
    assert "MIIEvQ" not in message
    assert "withheld" in message
    long = describe(RuntimeError("x" * 5000), doing="signing")
    assert len(long) < 600
    assert long.endswith("...")


def test_an_internal_error_counts_only_at_the_generation_it_was_recorded_for() -> None:
    metadata = {"generation": 3}
    obj = {
        "metadata": metadata,
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": INTERNAL_ERROR,
                    "message": "x",
                    "lastTransitionTime": "2026-01-02T03:04:05Z",
                    "observedGeneration": 3,
                }
            ]
        },
    }
    assert internal_error_since(obj) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    metadata["generation"] = 4  # the spec changed since: try at once
    assert internal_error_since(obj) is None
