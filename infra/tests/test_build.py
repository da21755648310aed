"""infra/build.sh's copy step (infra/bundle-config.py), without SAM: the deployed config and every
`user_data_file` it references land beside the bootstrap at the same relative paths; a path that
leaves the config's directory is refused and nothing is copied; build.sh bundles into every
function of the template."""

import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from cfnlint.decode import decode

from reliability import held

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "infra" / "bundle-config.py"


def bundle(config, dest):
    return subprocess.run([sys.executable, str(BUNDLE), str(config), str(dest)],
                          capture_output=True, text=True)


class BundleConfig(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.src = self.tmp / "repo"
        self.out = self.tmp / "build" / "SyncFunction"
        (self.src / "cloud-init" / "nested").mkdir(parents=True)
        (self.src / "cloud-init" / "worker.yaml").write_text("#cloud-config\nruncmd: [worker]\n")
        (self.src / "cloud-init" / "nested" / "web.yaml").write_text("#cloud-config\n")
        (self.src / "unrelated.txt").write_text("not referenced\n")

    def write_config(self, *paths):
        servers = "".join(
            f'[servers.s{i}]\ndock = "d"\nregion = "r"\nplan = "p"\nimage = "i"\nuser_data_file = "{p}"\n\n'
            for i, p in enumerate(paths))
        config = self.src / "stackdock.toml"
        config.write_text('[stackdock]\norg = "acme"\n\n' + servers)
        return config

    def test_the_repositorys_config_bundles_its_cloud_init(self):
        result = bundle(ROOT / "stackdock.toml", self.out / "stackdock.toml")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue((self.out / "stackdock.toml").is_file())
        self.assertEqual((self.out / "cloud-init" / "worker.yaml").read_bytes(),
                         (ROOT / "cloud-init" / "worker.yaml").read_bytes())

    def test_every_user_data_file_is_copied_at_its_relative_path(self):
        config = self.write_config("cloud-init/worker.yaml", "./cloud-init/nested/web.yaml",
                                   "cloud-init/nested/../worker.yaml")
        result = bundle(config, self.out / "stackdock.toml")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual((self.out / "stackdock.toml").read_text(), config.read_text())
        self.assertEqual((self.out / "cloud-init" / "worker.yaml").read_text(),
                         "#cloud-config\nruncmd: [worker]\n")
        self.assertTrue((self.out / "cloud-init" / "nested" / "web.yaml").is_file())
        self.assertFalse((self.out / "unrelated.txt").exists(), "only what the config references")
        self.assertEqual(oct((self.out / "cloud-init" / "worker.yaml").stat().st_mode & 0o777), "0o644")

    def test_a_config_name_in_a_subdirectory_keeps_the_files_beside_it(self):
        config = self.write_config("cloud-init/worker.yaml")
        result = bundle(config, self.out / "conf" / "stackdock.toml")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue((self.out / "conf" / "cloud-init" / "worker.yaml").is_file())

    def test_paths_that_leave_the_config_directory_are_refused_and_nothing_is_copied(self):
        (self.tmp / "secret.yaml").write_text("outside\n")
        os.symlink(self.tmp / "secret.yaml", self.src / "cloud-init" / "link.yaml")
        for path, why in (("../secret.yaml", "leaves the config's directory"),
                          ("cloud-init/../../secret.yaml", "leaves the config's directory"),
                          ("/etc/passwd", "absolute"),
                          ("cloud-init/link.yaml", "through a link"),
                          ("cloud-init/missing.yaml", "not a file")):
            with self.subTest(path=path):
                config = self.write_config("cloud-init/worker.yaml", path)
                dest = self.tmp / "out" / re.sub(r"\W", "_", path) / "stackdock.toml"
                result = bundle(config, dest)
                self.assertEqual(result.returncode, 1)
                self.assertIn(why, result.stderr)
                self.assertFalse(dest.parent.exists(), "nothing copied")
        held("bundled user_data_files cannot leave the config directory (item 9)")


class BuildScript(unittest.TestCase):
    def test_build_sh_bundles_into_every_function_of_the_template(self):
        template, _ = decode(str(ROOT / "infra" / "template.yaml"))
        functions = {k for k, v in template["Resources"].items()
                     if isinstance(v, dict) and v.get("Type") == "AWS::Serverless::Function"}
        script = (ROOT / "infra" / "build.sh").read_text()
        listed = set(re.search(r"^functions=\(([^)]*)\)", script, re.M).group(1).split())
        self.assertEqual(listed, functions)
        self.assertIn('python3 infra/bundle-config.py "$config" "$dir/$name"', script)
        self.assertIn("--language-extensions", script)

    def run_build(self, config_text, **env):
        """Runs `infra/build.sh --check` on a config: the Lambda check and the bundle check, no
        build (the exit and the message are the CLI's)."""
        tmp = Path(tempfile.mkdtemp())
        config = tmp / "stackdock.toml"
        config.write_text(config_text)
        return subprocess.run(["bash", str(ROOT / "infra" / "build.sh"), "--check"], cwd=ROOT,
                              capture_output=True, text=True,
                              env={**os.environ, "STACKDOCK_DEPLOY_CONFIG": str(config), **env})

    def test_build_sh_refuses_a_config_the_functions_would_refuse(self):
        dock = '[stackdock]\norg = "acme"\n\n[docks.vultr-main]\nprovider = "vultr"\n'
        for extra, env, why, place in (
                ('credentials = { env = "AWS_SECRET_ACCESS_KEY" }\n', {},
                 "reads its credential from the environment variable `AWS_SECRET_ACCESS_KEY`",
                 "stackdock.toml:6:23"),
                ('credentials = { secret = "prod/vultr" }\n', {},
                 "outside the deployment's secret prefix `stackdock/`", "stackdock.toml:6:"),
                ('credentials = { secret = "stackdock/vultr" }\nendpoint = "https://collector.example.net/v2"\n',
                 {}, "may only call `https://api.vultr.com` over https", "stackdock.toml:7:12"),
                ('credentials = { secret = "team/vultr" }\n', {"STACKDOCK_SECRET_PREFIX": "stackdock/"},
                 "outside the deployment's secret prefix", "stackdock.toml:6:")):
            with self.subTest(why=why):
                result = self.run_build(dock + extra, **env)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn(why, result.stderr)
                self.assertIn(place, result.stderr)
                self.assertNotIn("can be deployed", result.stdout)
        held("infra/build.sh refuses a config outside the Lambda target before building (item 2)")

    def test_build_sh_passes_the_stacks_prefix_and_allowed_origins_to_the_check(self):
        dock = ('[stackdock]\norg = "acme"\n\n[docks.vultr-main]\nprovider = "vultr"\n'
                'credentials = { secret = "team/vultr" }\nendpoint = "http://127.0.0.1:8787/v2"\n')
        result = self.run_build(dock, STACKDOCK_SECRET_PREFIX="team/",
                                STACKDOCK_ALLOWED_ENDPOINTS=" https://a.example.com, http://127.0.0.1:8787")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("is valid for the Lambda target", result.stdout)
        self.assertIn("can be deployed (checks only, nothing built)", result.stdout)


if __name__ == "__main__":
    unittest.main()
