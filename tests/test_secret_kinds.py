"""The credential shapes of ``otlint.core.redact``: what is a secret, what is not, what is masked.

The texts are the shapes met in real captures and real instrumentation tests (SQL with
bind parameters, URLs without userinfo, log lines that talk about tokens); the secrets
are fake.
"""

from __future__ import annotations

import pytest

from otlint.core.redact import (
    KIND_LABELS,
    MASK,
    carrying,
    credential_key,
    find_secrets,
    is_placeholder,
    mask_secrets,
)

NOT_SECRETS = [
    "SELECT secret FROM users",
    "SELECT * FROM users WHERE token = $1",
    "UPDATE users SET password = ? WHERE id = ?",
    "SELECT password_hash FROM accounts WHERE email = :email",
    "SELECT * FROM t WHERE api_key = @apiKey",
    "INSERT INTO creds (user, password) VALUES ($1, $2)",
    "https://api.example.com/v1/items?page=2&sort=key",
    "http://localhost:8080/auth/login?next=/home",
    "mongodb://mongo:27017/db",
    "postgres://db:5432/app",
    "https://user@host/path",
    "Invalid token: expired",
    "jwt validation failed: token is expired",
    "KeyError: 'api_key'",
    "auth failed for user bob",
    "Authorization header missing",
    "Basic auth disabled",
    "basic authentication failed",
    "Bearer token required",
    "token_type=bearer",
    "grant_type=client_credentials",
    "api_key=${API_KEY}",
    "password: ****",
    "token=REDACTED",
    "authorization: Bearer <token>",
    "set password: [FILTERED]",
    "token: 12345",
    "secret=true",
    "max_tokens=4096",
    "PWD=/usr/src/app",
    "token=/var/run/secrets/kubernetes.io/serviceaccount/token",
    "AKIAIOSFODNN7EXAMPLE",  # AWS's documented example key
    "HGET 1de96255-169b-40e2-b972-4461d30e654c",
    "java.lang.IllegalStateException: Secret key not found at com.x.Y.z(Y.java:42)",
]

SECRETS = [
    ("password=hunter22", "assignment", "hunter22"),
    ("Pwd=MyPass123;", "assignment", "MyPass123"),
    ("api_key='f3a9c1d2e4b5a6978877'", "assignment", "f3a9c1d2e4b5a6978877"),
    ("postgres://admin:S3cr3t!@db:5432/app", "url-credentials", "S3cr3t!"),
    ("amqp://guest:guest@rabbitmq:5672/", "url-credentials", "guest@"),
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "http-credentials", "dXNlcjpwYXNzd29yZA=="),
    (
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9P",
        "jwt",
        "dozjgNryP4J3jVmNHl0w5N",
    ),
    ("aws key AKIAZ5XQ7RTYUIOPLKJH used", "cloud-key", "AKIAZ5XQ7RTYUIOPLKJH"),
    ("?token=ghp_abcdefghijklmnopqrstuvwxyz0123456789", "token", "ghp_abcdefghij"),
    ("charge with sk_live_4eC39HqLyjWDarjtT1zdp7dc", "token", "4eC39HqLyjWDarjtT1zdp7dc"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        "private-key",
        "MIIEow",
    ),
]


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_no_credential_is_found_where_there_is_none(text: str) -> None:
    assert [kind.name for kind in find_secrets(text)] == []


@pytest.mark.parametrize(("text", "kind", "part"), SECRETS)
def test_each_kind_is_found_and_its_secret_part_masked(text: str, kind: str, part: str) -> None:
    assert kind in [k.name for k in find_secrets(text)]
    masked = mask_secrets(text)
    assert part not in masked
    assert MASK in masked


def test_masking_keeps_what_is_around_the_secret() -> None:
    assert (
        mask_secrets("postgres://admin:S3cr3t!@db:5432/app") == "postgres://admin:****@db:5432/app"
    )
    assert mask_secrets("login ok user=bob password=hunter22 took 3 ms") == (
        "login ok user=bob password=**** took 3 ms"
    )


@pytest.mark.parametrize("label", sorted(KIND_LABELS.values()))
def test_a_kind_label_is_never_masked_itself(label: str) -> None:
    # A finding's message names the kind: masking must leave the name readable.
    message = f"log body holds {label}: purge those records and rotate the credential"
    assert mask_secrets(message) == message


def test_credential_keys() -> None:
    named = [
        "http.request.header.authorization",
        "http.request.header.cookie",
        "http.request.header.x-api-key",
        "http.request.header.openai-api-key",
        "rpc.grpc.request.metadata.authorization",
        "db.password",
        "app.client_secret",
    ]
    assert all(credential_key(key) for key in named)
    plain = [
        "http.request.header.content-type",
        "http.request.header.x-request-id",
        "app.cache.key",
    ]
    assert not any(credential_key(key) for key in plain)


def test_placeholders() -> None:
    for value in [
        "",
        "REDACTED",
        "****",
        "${TOKEN}",
        "Bearer ****",
        "Bearer ${TOKEN}",
        "<your-key>",
        "Basic",
    ]:
        assert is_placeholder(value), value
    for value in ["Bearer abc123", "hunter22", "s.Ab12Cd34"]:
        assert not is_placeholder(value), value


def test_carrying_picks_the_values_that_may_hold_a_credential() -> None:
    # Encoded values: ``@`` is also a length byte, so a URL counts only with user:password@.
    raws = [
        b"\n\x08url.full\x12@\n>http://checkout.shop/api",
        b"\n\x10login password=x",
        b"plain text",
        b"http://u:p@h/",
        b"http://h/a@b",
        b"Cookie: a=b",
    ]
    assert carrying(raws) == {1, 3, 5}
