#!/usr/bin/env python3
"""check_dashboard.py — load a saved seongsu.dashboard() page in headless
Chromium, read back the DOM Chromium built, and take screenshots.

  check_dashboard.py PAGE.html OUT_DIR [--dom-only]

Prints one JSON object on stdout (the TAP test test/t/072_dashboard_browser.pl
asserts on it):
  sections        ids of the <section> elements, in order
  svgs            {id: {"rects": n, "texts": n, "lines": n, "polylines": n}} of every <svg>
  tables          number of <table> elements, and rows (their <tr>)
  scripts         number of <script> elements
  external        attribute values that would fetch something (src, href, xlink:href, url(...))
  title, h1       the page title and first heading
  legend          text of the crowd-level legend items
  console         Chromium log lines about the page's console or script errors
  screenshots     {name: [path, bytes]} (none with --dom-only)
Standard library only; Chromium is the Debian package `chromium`.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
from html.parser import HTMLParser

CHROMIUM = os.environ.get("CHROMIUM", "chromium")


class Dom(HTMLParser):
    """What the checks need from the DOM Chromium dumped."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections, self.external, self.legend = [], [], []
        self.svgs, self.svg_stack = {}, []
        self.tables = self.rows = self.scripts = 0
        self.title = self.h1 = ""
        self.capture = None
        self.in_legend = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k, v in attrs:
            if v and (k in ("src", "href", "xlink:href", "srcset", "action", "data") or "url(" in v):
                self.external.append("%s=%s" % (k, v))
        if tag == "section":
            self.sections.append(a.get("id", ""))
        elif tag == "svg":
            sid = a.get("id", "svg%d" % len(self.svgs))
            self.svgs[sid] = {"rects": 0, "texts": 0, "lines": 0, "polylines": 0, "polygons": 0}
            self.svg_stack.append(sid)
        elif tag in ("rect", "text", "line", "polyline", "polygon") and self.svg_stack:
            self.svgs[self.svg_stack[-1]][tag + "s"] += 1
        elif tag == "table":
            self.tables += 1
        elif tag == "tr":
            self.rows += 1
        elif tag == "script":
            self.scripts += 1
        elif tag in ("title", "h1"):
            self.capture = tag
        elif tag == "div" and "legend" in a.get("class", "").split():
            self.in_legend += 1
        elif tag == "span" and self.in_legend:
            self.legend.append("")
            self.capture = "legend"

    def handle_endtag(self, tag):
        if tag == "svg" and self.svg_stack:
            self.svg_stack.pop()
        elif tag == "div" and self.in_legend:
            self.in_legend -= 1
        if tag in ("title", "h1", "span"):
            self.capture = None

    def handle_data(self, data):
        if self.capture == "title" and not self.svg_stack:
            self.title += data
        elif self.capture == "h1":
            self.h1 += data
        elif self.capture == "legend":
            self.legend[-1] += data.strip()


def chromium(args, profile):
    """Run headless Chromium; returns (stdout, stderr)."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
           "--disable-extensions", "--disable-background-networking", "--disable-sync",
           "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"] + args
    p = subprocess.run(cmd, capture_output=True, timeout=60,
                       env=dict(os.environ, HOME=profile, XDG_CONFIG_HOME=profile, XDG_CACHE_HOME=profile))
    if p.returncode != 0:
        raise SystemExit("chromium failed (%d): %s" % (p.returncode, p.stderr.decode("utf-8", "replace")[-2000:]))
    return p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def main():
    page, out = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    url = "file://" + page
    with tempfile.TemporaryDirectory() as profile:
        dom_text, log = chromium(["--virtual-time-budget=2000", "--dump-dom", url], profile)
        shots = {}
        sizes = () if "--dom-only" in sys.argv[3:] else (("dashboard.png", "1100,2800"), ("dashboard-phone.png", "412,2400"))
        for name, size in sizes:
            path = os.path.join(out, name)
            if os.path.exists(path):
                os.remove(path)
            _, more = chromium(["--window-size=" + size, "--screenshot=" + path, url], profile)
            log += more
            shots[name] = [path, os.path.getsize(path) if os.path.exists(path) else 0]
    dom = Dom()
    dom.feed(dom_text)
    console = [l for l in log.splitlines() if re.search(r"CONSOLE|Uncaught|SyntaxError|ReferenceError", l)]
    print(json.dumps({
        "sections": dom.sections, "svgs": dom.svgs, "tables": dom.tables, "rows": dom.rows,
        "scripts": dom.scripts, "external": dom.external, "title": dom.title.strip(), "h1": dom.h1.strip(),
        "legend": dom.legend, "console": console, "screenshots": shots, "dom_bytes": len(dom_text),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
