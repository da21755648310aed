//! The Lambda target: what a deployed `stackdock.toml` may point at. In AWS the file is code that
//! runs with the functions' role, so (design §11):
//!
//! - a dock `endpoint` must be `https` on its provider's published API host
//!   ([`ProviderKind::default_endpoint`]), unless its origin is one the deployment allows
//!   (`STACKDOCK_ALLOWED_ENDPOINTS`, the stack's `AllowedEndpoints` parameter);
//! - credentials come only from Secrets Manager names under the deployment's prefix
//!   (`STACKDOCK_SECRET_PREFIX`, default `stackdock/`): `{ env = … }` is refused, because inside
//!   Lambda the environment holds the function's own AWS credentials; the same holds for the
//!   `[notify]` webhook's URL (`sns = true` needs nothing: the template passes the topic).
//!
//! One function, data in, diagnostics out: [`check_lambda`] parses the file and adds a diagnostic
//! (with `file:line:column` and help) for every dock that breaks a rule. `stackdock validate
//! --target lambda` and the deployed functions' config loading both call it.

use std::collections::BTreeSet;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::report::Report;
use super::{Config, CredentialRef, Diagnostics, parse};
use crate::ProviderKind;

/// The deployment's secret prefix when none is given (the template's `SecretPrefix` default).
pub const DEFAULT_SECRET_PREFIX: &str = "stackdock/";

/// What the deployment allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaTarget {
    secret_prefix: String,
    /// Normalised origins (`scheme://host[:port]`, default port left out).
    allowed: BTreeSet<String>,
}

impl LambdaTarget {
    /// The target with `secret_prefix` and the origins of `allowed_endpoints`.
    ///
    /// # Errors
    /// A message naming an empty or wildcard prefix, or an allowed entry that is not an origin
    /// (`scheme://host[:port]`, http or https, no path, user or query).
    pub fn new<S: AsRef<str>>(
        secret_prefix: &str,
        allowed_endpoints: impl IntoIterator<Item = S>,
    ) -> Result<LambdaTarget, String> {
        let prefix = secret_prefix.trim();
        if prefix.is_empty() || prefix.contains(['*', '?']) || prefix.contains(char::is_whitespace)
        {
            return Err(format!(
                "the secret prefix {secret_prefix:?} is not usable: give the Secrets Manager name prefix the functions may read, e.g. `{DEFAULT_SECRET_PREFIX}` (no wildcards; empty would allow every secret)"
            ));
        }
        let mut allowed = BTreeSet::new();
        for entry in allowed_endpoints {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            let origin = Origin::parse(entry)
                .filter(|o| o.rest.is_empty() || o.rest == "/")
                .ok_or_else(|| {
                    format!(
                        "the allowed endpoint {entry:?} is not an origin: write `scheme://host[:port]`, e.g. `https://api.example.com` or `http://127.0.0.1:8787` (no path)"
                    )
                })?;
            allowed.insert(origin.key());
        }
        Ok(LambdaTarget {
            secret_prefix: prefix.to_owned(),
            allowed,
        })
    }

    /// The target from comma-separated allowed origins (as `STACKDOCK_ALLOWED_ENDPOINTS` holds
    /// them).
    ///
    /// # Errors
    /// As [`LambdaTarget::new`].
    pub fn from_list(secret_prefix: &str, allowed_endpoints: &str) -> Result<LambdaTarget, String> {
        LambdaTarget::new(secret_prefix, allowed_endpoints.split(','))
    }

    pub fn secret_prefix(&self) -> &str {
        &self.secret_prefix
    }

    /// Whether a dock of `provider` may call `endpoint`.
    fn endpoint_allowed(&self, provider: ProviderKind, endpoint: &str) -> bool {
        let Some(origin) = Origin::parse(endpoint) else {
            return false;
        };
        let published = Origin::parse(provider.default_endpoint());
        self.allowed.contains(&origin.key())
            || (origin.scheme == "https" && published.is_some_and(|p| p.key() == origin.key()))
    }

    /// Why a secret reference is outside the prefix, or `None`.
    fn secret_error(&self, secret: &str) -> Option<String> {
        let name = if secret.starts_with("arn:") {
            // arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<suffix>
            let parts: Vec<&str> = secret.splitn(7, ':').collect();
            match parts.as_slice() {
                [_, _, "secretsmanager", _, _, "secret", name] => *name,
                _ => return Some("is not a Secrets Manager secret ARN".to_owned()),
            }
        } else {
            secret
        };
        (!name.starts_with(&self.secret_prefix)).then(|| {
            format!(
                "is outside the deployment's secret prefix `{}`",
                self.secret_prefix
            )
        })
    }
}

/// A URL's scheme, host and port, and what follows the authority.
struct Origin<'u> {
    scheme: &'u str,
    host: String,
    port: Option<u16>,
    rest: &'u str,
}

