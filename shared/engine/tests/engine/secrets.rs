//! Credentials from Secrets Manager (moto): a raw token and a JSON `{"token"}` secret, one fetch
//! per secret per process, errors naming the dock and the secret id, and the value in no error and
//! no log line.

use stackdock_core::ProviderKind;
use stackdock_core::config::{CredentialRef, DockConfig};
use stackdock_engine::{
    CredentialResolver, DefaultResolver, EngineError, EnvResolver, SecretsManagerResolver,
};
use stackdock_store::testing::MotoServer;

use crate::support::capture_logs as capture;

const RAW_VALUE: &str = "raw-token-VALUE-0123456789";
const JSON_VALUE: &str = "json-token-VALUE-9876543210";

fn dock(name: &str, credentials: CredentialRef) -> DockConfig {
    DockConfig {
        name: name.into(),
        provider: ProviderKind::DigitalOcean,
        credentials,
        endpoint: None,
        regions: None,
        settings: Default::default(),
    }
}

fn secret(id: &str) -> CredentialRef {
    CredentialRef::Secret(id.into())
}

pub(crate) async fn put_secret(client: &aws_sdk_secretsmanager::Client, id: &str, value: &str) {
    client
        .create_secret()
        .name(id)
        .secret_string(value)
        .send()
        .await
        .expect("create the secret in moto");
}

#[tokio::test(flavor = "current_thread")]
async fn raw_and_json_secrets_resolve_once_and_never_leak() {
    let (logs, _guard) = capture();
    let moto = MotoServer::start();
    let sdk = moto.sdk_config();
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    put_secret(&client, "stackdock/do-main", RAW_VALUE).await;
    put_secret(
        &client,
        "stackdock/linode-main",
        &format!("{{\"token\": \"{JSON_VALUE}\", \"note\": \"rotated monthly\"}}"),
    )
    .await;

    let resolver = SecretsManagerResolver::new(&sdk);
    let raw = resolver
        .resolve(&dock("do-main", secret("stackdock/do-main")))
        .await
        .expect("raw secret");
    assert_eq!(raw.expose(), RAW_VALUE);
    let json = resolver
        .resolve(&dock("linode-main", secret("stackdock/linode-main")))
        .await
        .expect("JSON secret");
    assert_eq!(json.expose(), JSON_VALUE);

    // Served from memory within the TTL (`CREDENTIAL_TTL`): a rotation after the first read is not
    // seen until then (a provider 401 re-reads at once, see the functions tests), and neither is a
    // deletion (a warm function makes no Secrets Manager call).
    client
        .delete_secret()
        .secret_id("stackdock/do-main")
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("delete");
    let again = resolver
        .resolve(&dock("do-main", secret("stackdock/do-main")))
        .await
        .expect("served from the cache");
    assert_eq!(again.expose(), RAW_VALUE);

    // A resolver built before is independent: it reads (and fails) for itself.
    let fresh = SecretsManagerResolver::new(&sdk);
    let gone = fresh
        .resolve(&dock("do-main", secret("stackdock/do-main")))
        .await
        .expect_err("deleted secret");
    assert!(gone.to_string().contains("stackdock/do-main"), "{gone}");

    let text = logs.text();
    assert!(!text.contains(RAW_VALUE), "raw token in the logs:\n{text}");
    assert!(
        !text.contains(JSON_VALUE),
        "JSON token in the logs:\n{text}"
    );
    assert!(!format!("{raw:?} {json} {gone:?}").contains("VALUE"));
}

#[tokio::test(flavor = "current_thread")]
async fn missing_empty_and_tokenless_secrets_name_the_dock_and_secret_only() {
    let (logs, _guard) = capture();
    let moto = MotoServer::start();
    let sdk = moto.sdk_config();
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    put_secret(&client, "stackdock/blank", "   ").await;
    put_secret(
        &client,
        "stackdock/no-token",
        r#"{"api_key": "tokenless-VALUE-1234"}"#,
    )
    .await;
    let resolver = SecretsManagerResolver::new(&sdk);

    for (id, expect) in [
        ("stackdock/absent", "does not exist"),
        ("stackdock/blank", "is empty"),
        ("stackdock/no-token", "without a string `token` field"),
    ] {
        let err = resolver
            .resolve(&dock("vultr-main", secret(id)))
            .await
            .expect_err(id);
        let EngineError::Credential { dock, message } = &err else {
            panic!("{id}: not a credential error: {err:?}");
        };
        assert_eq!(dock, "vultr-main");
        assert!(message.contains(id), "{id}: {message}");
        assert!(message.contains(expect), "{id}: {message}");
        assert!(!err.to_string().contains("VALUE"), "{err}");
    }
    // A failure is not cached: the secret created afterwards is read.
    put_secret(&client, "stackdock/absent", RAW_VALUE).await;
    let now = resolver
        .resolve(&dock("vultr-main", secret("stackdock/absent")))
        .await
        .expect("created since");
    assert_eq!(now.expose(), RAW_VALUE);
    assert!(!logs.text().contains("VALUE"), "{}", logs.text());
}

#[tokio::test(flavor = "current_thread")]
async fn the_default_resolver_reads_env_and_secret_references() {
    let moto = MotoServer::start();
    let sdk = moto.sdk_config();
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    put_secret(&client, "stackdock/vultr", RAW_VALUE).await;
    let resolver = DefaultResolver::with_secrets(SecretsManagerResolver::new(&sdk));

    let from_secret = resolver
        .resolve(&dock("vultr-main", secret("stackdock/vultr")))
        .await
        .expect("secret reference");
    assert_eq!(from_secret.expose(), RAW_VALUE);

    // PATH is set in every test environment; its value only has to come back as the token.
    let path = std::env::var("PATH").expect("PATH");
    let from_env = resolver
        .resolve(&dock("do-main", CredentialRef::Env("PATH".into())))
        .await
        .expect("env reference");
    assert_eq!(from_env.expose(), path.trim());

    let unset = resolver
        .resolve(&dock(
            "do-main",
            CredentialRef::Env("STACKDOCK_TEST_SURELY_UNSET".into()),
        ))
        .await
        .expect_err("unset variable");
    assert!(
        unset
            .to_string()
            .contains("STACKDOCK_TEST_SURELY_UNSET is not set")
    );

    // The environment-only resolver says what resolves secrets instead.
    let refused = EnvResolver
        .resolve(&dock("do-main", secret("stackdock/vultr")))
        .await
        .expect_err("EnvResolver does not read Secrets Manager");
    assert!(refused.to_string().contains("stackdock/vultr"), "{refused}");
    assert!(!refused.to_string().contains("--secrets"), "{refused}");
}
