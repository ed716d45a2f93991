"""HTML to PDF with WeasyPrint, offline: only inline `data:` resources are ever fetched."""


def html_to_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads Pango through cffi on import, which only the PDF views
    # need (the rest of the site starts, and runs, without it).
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Refuse http(s), file and every other scheme: a ticket carries its CSS inline and uses
    # the machine's fonts, so rendering never waits on (or leaks to) the network.
    fetcher = URLFetcher(allowed_protocols={"data"}, timeout=1)
    return HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()
