//! Test support for any crate that talks to DynamoDB (or Secrets Manager) locally: a moto server
//! started per test on a free 127.0.0.1 port, and SDK clients configured for it with static test
//! credentials (no profile, no metadata lookups, nothing beyond 127.0.0.1).
//!
//! Enabled by the `conformance` feature. moto comes from `scripts/setup-tools.sh`; a missing moto
//! fails the test with that instruction (tests are never skipped).
//!
//! ```no_run
//! # async fn example() {
//! use stackdock_store::testing::{MotoServer, unique_prefix};
//!
//! let moto = MotoServer::start(); // killed when dropped
//! let store = moto.dynamo_store(&unique_prefix("sync")).await; // a DynamoStore, tables created
//! // Any other AWS client: e.g. `aws_sdk_secretsmanager::Client::new(&sdk)`.
//! let sdk = moto.sdk_config();
//! # drop((store, sdk));
//! # }
//! ```

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};

use crate::dynamodb::DynamoStore;

/// The region every test client uses.
pub const REGION: &str = "us-east-1";
/// How long `start` waits for moto to answer (it is ready in ~0.3 s on an idle machine; busy CI
/// machines building in parallel are slower).
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// Ports tried when the one picked is taken between choosing and binding it.
const START_ATTEMPTS: usize = 3;

/// A running `moto_server`, killed when dropped.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl MotoServer {
    /// Starts `moto_server -H 127.0.0.1 -p <free port>` (from `$MOTO_SERVER`, else
    /// `<workspace root>/.venv-tools/bin/moto_server`) and waits until it answers.
    ///
    /// # Panics
    /// If moto is not installed (the message says to run `scripts/setup-tools.sh`), or does not
    /// start within the timeout (the message holds its log).
    pub fn start() -> MotoServer {
        let program = moto_server_path();
        if !program.is_file() {
            panic!(
                "moto_server not found at {}: run `scripts/setup-tools.sh` at the workspace root \
                 (it installs the pinned moto into .venv-tools/), or set MOTO_SERVER to its path",
                program.display()
            );
        }
        let mut last_failure = String::new();
        for _ in 0..START_ATTEMPTS {
            match try_start(&program) {
                Ok(server) => return server,
                Err(failure) => last_failure = failure,
            }
        }
        panic!(
            "moto_server ({}) did not start after {START_ATTEMPTS} attempts: {last_failure}",
            program.display()
        )
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A shared SDK config for any AWS client against this server: region us-east-1, static
    /// credentials `test`/`test`, endpoint this server.
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(self.endpoint())
            .credentials_provider(SharedCredentialsProvider::new(static_credentials()))
            .build()
    }

    /// A DynamoDB client for this server.
    pub fn dynamo_client(&self) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(self.endpoint())
            .credentials_provider(static_credentials())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// A `DynamoStore` on this server with its tables created.
    ///
    /// # Panics
    /// If the prefix is invalid or the tables cannot be created.
    pub async fn dynamo_store(&self, table_prefix: &str) -> DynamoStore {
        let store = DynamoStore::new(self.dynamo_client(), table_prefix)
            .unwrap_or_else(|e| panic!("a DynamoStore with prefix `{table_prefix}`: {e}"));
        store
            .create_tables()
            .await
            .unwrap_or_else(|e| panic!("create the tables of `{table_prefix}` in moto: {e}"));
        store
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        // Best effort: the process may already have exited.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A table prefix no other test (or test process) uses: `<tag>-<pid>-<n>-<nanos>`.
pub fn unique_prefix(tag: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{tag}-{}-{n}-{nanos}", std::process::id())
}

/// `$MOTO_SERVER`, else `<workspace root>/.venv-tools/bin/moto_server`.
pub fn moto_server_path() -> PathBuf {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let root = workspace_root().unwrap_or_else(|| PathBuf::from("."));
    root.join(".venv-tools").join("bin").join("moto_server")
}

/// The directory holding `Cargo.lock`, searched upwards from the running test's package
/// (`CARGO_MANIFEST_DIR` at run time), then from this crate's directory, then the current one.
pub fn workspace_root() -> Option<PathBuf> {
    let starts = [
        std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
        std::env::current_dir().ok(),
    ];
    starts
        .into_iter()
        .flatten()
        .find_map(|start| find_upwards(&start, "Cargo.lock"))
}

fn find_upwards(start: &Path, file: &str) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(file).is_file())
        .map(Path::to_path_buf)
}

fn static_credentials() -> Credentials {
    Credentials::new("test", "test", None, None, "stackdock-testing")
}

/// moto's server app, served on 127.0.0.1:<argv[1]> one request at a time.
const SERIAL_MOTO: &str = "import os, sys\n\
from werkzeug.serving import run_simple\n\
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app\n\
port = int(sys.argv[1])\n\
os.environ.setdefault('MOTO_PORT', str(port))\n\
app = DomainDispatcherApplication(create_backend_app)\n\
run_simple('127.0.0.1', port, app, threaded=False, request_handler=MotoRequestHandler)\n";

