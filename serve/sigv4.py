"""Verifying an AWS Signature Version 4, as AWS does for a request to Amazon Translate: the key,
the signature over the method, path, query, signed headers and body, the date (within 15 minutes
of the server's clock) and the credential scope (the date signed, the translate service).

https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
"""
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, quote

from serve.auth import ApiKey

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "translate"
MAX_SKEW = timedelta(minutes=15)
_AUTHORIZATION = re.compile(
    ALGORITHM + r" Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/(?P<service>[^/,\s]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<headers>[a-z0-9;\-]+),\s*Signature=(?P<signature>[0-9a-f]{64})")
AMZ_DATE = "%Y%m%dT%H%M%SZ"


@dataclass
class SignatureError(Exception):
    """AWS's error for a request it will not authenticate: its code, status and message."""
    code: str
    status: int
    message: str


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str
    query_string: bytes
    headers: dict[str, str]  # lower-case names
    body: bytes


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def _canonical_query(query_string: bytes) -> str:
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(pairs))


def verify(request: SignedRequest, keys: dict[str, ApiKey], now: datetime | None = None) -> ApiKey:
    """The key that signed `request`, or SignatureError naming what is wrong, with AWS's code for it."""
    authorization = request.headers.get("authorization")
    if not authorization:
        raise SignatureError("MissingAuthenticationTokenException", 403,
                             "Missing Authentication Token: this server requires requests signed with an s2s SigV4 "
                             "key (`s2s keys add NAME --sigv4`)")
    found = _AUTHORIZATION.fullmatch(authorization.strip())
    if found is None:
        raise SignatureError("IncompleteSignatureException", 400,
                             f"Authorization header is not an {ALGORITHM} signature with Credential, SignedHeaders "
                             "and Signature")
    key = keys.get(found["key"])
    if key is None:
        raise SignatureError("UnrecognizedClientException", 403,
                             f"The security token included in the request is invalid: no access key id "
                             f"{found['key']!r} on this server")
    signed = found["headers"].split(";")
    if "host" not in signed or "x-amz-date" not in signed:
        raise SignatureError("IncompleteSignatureException", 400, "the signed headers must include host and "
                                                                  "x-amz-date")
    missing = [name for name in signed if name not in request.headers]
    if missing:
        raise SignatureError("IncompleteSignatureException", 400,
                             f"signed headers missing from the request: {', '.join(missing)}")
    amz_date = request.headers.get("x-amz-date", "")
    try:
        when = datetime.strptime(amz_date, AMZ_DATE).replace(tzinfo=timezone.utc)
    except ValueError:
        raise SignatureError("IncompleteSignatureException", 400,
                             f"X-Amz-Date {amz_date!r} is not a date like 20261130T120000Z") from None
    now = now or datetime.now(timezone.utc)
    if abs(now - when) > MAX_SKEW:
        raise SignatureError("InvalidSignatureException", 403,
                             f"Signature expired: {amz_date} is more than 15 minutes from the server's time "
                             f"{now.strftime(AMZ_DATE)}; check the client's clock")
    if found["date"] != amz_date[:8] or found["service"] != SERVICE:
        raise SignatureError("InvalidSignatureException", 403,
                             f"Credential should be scoped to a valid date and service: "
                             f"{found['date']}/{found['region']}/{found['service']}, expected {amz_date[:8]}/"
                             f"REGION/{SERVICE}")
    canonical = "\n".join([
        request.method, quote(request.path, safe="/~"), _canonical_query(request.query_string),
        "".join(f"{name}:{' '.join(request.headers[name].split())}\n" for name in signed), found["headers"],
        hashlib.sha256(request.body).hexdigest()])
    scope = f"{found['date']}/{found['region']}/{SERVICE}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    signing_key = ("AWS4" + key.secret).encode("utf-8")
    for part in (found["date"], found["region"], SERVICE, "aws4_request"):
        signing_key = _hmac(signing_key, part)
    if not hmac.compare_digest(hmac.new(signing_key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest(),
                               found["signature"]):
        raise SignatureError("InvalidSignatureException", 403,
                             "The request signature we calculated does not match the signature you provided. "
                             "Check your AWS Secret Access Key and signing method.")
    return key
