"""`POST /api/auth/token` (OAuth2 password form) and `GET /api/auth/me`.

python-multipart is not a dependency, so FastAPI's `OAuth2PasswordRequestForm` cannot be used;
the form is parsed here from the raw `application/x-www-form-urlencoded` body, which is what
every OAuth2 client sends for the password grant. Multipart bodies are refused (415).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from orderctl.api.deps import CurrentActor, ReadUow, WriteUow, bearer, role_of
from orderctl.api.errors import responses
from orderctl.api.jsonbody import JsonRoute
from orderctl.durations import parse_duration
from orderctl.errors import NotAuthenticated, NotFound, ValidationFailed
from orderctl.schemas import ExactUsername, Timestamp, TokenName, TokenRead, UserRead
from orderctl.services import auth
from orderctl.services.access import Actor
from orderctl.services.auth import login, logout

router = APIRouter(route_class=JsonRoute, prefix="/api/auth", tags=["auth"])

FORM_TYPE = "application/x-www-form-urlencoded"
#: A username (64) and a password (1024), URL-encoded, fit easily; anything bigger is hostile.
MAX_FORM_BYTES = 16 * 1024


class PasswordForm(BaseModel):
    username: str
    password: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: Timestamp | None


async def password_form(request: Request) -> PasswordForm:
    """`username` and `password` from a urlencoded body; `grant_type`, if given, is `password`."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise HTTPException(415, f"send the credentials as {FORM_TYPE}")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413, "request body too large")
    try:
        text = body.decode("utf-8")
        fields = parse_qs(text, keep_blank_values=True, strict_parsing=False, max_num_fields=16)
    except (UnicodeDecodeError, ValueError):
        raise ValidationFailed("body: not a valid urlencoded form") from None
    values: dict[str, str] = {}
    for name in ("username", "password", "grant_type"):
        given = fields.get(name)
        if given is None:
            continue
        if len(given) > 1:
            raise ValidationFailed(f"{name}: given more than once")
        values[name] = given[0]
    for name in ("username", "password"):
        if not values.get(name):
            raise ValidationFailed(f"{name}: field required")
    if values.get("grant_type", "password") != "password":
        raise ValidationFailed("grant_type: must be 'password'")
    if "\x00" in values["username"] or "\x00" in values["password"]:
        raise ValidationFailed("username: must not contain NUL characters")
    return PasswordForm(username=values["username"], password=values["password"])


_FORM_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            FORM_TYPE: {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["password"]},
                        "username": {"type": "string"},
                        "password": {"type": "string", "format": "password"},
                    },
                }
            }
        },
    }
}


@router.post(
    "/token",
    response_model=TokenResponse,
    openapi_extra=_FORM_OPENAPI,
    # The form is read by `password_form`, not by FastAPI: its answers are listed here.
    responses=responses(401, 413, 415, 422),
)
def create_token(
    form: Annotated[PasswordForm, Depends(password_form)], uow: WriteUow
) -> TokenResponse:
    """Log in: the same kind of token as `orderctl auth login` (30 days)."""
    secret, token = login(uow, form.username, form.password)
    return TokenResponse(access_token=secret, expires_at=token.expires_at)


@router.delete("/token", status_code=204, response_class=Response)
def revoke_token(token: Annotated[str | None, Depends(bearer)], uow: WriteUow) -> Response:
    """Log out: revoke the bearer token of this request (`orderctl auth logout`).

    Holding the token is the proof, so an expired token can be revoked too. 401 when the
    database does not know it.
    """
    if not token or logout(uow, token) is None:
        raise NotAuthenticated("not authenticated: send the token to revoke as a bearer token")
    return Response(status_code=204)


@router.get("/me", response_model=UserRead, responses=responses(404))
def me(actor: CurrentActor, uow: ReadUow) -> UserRead:
    """The user behind the bearer token (the user document of `orderctl users list`)."""
    user = uow.users.get(actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise NotFound("the token's user no longer exists")
    return UserRead.model_validate(user)


# ---- named tokens for automation (`orderctl auth token create/list/revoke`) ----


class TokenRequest(BaseModel):
    """A named, long-lived token: for yourself, or (admin) for `user`."""

    model_config = ConfigDict(extra="forbid")

    name: TokenName
    expires: str = Field(
        default="90d",
        description="A duration such as 90d or 12h, or `never`.",
        # `durations.parse_duration`, documented up to 9999 of a unit (the code: 36500d).
        json_schema_extra={"pattern": "^(?:[1-9][0-9]{0,3}[smhd]|never)$"},
    )
    user: ExactUsername | None = None


class CreatedToken(BaseModel):
    """The secret is shown once, here; only its hash is stored."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    token: TokenRead


def _ttl(text: str) -> timedelta | None:
    if text.strip().lower() == "never":
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ValidationFailed(f"expires: {exc} (or `never`)") from None


@router.get("/tokens", response_model=list[TokenRead])
def list_tokens(
    uow: ReadUow,
    actor: Annotated[Actor, role_of(auth.list_tokens)],
    all_users: Annotated[bool, Query(alias="all", description="Everyone's (admin).")] = False,
) -> list[TokenRead]:
    """Your tokens (or everyone's with `all=true`, admin), oldest first, revoked ones too."""
    return auth.list_tokens(uow, actor, all_users=all_users)


@router.post("/tokens", response_model=CreatedToken, status_code=201, responses=responses(404))
def create_named_token(
    body: TokenRequest, uow: WriteUow, actor: Annotated[Actor, role_of(auth.create_token)]
) -> CreatedToken:
    """Create a named token (default 90 days); another user's needs the admin role."""
    secret, token = auth.create_token(
        uow, actor, name=body.name, ttl=_ttl(body.expires), username=body.user
    )
    return CreatedToken(access_token=secret, token=token)


@router.delete("/tokens/{token_id}", response_model=TokenRead)
def revoke_named_token(
    token_id: int, uow: WriteUow, actor: Annotated[Actor, role_of(auth.revoke_token)]
) -> TokenRead:
    """Revoke one of your tokens, or (admin) anyone's. Revoking twice changes nothing."""
    return auth.revoke_token(uow, actor, token_id)
