"""The URL configuration resolves the shop's busiest pages first (config.urls.BUSIEST): every
address resolves to the same view, name and arguments as in the declared precedence order
(config.urls.DECLARED, then Oscar's), so moving them forward changed no page."""

import re
import time
import uuid

from django.urls import Resolver404, URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from config import urls

CONVERTER_SAMPLES = {
    "int": "7",
    "slug": "a-slug",
    "str": "abc",
    "path": "abc/def",
    "uuid": str(uuid.UUID(int=7)),
}
GROUP_SAMPLES = ("7", "abc", "a-slug", "ABC-12", "abc/def", "x")


def _route_sample(route: str) -> str:
    def fill(match: re.Match) -> str:
        converter = match.group(1) or "str"
        return CONVERTER_SAMPLES.get(converter, "7")

    return re.sub(r"<(?:(\w+):)?\w+>", fill, route)


def _regex_sample(regex: str) -> str | None:
    """An address the pattern matches: each named group filled with the first sample it
    takes; None when none fits."""
    body = regex.removeprefix("^").removesuffix("\\Z").removesuffix("$")
    compiled = re.compile(regex)
    groups = re.findall(r"\(\?P<(\w+)>", body)
    sample = body
    for _ in groups:
        start = sample.index("(?P<")
        depth, end = 0, start
        for end in range(start, len(sample)):
            depth += {"(": 1, ")": -1}.get(sample[end], 0)
            if depth == 0:
                break
        for candidate in GROUP_SAMPLES:
            trial = sample[:start] + candidate + sample[end + 1 :]
            if "(?P<" not in trial and not compiled.match(trial):
                continue
            sample = trial
            break
        else:
            return None
    sample = sample.replace("\\", "")
    return sample if compiled.match(sample) else None


def _samples(patterns, prefix: str = "") -> list[str]:
    """An address for each pattern of the tree (skipping those no sample fits)."""
    found = []
    for pattern in patterns:
        if isinstance(pattern.pattern, RoutePattern):
            part = _route_sample(str(pattern.pattern))
        else:
            part = _regex_sample(pattern.pattern.regex.pattern)
            if part is None:
                continue
        if isinstance(pattern, URLResolver):
            found += _samples(pattern.url_patterns, prefix + part)
        elif isinstance(pattern, URLPattern):
            found.append(prefix + part)
    return found


def _match(resolver: URLResolver, address: str):
    try:
        m = resolver.resolve(address)
    except Resolver404:
        return None
    return (m.func, m.url_name, m.namespaces, m.args, m.kwargs)


def test_every_address_resolves_as_declared():
    declared = URLResolver(RegexPattern(r"^/"), [*urls.DECLARED, urls.oscar_urls()])
    serving = get_resolver()
    addresses = _samples(declared.url_patterns)
    assert len(addresses) > 300  # the whole tree: Oscar's dashboard, admin, the shop's own
    for address in ("/", "/catalogue/", "/search/", "/basket/", *addresses):
        assert _match(serving, "/" + address.lstrip("/")) == _match(
            declared, "/" + address.lstrip("/")
        ), address


def test_the_busiest_pages_resolve_first():
    """Catalogue, search and basket are the first patterns tried (after media, when served);
    a listing's address resolves several times faster than behind the others."""
    names = [str(p.pattern) for p in get_resolver().url_patterns]
    busiest = [n for n in names if n in ("catalogue/", "search/", "basket/")]
    assert sorted(busiest) == ["basket/", "catalogue/", "search/"]
    assert max(names.index(n) for n in busiest) <= 3

    declared = URLResolver(RegexPattern(r"^/"), [*urls.DECLARED, urls.oscar_urls()])
    serving = get_resolver()
    address = "/catalogue/category/wallets_1/"

    def cost(resolver) -> float:
        resolver.resolve(address)
        start = time.perf_counter()
        for _ in range(300):
            resolver.resolve(address)
        return time.perf_counter() - start

    assert min(cost(serving) for _ in range(3)) * 2 < min(cost(declared) for _ in range(3))
