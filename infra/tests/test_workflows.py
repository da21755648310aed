"""infra/github/*.yml: every action pinned by full commit SHA (the version in a comment), every
pip install by hash, and the hashed tools at the versions scripts/setup-tools.sh pins."""

import re
import unittest
from pathlib import Path

from reliability import held

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / "infra" / "github").glob("*.yml"))
REQUIREMENTS = ROOT / "infra" / "github" / "requirements-deploy.txt"


class Workflows(unittest.TestCase):
    def test_every_action_is_pinned_by_commit(self):
        self.assertTrue(WORKFLOWS)
        for workflow in WORKFLOWS:
            for line in workflow.read_text().splitlines():
                m = re.search(r"\buses:\s*(\S+)(.*)", line)
                if not m:
                    continue
                with self.subTest(workflow=workflow.name, uses=m.group(1)):
                    self.assertRegex(m.group(1), r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
                    self.assertRegex(m.group(2), r"#\s*v\d+(\.\d+)*")
        held("every GitHub Action is pinned by commit SHA (item 3)")

    def test_every_pip_install_requires_hashes(self):
        for workflow in WORKFLOWS:
            code = [l for l in workflow.read_text().splitlines() if not l.strip().startswith("#")]
            text = "\n".join(code).replace("\\\n", " ")
            for command in re.findall(r"pip install[^\n]*", text):
                with self.subTest(workflow=workflow.name, command=command):
                    self.assertIn("--require-hashes", command)
                    self.assertRegex(command, r"-r \S+\.txt")
        held("every pip install in the workflows requires hashes (item 3)")

    def test_every_requirement_is_pinned_with_a_hash(self):
        text = REQUIREMENTS.read_text().replace("\\\n", " ")
        pins = {}
        for line in text.splitlines():
            line = line.split("#")[0].strip()
            if not line:
                continue
            with self.subTest(line=line):
                m = re.match(r"^([a-z0-9-]+)==(\S+)\s+(--hash=sha256:[0-9a-f]{64}\s*)+$", line)
                self.assertIsNotNone(m, line)
                pins[m.group(1)] = m.group(2)
        setup = (ROOT / "scripts" / "setup-tools.sh").read_text()
        for tool in ("cargo-lambda", "aws-sam-cli", "cfn-lint"):
            wanted = re.search(rf"'{tool}==([^']+)'", setup).group(1)
            self.assertEqual(pins.get(tool), wanted, f"{tool}: requirements-deploy.txt and setup-tools.sh disagree")


if __name__ == "__main__":
    unittest.main()
