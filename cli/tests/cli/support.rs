//! Running the built `stackdock` binary, and a workspace wired to a provider sandbox.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use stackdock_sandbox::{Provider, Sandbox, SandboxConfig, SandboxHandle};

/// The repository root (the example fleet, fixtures).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `stackdock` with `args` in `dir`, with the given environment, no colour.
pub fn stackdock(dir: &Path, env: &[(String, String)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackdock"))
        .args(args)
        .current_dir(dir)
        .env_remove("STACKDOCK_CONFIG")
        .env_remove("STACKDOCK_STORE")
        .env_remove("STACKDOCK_NOTIFY_TOPIC_ARN")
        .env("NO_COLOR", "1")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .expect("the stackdock binary runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A temporary directory holding the repository's `stackdock.toml` (docks pointed at a running
/// sandbox) and its cloud-init file, plus the environment carrying the sandbox's tokens.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub sandbox: SandboxHandle,
    pub env: Vec<(String, String)>,
}

impl Workspace {
    pub async fn new() -> Workspace {
        // Resources are ready at the first poll: the CLI's real polling intervals stay untouched.
        let sandbox = Sandbox::start(
            SandboxConfig::default()
                .with_pending_polls(0)
                .with_action_polls(0),
        )
        .await
        .expect("sandbox starts");
        sandbox.seed_fixtures();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config =
            std::fs::read_to_string(repo().join("stackdock.toml")).expect("example fleet");
        for (provider, name) in [
            (Provider::Vultr, "vultr"),
            (Provider::Digitalocean, "digitalocean"),
            (Provider::Linode, "linode"),
            (Provider::Cloudflare, "cloudflare"),
            (Provider::Vercel, "vercel"),
        ] {
            config = config.replace(
                &format!("provider = \"{name}\"\n"),
                &format!(
                    "provider = \"{name}\"\nendpoint = \"{}\"\n",
                    sandbox.base_url(provider)
                ),
            );
        }
        // Tests reach nothing beyond 127.0.0.1: every dock of the example points at the sandbox.
        assert_eq!(
            config.matches("provider = \"").count(),
            config.matches("endpoint = \"http://127.0.0.1").count(),
            "a dock of the example fleet is not pointed at the sandbox"
        );
        std::fs::write(dir.path().join("stackdock.toml"), config).expect("write config");
        std::fs::create_dir_all(dir.path().join("cloud-init")).expect("cloud-init dir");
        std::fs::copy(
            repo().join("cloud-init/worker.yaml"),
            dir.path().join("cloud-init/worker.yaml"),
        )
        .expect("copy cloud-init");
        let env = vec![
            ("VULTR_API_KEY".to_owned(), sandbox.token(Provider::Vultr)),
            (
                "DIGITALOCEAN_TOKEN".to_owned(),
                sandbox.token(Provider::Digitalocean),
            ),
            ("LINODE_TOKEN".to_owned(), sandbox.token(Provider::Linode)),
            (
                "CLOUDFLARE_API_TOKEN".to_owned(),
                sandbox.token(Provider::Cloudflare),
            ),
            ("VERCEL_TOKEN".to_owned(), sandbox.token(Provider::Vercel)),
        ];
        Workspace { dir, sandbox, env }
    }

    /// Runs `stackdock` in the workspace off the async runtime's worker.
    pub async fn run(&self, args: &[&str]) -> Output {
        let dir = self.dir.path().to_path_buf();
        let env = self.env.clone();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            stackdock(&dir, &env, &args)
        })
        .await
        .expect("the command finished")
    }

    pub fn append_config(&self, extra: &str) {
        let path = self.dir.path().join("stackdock.toml");
        let mut config = std::fs::read_to_string(&path).expect("config");
        config.push_str(extra);
        std::fs::write(path, config).expect("write config");
    }
}

impl Workspace {
    /// Starts `stackdock` in the workspace without waiting for it (to kill it, or to run two at
    /// once); output goes to files in the workspace, read back with [`Workspace::output_of`].
    pub fn spawn(&self, tag: &str, extra_env: &[(String, String)], args: &[&str]) -> Child {
        let out = std::fs::File::create(self.dir.path().join(format!("{tag}.stdout")))
            .expect("stdout file");
        let err = std::fs::File::create(self.dir.path().join(format!("{tag}.stderr")))
            .expect("stderr file");
        Command::new(env!("CARGO_BIN_EXE_stackdock"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("STACKDOCK_CONFIG")
            .env_remove("STACKDOCK_STORE")
            .env_remove("STACKDOCK_NOTIFY_TOPIC_ARN")
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(extra_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("the stackdock binary starts")
    }

    /// What a spawned command wrote: (stdout, stderr).
    pub fn output_of(&self, tag: &str) -> (String, String) {
        let read = |ext: &str| {
            std::fs::read_to_string(self.dir.path().join(format!("{tag}.{ext}")))
                .unwrap_or_default()
        };
        (read("stdout"), read("stderr"))
    }

    /// The default SQLite store of the workspace.
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join(".stackdock/stackdock.db")
    }

    /// Runs `stackdock` with extra environment variables, off the async runtime's worker.
    pub async fn run_with(&self, extra_env: &[(String, String)], args: &[&str]) -> Output {
        let dir = self.dir.path().to_path_buf();
        let mut env = self.env.clone();
        env.extend(extra_env.iter().cloned());
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            stackdock(&dir, &env, &args)
        })
        .await
        .expect("the command finished")
    }
}
