#!/usr/bin/env python3
"""Checks every relative link of a generated static site: the file it points to exists, and so does the
anchor (an element with that id or name) when the link names one. Links with a scheme (https:, mailto:)
are not fetched. Usage: check-links.py SITE_DIR. Prints each broken link; exits 1 if there is one."""
import os
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name") and tag != "meta":
                self.ids.add(value)
            elif name in ("href", "src") and tag in ("a", "img", "link", "script", "iframe", "source"):
                self.links.append((self.getpos()[0], value))


def main(site):
    site = os.path.realpath(site)
    pages = {}
    for folder, _, files in os.walk(site):
        for f in files:
            if f.endswith(".html"):
                path = os.path.join(folder, f)
                page = Page()
                with open(path, encoding="utf-8") as stream:
                    page.feed(stream.read())
                pages[path] = page
    broken = checked = 0
    for path, page in sorted(pages.items()):
        for line, link in page.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                continue
            checked += 1
            target = path if parts.path == "" else os.path.normpath(os.path.join(os.path.dirname(path), unquote(parts.path)))
            if os.path.isdir(target):
                target = os.path.join(target, "index.html")
            reason = None
            if not (target == site or target.startswith(site + os.sep)):
                reason = "points outside the site"
            elif not os.path.isfile(target):
                reason = "no such file"
            elif parts.fragment and target in pages and unquote(parts.fragment) not in pages[target].ids:
                reason = f"no anchor '{parts.fragment}' in {os.path.relpath(target, site)}"
            if reason:
                broken += 1
                print(f"{os.path.relpath(path, site)}:{line}: broken link '{link}': {reason}")
    print(f"{len(pages)} pages, {checked} relative links checked, {broken} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
