"""HTML to PDF with WeasyPrint, offline: only inline `data:` resources are ever fetched."""

from weasyprint import HTML
from weasyprint.urls import URLFetcher


def html_to_pdf(html: str) -> bytes:
    # Refuse http(s), file and every other scheme: a ticket carries its CSS inline and uses
    # the machine's fonts, so rendering never waits on (or leaks to) the network.
    fetcher = URLFetcher(allowed_protocols={"data"}, timeout=1)
    return HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()
