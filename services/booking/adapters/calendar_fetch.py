"""Fetching a PA's published calendar over HTTP, guarded against server-side request forgery.

Only http(s). Every address a host name resolves to is checked when the connection is made
(so a name cannot resolve to a public address for the check and a private one for the
connection), an address written in the URL is checked before it is used, and redirects are
followed by hand, each hop checked the same way, at most `max_redirects`. Loopback, private,
link-local and other non-global addresses are refused unless `allow_private` (development
and tests). A conditional GET, one overall time limit and a size limit complete it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from services.booking.application.calendar_import import CalendarUnavailable

REDIRECTS = {301, 302, 303, 307, 308}


class CalendarFetchError(CalendarUnavailable):
    """Why a calendar could not be fetched, as a short code and a message fit for the PA."""


@dataclass(frozen=True)
class Fetched:
    """A fetch's answer; `body` is None when the server said our copy is current (304)."""

    body: bytes | None
    etag: str | None
    last_modified: str | None


def refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _refusal() -> CalendarFetchError:
    return CalendarFetchError(
        "refused_address", "the calendar's address is a private or local one, not allowed"
    )


def _unreachable() -> CalendarFetchError:
    return CalendarFetchError("unreachable", "the calendar's server could not be reached")


class _GuardedResolver(AbstractResolver):
    """The system resolver, refusing a name any of whose addresses is not public."""

    def __init__(self, refused: Callable[[str], bool]) -> None:
        self._inner = aiohttp.ThreadedResolver()
        self._refused = refused

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if any(self._refused(r["host"]) for r in found):
            raise _refusal()
        return found

    async def close(self) -> None:
        await self._inner.close()


class CalendarFetcher:
    def __init__(
        self,
        *,
        timeout_seconds: float,
        max_bytes: int,
        allow_private: bool = False,
        max_redirects: int = 5,
        refused: Callable[[str], bool] = refused_address,
    ) -> None:
        """`refused` says which addresses are private; `allow_private` turns that off."""
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._max_bytes = max_bytes
        self._refused: Callable[[str], bool] = (lambda _: False) if allow_private else refused
        self._max_redirects = max_redirects

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched:
        headers = {"Accept": "text/calendar, */*;q=0.5", "User-Agent": "Signpost calendar import"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        connector = aiohttp.TCPConnector(
            resolver=_GuardedResolver(self._refused), use_dns_cache=False
        )
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=self._timeout) as http:
                return await self._follow(http, URL(url), headers)
        except CalendarFetchError:
            raise
        except TimeoutError:
            raise CalendarFetchError("timeout", "the calendar took too long to answer") from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.__cause__, CalendarFetchError):
                raise exc.__cause__ from None
            raise _unreachable() from None
        except (aiohttp.ClientError, ValueError):
            raise _unreachable() from None

    async def _follow(
        self, http: aiohttp.ClientSession, url: URL, headers: dict[str, str]
    ) -> Fetched:
        for _ in range(self._max_redirects + 1):
            self._check(url)
            async with http.get(url, headers=headers, allow_redirects=False) as response:
                if response.status in REDIRECTS and "Location" in response.headers:
                    url = response.url.join(URL(response.headers["Location"]))
                    continue
                if response.status == 304:
                    return Fetched(None, response.headers.get("ETag"), None)
                if response.status != 200:
                    raise CalendarFetchError(
                        "http_error", f"the calendar's server answered {response.status}"
                    )
                body = await self._read(response)
                return Fetched(
                    body, response.headers.get("ETag"), response.headers.get("Last-Modified")
                )
        raise CalendarFetchError("too_many_redirects", "the calendar redirected too many times")

    def _check(self, url: URL) -> None:
        if url.scheme not in ("http", "https") or not url.host:
            raise CalendarFetchError("bad_url", "only http and https calendar addresses work")
        try:
            literal = self._refused(url.host)
        except ValueError:
            return  # a name: the resolver checks what it resolves to
        if literal:
            raise _refusal()

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        too_large = CalendarFetchError(
            "too_large", f"the calendar is larger than {self._max_bytes} bytes"
        )
        if (response.content_length or 0) > self._max_bytes:
            raise too_large
        body = bytearray()
        async for chunk in response.content.iter_chunked(65536):
            body += chunk
            if len(body) > self._max_bytes:
                raise too_large
        return bytes(body)
