"""A real browser opens report.html and a playbook from disk: no console errors, no network requests,
the chart and the action table are there, and screenshots (desktop, phone, print) are taken.

Chromium is driven through its DevTools protocol over `--remote-debugging-pipe` with a few lines of
standard library (no websocket package needed). Without Chromium the tests skip locally and fail on
CI (env CI=true). Set KAMRULES_SCREENSHOTS=DIR to keep the screenshots somewhere to look at.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from kamrules.engine.evaluate import evaluate
from kamrules.pack import load_pack
from kamrules.documents import playbook_links, render_playbooks
from kamrules.results.portfolio import summarise
from kamrules.documents.report import render_report

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "tests" / "projects" / "playbook"
INSTALL = "apt-get install -y chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--remote-debugging-pipe"]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def without_browser(ci: str | None) -> tuple[str, str]:
    """What to do when Chromium is missing: skip locally, fail on CI (env CI=true)."""
    if ci == "true":
        return "fail", f"Chromium is required on CI for the browser tests: {INSTALL}"
    return "skip", f"Chromium is not installed (install it with: {INSTALL})"


@pytest.fixture(scope="module")
def chromium_binary():
    binary = find_chromium()
    if binary is None:
        outcome, message = without_browser(os.environ.get("CI"))
        (pytest.fail if outcome == "fail" else pytest.skip)(message)
    return binary


def test_a_missing_browser_skips_locally_and_fails_on_ci():
    assert without_browser(None) == ("skip", "Chromium is not installed (install it with: apt-get install -y chromium)")
    assert without_browser("false")[0] == "skip"
    assert without_browser("true") == ("fail", "Chromium is required on CI for the browser tests: "
                                               "apt-get install -y chromium")


class Browser:
    """A headless Chromium and one page, spoken to in DevTools protocol messages over a pipe."""

    def __init__(self, binary: str, profile: Path):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def give_pipes():  # Chromium reads commands on fd 3 and writes replies on fd 4
            high_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)  # out of the way of 3 and 4 first
            high_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=give_pipes, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.page(f"{domain}.enable")

    # -- protocol
    def _send(self, message: dict) -> None:
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, session: str | None = None, timeout: float = 30, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self._send(message)
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def page(self, method: str, **params) -> dict:
        return self.call(method, session=self.session, **params)

    def wait_for(self, event: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        for seen in self.events:
            if seen.get("method") == event:
                self.events.remove(seen)
                return seen
        while True:
            message = self._receive(deadline)
            if message.get("method") == event:
                return message
            self.events.append(message)

    # -- what the tests use
    def open(self, url: str, width: int = 1200, height: int = 900, mobile: bool = False) -> None:
        self.events.clear()
        self.page("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=2 if mobile else 1, mobile=mobile)
        self.page("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str):
        result = self.page("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def screenshot(self, path: Path, media: str = "screen") -> Path:
        self.page("Emulation.setEmulatedMedia", media=media)
        metrics = self.page("Page.getLayoutMetrics")["cssContentSize"]
        shot = self.page("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": metrics["width"], "height": min(metrics["height"], 6000),
                               "scale": 1})
        path.write_bytes(base64.b64decode(shot["data"]))
        self.page("Emulation.setEmulatedMedia", media="")
        keep = os.environ.get("KAMRULES_SCREENSHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, Path(keep) / path.name)
        return path

    def pdf_pages(self) -> int:
        """How many A4 pages the page prints on (Chromium's own print to PDF, the page's print CSS)."""
        data = base64.b64decode(self.page("Page.printToPDF", paperWidth=8.27, paperHeight=11.69,
                                          preferCSSPageSize=True, printBackground=True)["data"])
        assert data.startswith(b"%PDF")
        return len(re.findall(rb"/Type\s*/Page[^s]", data))

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and log errors seen since the page was opened."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(f"console: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params.get('exceptionDetails')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        return found

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@pytest.fixture(scope="module")
def browser(chromium_binary, tmp_path_factory):
    instance = Browser(chromium_binary, tmp_path_factory.mktemp("chromium-profile"))
    yield instance
    instance.close()


@pytest.fixture(scope="module", params=["en", "zh"])
def out(request, tmp_path_factory):
    """OUT as a run writes it: report.html and playbooks/ for the key and potential accounts."""
    lang = request.param
    frame = pd.read_csv(PROJECT / "accounts.csv", dtype={"account_id": str})
    evaluation = evaluate(load_pack(PROJECT / "rules"), frame, as_of=dt.date(2026, 11, 27), input_name="accounts.csv")
    files = render_playbooks(evaluation, selection="key+potential", lang=lang)
    links = playbook_links(files, evaluation)
    files["report.html"] = render_report(evaluation, summarise(evaluation, lang=lang), lang=lang, playbook_links=links)
    folder = tmp_path_factory.mktemp(f"out-{lang}")
    for path, content in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(content)
    return folder, lang, evaluation


def assert_quiet(browser, url):
    assert browser.problems() == []
    requests = browser.requests()
    assert requests in ([], [url]), f"the page made network requests: {requests}"


def test_report_in_a_browser(browser, out, tmp_path):
    folder, lang, evaluation = out
    url = (folder / "report.html").as_uri()
    browser.open(url)
    assert browser.js("document.querySelectorAll('svg.chart circle.pt').length") == len(evaluation.accounts)
    assert browser.js("document.querySelectorAll('svg.chart circle.pt-key').length") == 5
    width = browser.js("document.querySelector('svg.chart').getBoundingClientRect().width")
    assert width > 500
    assert browser.js("document.querySelectorAll('a[href^=\"playbooks/\"]').length") == 7 + 5  # + per-owner view
    # a link resolves to a playbook file that exists
    href = browser.js("document.querySelector('#key-accounts a').href")
    assert href.startswith("file://") and Path(browser.js(f"decodeURIComponent({json.dumps(href)})")[7:]).is_file()
    browser.screenshot(tmp_path / f"report-{lang}-desktop.png")
    browser.screenshot(tmp_path / f"report-{lang}-print.png", media="print")
    assert_quiet(browser, url)
    # at 1280 px no card clips its table, and a risk row stays one or two lines, not a column of text
    browser.open(url, width=1280, height=900)
    assert browser.js("[...document.querySelectorAll('.card')].filter(c => c.scrollWidth > c.clientWidth + 1).length") == 0
    rows = browser.js("[...document.querySelectorAll('#risks tr.account')].map(r => r.getBoundingClientRect().height)")
    assert rows and max(rows) < 120, rows
    label = browser.js("document.querySelector('table.counts td').getBoundingClientRect().width")
    assert label > 100, label  # the value column of a count card is not squeezed to a letter per line
    # the first two printed pages are the portfolio summary: what follows starts on page 3
    browser.page("Emulation.setEmulatedMedia", media="print")
    first_after = browser.js("document.querySelector('section.after-summary').id")
    assert browser.js("getComputedStyle(document.querySelector('section.after-summary')).breakBefore") == "page"
    browser.page("Emulation.setEmulatedMedia", media="")
    whole = browser.pdf_pages()
    browser.js("let s = document.querySelector('section.after-summary'); "
               "while (s) { const n = s.nextElementSibling; s.remove(); s = n; }")
    summary_pages = browser.pdf_pages()
    assert summary_pages <= 2 < whole, (first_after, summary_pages, whole)
    browser.open(url)

    browser.open(url, width=390, height=844, mobile=True)
    assert browser.js("document.documentElement.scrollWidth <= window.innerWidth + 1"), "wider than a phone"
    browser.screenshot(tmp_path / f"report-{lang}-phone.png")
    assert_quiet(browser, url)
    assert (tmp_path / f"report-{lang}-phone.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_playbook_in_a_browser(browser, out, tmp_path):
    folder, lang, evaluation = out
    url = (folder / "playbooks" / "00042-华东机械有限公司.html").as_uri()
    browser.open(url)
    rows = browser.js("[...document.querySelectorAll('table.actions tr.action')]"
                      ".map(r => [r.dataset.section, r.cells[0].innerText.split('\\n')[0]])")
    expected = {
        "en": [["establish", "Contact map and account plan"], ["develop", "Share-of-wallet growth plan"],
               ["maintain", "Executive visit"], ["maintain", "Defection-prevention review"]],
        "zh": [["establish", "接触点梳理与客户计划"], ["develop", "钱包份额增长计划"], ["maintain", "高层拜访"],
               ["maintain", "防背离专项评审"]],
    }[lang]
    assert rows == expected
    due = browser.js("document.querySelector('table.actions tr.action td.due').innerText")
    assert due.split("\n")[0] == {"en": "27 Dec 2026", "zh": "2026年12月27日"}[lang]
    assert browser.js("document.querySelectorAll('table.signals tr.signal').length") == 3
    browser.page("Emulation.setEmulatedMedia", media="print")  # the appendix starts a page in print
    assert browser.js("getComputedStyle(document.querySelector('#facts')).breakBefore") == "page"
    assert browser.js("getComputedStyle(document.querySelector('#glance')).breakInside") == "avoid"
    browser.page("Emulation.setEmulatedMedia", media="")
    # a key account's plan prints on at most 3 A4 pages, the appendix (facts, trace) after it
    whole = browser.pdf_pages()
    browser.js("document.querySelectorAll('section.appendix, footer.page').forEach(s => s.remove())")  # footer: after the appendix
    plan_pages = browser.pdf_pages()
    assert plan_pages <= 3 and plan_pages < whole <= plan_pages + 2, (plan_pages, whole)
    browser.open(url)
    browser.screenshot(tmp_path / f"playbook-{lang}-desktop.png")
    browser.screenshot(tmp_path / f"playbook-{lang}-print.png", media="print")
    assert_quiet(browser, url)

    browser.open(url, width=390, height=844, mobile=True)
    assert browser.js("document.documentElement.scrollWidth <= window.innerWidth + 1"), "wider than a phone"
    # on a phone the action table becomes cards, each cell labelled
    assert browser.js("getComputedStyle(document.querySelector('table.actions thead')).display") == "none"
    browser.screenshot(tmp_path / f"playbook-{lang}-phone.png")
    assert_quiet(browser, url)


def test_the_harness_sees_requests_and_console_errors(browser, tmp_path):
    """A canary: the checks above would catch a page that loads something or logs an error."""
    page = tmp_path / "bad.html"
    page.write_text('<html><body><img src="http://192.0.2.1/x.png"><script>console.error("boom")</script>'
                    "</body></html>", encoding="utf-8")
    browser.open(page.as_uri())
    assert "http://192.0.2.1/x.png" in browser.requests()
    assert any("boom" in problem for problem in browser.problems())


def test_profile_section_in_a_browser(browser, tmp_path):
    """The bundled pack declares attributes: the report's profile section shows its bars and tables,
    fits a 1280 px page and a phone, and makes no requests."""
    from kamrules.data.reader import ReadOptions, read_table
    from kamrules.resources import example_data, rules_dir

    pack = load_pack(rules_dir(None))
    read = read_table(example_data(), list(pack.fields.values()), ReadOptions())
    evaluation = evaluate(pack, read.frame, as_of=dt.date(2026, 11, 27), input_name="customers.csv")
    for lang in ("en", "zh"):
        page = tmp_path / f"report-{lang}.html"
        page.write_bytes(render_report(evaluation, summarise(evaluation, lang=lang), lang=lang))
        url = page.as_uri()
        browser.open(url, width=1280, height=900)
        assert browser.js("document.querySelectorAll('#profile table.bars svg.bar rect.key').length") > 0
        assert browser.js("document.querySelectorAll('#profile table.lookalikes tbody tr').length") > 0
        assert browser.js("document.querySelectorAll('#profile table.completeness tbody tr').length") > 0
        bar = browser.js("document.querySelector('#profile svg.bar').getBoundingClientRect().width")
        assert 50 < bar <= 16 * 16 + 1, bar  # a compact bar, not the page width
        assert browser.js("document.querySelector('#profile').previousElementSibling.id") == "unused-rules"
        assert browser.js("[...document.querySelectorAll('#profile .table-wrap')]"
                          ".filter(w => w.scrollWidth > w.clientWidth + 1).length") == 0
        browser.js("document.querySelector('#profile').scrollIntoView()")
        browser.screenshot(tmp_path / f"report-{lang}-profile.png")
        assert_quiet(browser, url)
        browser.open(url, width=390, height=844, mobile=True)
        assert browser.js("document.documentElement.scrollWidth <= window.innerWidth + 1"), "wider than a phone"