impl<'u> Origin<'u> {
    fn parse(url: &'u str) -> Option<Origin<'u>> {
        let (scheme, after) = url.split_once("://")?;
        let scheme = match scheme {
            "http" => "http",
            "https" => "https",
            _ => return None,
        };
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(end);
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, tail) = v6.split_once(']')?;
            (format!("[{host}]"), tail.strip_prefix(':'))
        } else {
            match authority.split_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (authority.to_owned(), None),
            }
        };
        let port = match port {
            None => None,
            Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0)?),
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        let default = if scheme == "https" { 443 } else { 80 };
        Some(Origin {
            scheme,
            host: host.to_ascii_lowercase(),
            port: port.filter(|p| *p != default),
            rest,
        })
    }

    fn key(&self) -> String {
        match self.port {
            Some(p) => format!("{}://{}:{p}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }
}

/// Parses `source` and checks it for the Lambda target: every parse diagnostic, or every dock
/// that breaks a rule of `target`, each at its value with what to do.
///
/// # Errors
/// The diagnostics, in file order.
pub fn check_lambda(
    file: &str,
    source: &str,
    target: &LambdaTarget,
) -> Result<Config, Diagnostics> {
    let config = parse(file, source)?;
    let mut report = Report::new(file, source);
    let root = DeTable::parse(source).ok();
    let docks = root.as_ref().and_then(|r| table(r.get_ref(), "docks"));
    for (name, dock) in &config.docks {
        let spans = docks.and_then(|d| table(d, name));
        let span_of = |key: &str| {
            spans
                .and_then(|t| t.get(key))
                .map_or(0..0, |item| item.span())
        };
        if let Some(endpoint) = &dock.endpoint
            && !target.endpoint_allowed(dock.provider, endpoint)
        {
            let published = dock.provider.default_endpoint();
            let shown = Origin::parse(endpoint).map_or_else(|| endpoint.clone(), |o| o.key());
            report.error(
                span_of("endpoint"),
                format!(
                    "dock `{name}` calls `{shown}`: in Lambda a {} dock may only call `{}` over https",
                    dock.provider,
                    Origin::parse(published).map_or_else(|| published.to_owned(), |o| o.key()),
                ),
                format!(
                    "remove `endpoint` to use {published}, or allow this origin for the deployment: the stack's AllowedEndpoints parameter (STACKDOCK_ALLOWED_ENDPOINTS; `stackdock validate --target lambda --allow-endpoint {shown}`)"
                ),
            );
        }
        let credential = spans.and_then(|t| table(t, "credentials"));
        let value_span = |key: &str| -> Range<usize> {
            credential
                .and_then(|t| t.get(key))
                .map_or_else(|| span_of("credentials"), |item| item.span())
        };
        refuse_outside_prefix(
            &mut report,
            target,
            &dock.credentials,
            Reference {
                subject: &format!("dock `{name}`"),
                what: "credential",
                key: "credentials",
                example: name,
                sent_to: ("a provider", "the token"),
            },
            value_span,
        );
    }
    // `[notify]` is sent by the sync and apply functions (`sns = true`: the stack's topic). Its
    // webhook follows the credentials' rules: a secret under the prefix, never `{ env }`.
    let notify = root.as_ref().and_then(|r| table(r.get_ref(), "notify"));
    if let Some(webhook) = config.notify.as_ref().and_then(|n| n.webhook.as_ref()) {
        let span = |key: &str| -> Range<usize> {
            let table = notify.and_then(|t| table(t, "webhook"));
            table
                .and_then(|t| t.get(key))
                .map(|item| item.span())
                .or_else(|| {
                    notify
                        .and_then(|t| t.get("webhook"))
                        .map(|item| item.span())
                })
                .unwrap_or(0..0)
        };
        refuse_outside_prefix(
            &mut report,
            target,
            webhook,
            Reference {
                subject: "the webhook of `[notify]`",
                what: "URL",
                key: "webhook",
                example: "notify-webhook",
                sent_to: ("any host", "the URL"),
            },
            span,
        );
    }
    if report.is_empty() {
        Ok(config)
    } else {
        Err(report.finish())
    }
}

/// A `{ env }` / `{ secret }` reference as the Lambda target sees it: what it belongs to, for
/// messages.
struct Reference<'a> {
    /// `dock `web``, `the webhook of `[notify]``.
    subject: &'a str,
    /// What it holds: `credential`, `URL`.
    what: &'a str,
    /// Its key in the file.
    key: &'a str,
    /// The name suggested after the secret prefix.
    example: &'a str,
    /// Where a variable's value would be sent, and what to store instead: (`a provider`, `the
    /// token`).
    sent_to: (&'a str, &'a str),
}

/// Refuses an environment reference (in Lambda the environment holds the function's own AWS
/// credentials) and a secret outside the deployment's prefix; `span` locates `env` or `secret`.
fn refuse_outside_prefix(
    report: &mut Report<'_>,
    target: &LambdaTarget,
    reference: &CredentialRef,
    of: Reference<'_>,
    span: impl Fn(&str) -> Range<usize>,
) {
    let Reference {
        subject,
        what,
        key,
        example,
        sent_to: (sent_to, thing),
    } = of;
    let prefix = &target.secret_prefix;
    match reference {
        CredentialRef::Env(var) => report.error(
            span("env"),
            format!("{subject} reads its {what} from the environment variable `{var}`: refused in Lambda"),
            format!(
                "inside Lambda the environment holds the function's own AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), which a config naming a variable could send to {sent_to}; store {thing} in Secrets Manager and write `{key} = {{ secret = \"{prefix}{example}\" }}`"
            ),
        ),
        CredentialRef::Secret(secret) => {
            if let Some(why) = target.secret_error(secret) {
                report.error(
                    span("secret"),
                    format!("the secret `{secret}` of {subject} {why}"),
                    format!(
                        "the functions may read only secrets named `{prefix}…` (the stack's SecretPrefix parameter, STACKDOCK_SECRET_PREFIX): rename the secret, e.g. `{prefix}{example}`, or check with `stackdock validate --target lambda --secret-prefix <prefix>`"
                    ),
                );
            }
        }
    }
}

fn table<'t, 'i>(t: &'t DeTable<'i>, key: &str) -> Option<&'t DeTable<'i>> {
    match t.get(key).map(|item| item.get_ref()) {
        Some(DeValue::Table(t)) => Some(t),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(allowed: &[&str]) -> LambdaTarget {
        LambdaTarget::new(DEFAULT_SECRET_PREFIX, allowed.iter().copied()).expect("valid")
    }

    #[test]
    fn endpoints() {
        let t = target(&["http://127.0.0.1:8787", "https://proxy.example.com:8443/"]);
        let cases = [
            (ProviderKind::Vultr, "https://api.vultr.com/v2", true),
            (ProviderKind::Vultr, "https://API.vultr.com:443/v2", true),
            (ProviderKind::Vultr, "http://api.vultr.com/v2", false),
            (ProviderKind::Vultr, "https://api.vultr.com:8443/v2", false),
            (ProviderKind::Vultr, "https://api.linode.com/v4", false),
            (
                ProviderKind::Vultr,
                "https://api.vultr.com.evil.example/v2",
                false,
            ),
            (ProviderKind::Linode, "https://api.linode.com/v4", true),
            (
                ProviderKind::DigitalOcean,
                "https://api.digitalocean.com/v2",
                true,
            ),
            (
                ProviderKind::Linode,
                "http://127.0.0.1:8787/linode/v4",
                true,
            ),
            (
                ProviderKind::Linode,
                "http://127.0.0.1:8788/linode/v4",
                false,
            ),
            (
                ProviderKind::Linode,
                "https://127.0.0.1:8787/linode/v4",
                false,
            ),
            (
                ProviderKind::Vultr,
                "https://proxy.example.com:8443/vultr",
                true,
            ),
            (ProviderKind::Vultr, "ftp://api.vultr.com/v2", false),
        ];
        for (provider, url, allowed) in cases {
            assert_eq!(
                t.endpoint_allowed(provider, url),
                allowed,
                "{provider} {url}"
            );
        }
    }

    #[test]
    fn secrets() {
        let t = target(&[]);
        assert_eq!(t.secret_error("stackdock/vultr"), None);
        assert_eq!(
            t.secret_error(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:stackdock/vultr-AbC123"
            ),
            None
        );
        assert!(t.secret_error("prod/vultr").is_some());
        assert!(t.secret_error("stackdock").is_some());
        assert!(
            t.secret_error("arn:aws:secretsmanager:us-east-1:123456789012:secret:other-AbC123")
                .is_some()
        );
        assert!(
            t.secret_error("arn:aws:ssm:us-east-1:123456789012:parameter/x")
                .is_some()
        );
    }

    #[test]
    fn invalid_settings() {
        for prefix in ["", "  ", "*", "stack*"] {
            assert!(LambdaTarget::new(prefix, [""; 0]).is_err(), "{prefix:?}");
        }
        for origin in [
            "api.example.com",
            "https://api.example.com/v2",
            "https://u:p@api.example.com",
            "ftp://x",
            "https://",
            "http://127.0.0.1:99999",
        ] {
            let err = LambdaTarget::new("stackdock/", [origin]).expect_err(origin);
            assert!(err.contains(origin), "{err}");
        }
        let t = LambdaTarget::from_list("stackdock/", " http://127.0.0.1:8787 ,,").expect("list");
        assert!(t.endpoint_allowed(ProviderKind::Vultr, "http://127.0.0.1:8787/vultr/v2"));
    }
}
