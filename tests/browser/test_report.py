"""The fleet report (`stackdock report`, issue 21 part 6) in a real headless browser.

Runs the built `stackdock` binary against its own provider sandbox, writes the report, and opens it
in Chromium through Playwright: the page loads with no console error, its counts equal
`stackdock inventory --format json`'s, the filter narrows the rows and a column sorts.

Needs `target/debug/stackdock` (built by `cargo test`), Playwright (`scripts/setup-tools.sh`) and
Chromium (`/usr/bin/chromium`, Debian's package, installed by `scripts/setup-tools.sh`).
"""

import collections
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import tempfile
import unittest

from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("STACKDOCK_BIN", ROOT / "target" / "debug" / "stackdock"))
CHROMIUM = os.environ.get("STACKDOCK_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
PROVIDERS = {"vultr": "VULTR_API_KEY", "digitalocean": "DIGITALOCEAN_TOKEN", "linode": "LINODE_TOKEN"}


class FleetReport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not BIN.exists():
            raise RuntimeError(f"{BIN} is missing: build it with `cargo build -p stackdock-cli`")
        cls.dir = tempfile.TemporaryDirectory()
        work = pathlib.Path(cls.dir.name)
        # Port 0 is not offered by `stackdock sandbox`: take a free one from the OS.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cls.sandbox = subprocess.Popen(
            [str(BIN), "sandbox", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        endpoints, tokens = {}, {}
        for line in cls.sandbox.stdout:
            m = re.match(r'\s+(\w+)\s+endpoint = "([^"]+)"\s+token: (\S+)', line)
            if m:
                endpoints[m.group(1)] = m.group(2)
                tokens[PROVIDERS[m.group(1)]] = m.group(3)
            if len(endpoints) == len(PROVIDERS):
                break
        if len(endpoints) != len(PROVIDERS):
            raise RuntimeError("the sandbox did not print its endpoints")
        config = (ROOT / "stackdock.toml").read_text()
        for name, url in endpoints.items():
            config = config.replace(
                f'provider = "{name}"\n', f'provider = "{name}"\nendpoint = "{url}"\n'
            )
        (work / "stackdock.toml").write_text(config)
        (work / "cloud-init").mkdir()
        shutil.copy(ROOT / "cloud-init" / "worker.yaml", work / "cloud-init" / "worker.yaml")
        cls.env = {**os.environ, **tokens, "NO_COLOR": "1"}
        cls.env.pop("STACKDOCK_CONFIG", None)
        cls.env.pop("STACKDOCK_STORE", None)
        cls.work = work
        cls.run_cli("report", "--out", "fleet.html")
        cls.inventory = json.loads(cls.run_cli("inventory", "--format", "json"))

    @classmethod
    def tearDownClass(cls):
        cls.sandbox.terminate()
        cls.sandbox.wait(timeout=10)
        cls.dir.cleanup()

    @classmethod
    def run_cli(cls, *args):
        done = subprocess.run(
            [str(BIN), *args], cwd=cls.work, env=cls.env, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise AssertionError(f"stackdock {' '.join(args)}: {done.returncode}\n{done.stderr}")
        return done.stdout

    def setUp(self):
        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        self.page = self.browser.new_page()
        self.errors = []
        self.requests = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto((self.work / "fleet.html").as_uri())

    def tearDown(self):
        self.browser.close()
        self.playwright.stop()

    def test_loads_without_errors_or_outside_requests(self):
        self.assertEqual(self.errors, [])
        self.assertTrue(all(u.startswith("file://") for u in self.requests), self.requests)
        self.assertIn("StackDock fleet", self.page.title())

    def test_counts_equal_the_inventory(self):
        # The inventory names a kind by its table (`blockVolumes`, `domainRecords`); the report by
        # its config key (`block_volumes`, `domain_records`).
        def config_key(table):
            return re.sub(r"([A-Z])", r"_\1", table).lower()

        expected = collections.Counter(
            (r["provider"], config_key(r["kind"])) for r in self.inventory
        )
        self.assertGreater(len(expected), 3)
        for (provider, kind), n in expected.items():
            cell = self.page.locator(f'td[data-count="{provider}/{kind}"]')
            self.assertEqual(cell.inner_text(), str(n), (provider, kind))
            self.assertEqual(
                self.page.locator(f"#table-{kind} tbody tr").count(),
                sum(c for (p, k), c in expected.items() if k == kind),
            )

    def test_unmanaged_resources_are_marked(self):
        unmanaged = sum(1 for r in self.inventory if r.get("managedBy") is None)
        self.assertGreater(unmanaged, 0)
        self.assertEqual(self.page.locator("tr.unmanaged").count(), unmanaged)

    def test_the_filter_narrows_the_rows(self):
        servers = [r for r in self.inventory if r["kind"] == "servers"]
        name = servers[0]["name"]
        rows = self.page.locator("#table-servers tbody tr")
        total = rows.count()
        self.page.fill('input[data-table="table-servers"]', name)
        visible = self.page.locator("#table-servers tbody tr:not([hidden])")
        narrowed = visible.count()
        self.assertGreaterEqual(narrowed, 1)
        self.assertLess(narrowed, total)
        for i in range(narrowed):
            self.assertIn(name.lower(), visible.nth(i).inner_text().lower())
        self.assertEqual(
            self.page.locator("#shown-servers").inner_text(), f"{narrowed} of {total} shown"
        )
        self.page.fill('input[data-table="table-servers"]', "")
        self.assertEqual(visible.count(), total)
        self.assertEqual(self.errors, [])

    def test_a_column_sorts(self):
        header = self.page.locator("#table-servers th", has_text="name").first
        header.click()
        names = self.page.locator("#table-servers tbody tr td:nth-child(2)").all_inner_texts()
        # The fixture's names are lowercase ASCII words and dashes, where the page's
        # `localeCompare` and Python's order agree.
        self.assertEqual(names, sorted(names))
        header.click()
        again = self.page.locator("#table-servers tbody tr td:nth-child(2)").all_inner_texts()
        self.assertEqual(again, list(reversed(names)))


if __name__ == "__main__":
    unittest.main()