fn try_start(program: &Path) -> Result<MotoServer, String> {
    let port = free_port().map_err(|e| format!("find a free port: {e}"))?;
    let log =
        std::env::temp_dir().join(format!("stackdock-moto-{}-{port}.log", std::process::id()));
    let log_file =
        std::fs::File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
    // moto_server handles requests on threads and checks DynamoDB conditions without a lock, so
    // two concurrent conditional writes can both succeed — real DynamoDB never lets them. Serve
    // one request at a time (moto's own app, `threaded=False`) so lease races behave as in AWS.
    let python = program.with_file_name("python");
    let mut command = if python.is_file() {
        let mut c = Command::new(python);
        c.args(["-c", SERIAL_MOTO, &port.to_string()]);
        c
    } else {
        let mut c = Command::new(program);
        c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        c
    };
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        // A file, not a pipe: moto logs every request, and an unread pipe would block it.
        .stderr(log_file)
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", program.display()))?;
    let mut server = MotoServer { child, port, log };
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if answers(port) {
            return Ok(server);
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!(
                "exited with {status} on port {port}: {}",
                server.log_text()
            ));
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no answer on port {port} within {READY_TIMEOUT:?}: {}",
                server.log_text()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl MotoServer {
    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Whether `GET /moto-api/` answers 200 (a plain HTTP/1.0 request: no HTTP client needed).
fn answers(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

/// A proxy in front of a moto server that can hold DynamoDB write requests (PutItem, UpdateItem,
/// DeleteItem, BatchWriteItem, TransactWriteItems) while reads pass: a fake at the HTTP boundary
/// that lets a test act between a store's reads and its writes (e.g. an apply writing ownership
/// while a sync's commit is under way), deterministically. Stops when dropped.
#[derive(Debug)]
pub struct WriteHoldingProxy {
    endpoint: String,
    gate: std::sync::Arc<Gate>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Debug)]
struct Gate {
    closed: tokio::sync::watch::Sender<bool>,
    held: std::sync::atomic::AtomicUsize,
    arrived: tokio::sync::Notify,
}

impl WriteHoldingProxy {
    /// Listens on a free 127.0.0.1 port and forwards every request to `moto`.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start(moto: &MotoServer) -> WriteHoldingProxy {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .unwrap_or_else(|e| panic!("bind the write-holding proxy: {e}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the write-holding proxy's address: {e}"));
        let upstream = SocketAddr::from((Ipv4Addr::LOCALHOST, moto.port()));
        let gate = std::sync::Arc::new(Gate {
            closed: tokio::sync::watch::channel(false).0,
            held: std::sync::atomic::AtomicUsize::new(0),
            arrived: tokio::sync::Notify::new(),
        });
        let serving = std::sync::Arc::clone(&gate);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let gate = std::sync::Arc::clone(&serving);
                tokio::spawn(async move {
                    // A failed connection fails the request it carried, which the test sees.
                    let _ = relay(client, upstream, &gate).await;
                });
            }
        });
        WriteHoldingProxy {
            endpoint: format!("http://{address}"),
            gate,
            task,
        }
    }

    /// A DynamoDB client whose requests go through this proxy.
    pub fn dynamo_client(&self) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(static_credentials())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// From now on, write requests wait (reads pass) until [`WriteHoldingProxy::open`].
    pub fn close(&self) {
        self.gate.closed.send_replace(true);
    }

    /// Returns once at least one write request is waiting at the closed gate.
    pub async fn write_held(&self) {
        loop {
            let arrived = self.gate.arrived.notified();
            if self.gate.held.load(Ordering::SeqCst) > 0 {
                return;
            }
            arrived.await;
        }
    }

    /// Lets every held and later write through.
    pub fn open(&self) {
        self.gate.closed.send_replace(false);
    }
}

impl Drop for WriteHoldingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Forwards one request (moto answers HTTP/1.0 and closes: one request per connection).
async fn relay(
    mut client: tokio::net::TcpStream,
    upstream: SocketAddr,
    gate: &Gate,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut request = Vec::new();
    let mut chunk = [0_u8; 8192];
    let head_end = loop {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&chunk[..n]);
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
    let header = |name: &str| {
        head.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':').map(str::trim))
            .map(str::to_owned)
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while request.len() < head_end + length {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&chunk[..n]);
    }
    let target = header("x-amz-target").unwrap_or_default();
    let writes = [
        "putitem",
        "updateitem",
        "deleteitem",
        "batchwriteitem",
        "transactwriteitems",
    ];
    if writes.iter().any(|w| target.ends_with(&format!(".{w}"))) {
        let mut closed = gate.closed.subscribe();
        if *closed.borrow_and_update() {
            gate.held.fetch_add(1, Ordering::SeqCst);
            gate.arrived.notify_waiters();
            while *closed.borrow_and_update() {
                if closed.changed().await.is_err() {
                    break;
                }
            }
            gate.held.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let mut moto = tokio::net::TcpStream::connect(upstream).await?;
    moto.write_all(&request).await?;
    tokio::io::copy(&mut moto, &mut client).await?;
    client.shutdown().await
}
