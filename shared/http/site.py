"""One site across three services: where each service's pages are, and each role's home.

In development the three services listen on one host at different ports and share the
sign-in cookie (browsers do not separate cookies by port). In production one origin sits in
front of them, and a reverse proxy sends each path prefix to its service:

- `/placements/...` (pages) to placements, `/notifications/...` (pages) to notifications,
- every other page (`/sign-in`, `/my`, `/pa`, `/coordinator`, `/admin`) to booking,
- `/api/v1/...` by resource, as each service's OpenAPI lists them.

So page paths never collide between services, and a link to another service's page is built
here from its public URL, never typed with a port.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from shared.auth.principal import Principal, Role
from shared.auth.web import current_principal


@dataclass(frozen=True)
class Site:
    """The public URL (scheme, host, port, no trailing slash) of each service's pages, as
    seen from the service `here`: links to its own pages stay relative paths, so they hold
    whatever host and port the service is reached on."""

    here: str
    booking: str
    placements: str
    notifications: str

    def url(self, service: str, path: str) -> str:
        if service == self.here:
            return path
        base: str = getattr(self, service)
        return base.rstrip("/") + path

    def sign_in(self) -> str:
        return self.url("booking", "/sign-in")

    def home(self, role: Role) -> str:
        service, path = HOMES[role]
        return self.url(service, path)


# Where each role lands after signing in: (service, path).
HOMES: dict[Role, tuple[str, str]] = {
    Role.STUDENT: ("booking", "/my"),
    Role.ADVISER: ("booking", "/pa"),
    Role.COORDINATOR: ("booking", "/coordinator"),
    Role.EBP: ("placements", "/placements/ebp"),
    Role.ADMIN: ("booking", "/admin"),
}

SITE = web.AppKey("site", Site)


def site(request: web.Request) -> Site:
    return request.app[SITE]


def page_principal(request: web.Request, *roles: Role) -> Principal:
    """The signed-in person if their role may use this page; otherwise a redirect to sign in
    (on booking, wherever this page is) or to their own home."""
    principal = current_principal(request)
    where = request.app[SITE]
    if principal is None:
        raise web.HTTPSeeOther(where.sign_in())
    if principal.role not in roles:
        raise web.HTTPSeeOther(where.home(principal.role))
    return principal
