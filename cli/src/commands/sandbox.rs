//! `stackdock sandbox`: the local provider sandbox as a server, for offline use and scripts.

use anyhow::{Context as _, anyhow};
use stackdock_sandbox::{Kind, Provider, ServeOptions, serve};

use crate::args::SandboxArgs;

pub async fn run(args: &SandboxArgs) -> anyhow::Result<u8> {
    let bulk = args
        .bulk
        .iter()
        .map(|b| parse_bulk(b))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let opts = ServeOptions {
        seed_fixtures: !args.no_fixtures,
        bulk,
        ..ServeOptions::default()
    };
    eprintln!(
        "Sandbox on http://127.0.0.1:{} (Ctrl-C stops it). Dock endpoints and tokens:",
        args.port
    );
    for p in Provider::ALL {
        eprintln!(
            "  {:<13} endpoint = \"http://127.0.0.1:{}{}\"  token: {}",
            p.name(),
            args.port,
            p.prefix(),
            p.default_token()
        );
    }
    serve(args.port, opts)
        .await
        .context("the sandbox stopped")?;
    Ok(0)
}

fn parse_bulk(spec: &str) -> anyhow::Result<(Provider, Kind, usize)> {
    let parts: Vec<&str> = spec.split(':').collect();
    let [provider, kind, count] = parts.as_slice() else {
        return Err(anyhow!(
            "--bulk `{spec}`: expected PROVIDER:KIND:COUNT, e.g. vultr:instances:2000"
        ));
    };
    let provider: Provider = serde_json::from_value(serde_json::Value::String(
        (*provider).to_owned(),
    ))
    .map_err(|_| {
        anyhow!("--bulk `{spec}`: unknown provider `{provider}` (vultr, digitalocean, linode)")
    })?;
    let kind: Kind = serde_json::from_value(serde_json::Value::String((*kind).to_owned()))
        .map_err(|_| {
            anyhow!(
                "--bulk `{spec}`: unknown kind `{kind}` (instances, volumes, databases, buckets)"
            )
        })?;
    let count = count
        .parse()
        .map_err(|_| anyhow!("--bulk `{spec}`: `{count}` is not a count"))?;
    Ok((provider, kind, count))
}
