//! Error classification: the one place where a provider's status code, error body and headers
//! become an [`ErrorClass`] with the provider's message and field errors. One function per
//! error-body format (the provider's `Declaration` names its format) reads the body; the status
//! mapping is shared. Adapters never look at status codes.
//!
//! Messages carry the provider's words, never a raw body (bodies may carry secrets) and never the
//! credential.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::retry::server_wait;
use super::{Declaration, ErrorBody};
use crate::{ErrorClass, FieldError};

/// Longest provider message kept; the rest is cut (some upstream errors are whole pages).
const MAX_MESSAGE_CHARS: usize = 500;

/// A classified failure, before the dock and route are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Classified {
    pub class: ErrorClass,
    pub message: String,
    pub fields: Vec<FieldError>,
    pub retry_after: Option<Duration>,
    /// The failure is of a retryable class but re-sending soon cannot help (maintenance mode).
    pub no_retry: bool,
}

/// What the caller knows that the response does not.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    /// Where the dock's credential came from, e.g. "environment variable VULTR_API_KEY".
    pub credential_source: &'a str,
    pub now: jiff::Timestamp,
}

/// What a provider's error body said.
#[derive(Debug, Default, PartialEq, Eq)]
struct Said {
    message: Option<String>,
    fields: Vec<FieldError>,
    /// A status code inside the body (Vultr `status`, or inferred from a DigitalOcean `id`).
    status: Option<u16>,
}

/// Classifies a non-2xx answer.
pub(crate) fn classify(
    decl: &Declaration,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    ctx: Context<'_>,
) -> Classified {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let mut said = json
        .as_ref()
        .map(|v| decl.errors.read(v))
        .unwrap_or_default();
    if let Some(header) = decl.request_id_header
        && let Some(id) = headers.get(header).and_then(|v| v.to_str().ok())
        && let Some(m) = said.message.as_mut()
        && !m.contains("request id")
    {
        m.push_str(&format!(" (request id {id})"));
    }
    let mut out = build(status, said, ctx);
    if out.class == ErrorClass::RateLimited || (500..600).contains(&status) {
        out.retry_after = server_wait(decl, headers, ctx.now);
    }
    if status == 503
        && decl
            .maintenance_header
            .is_some_and(|h| headers.contains_key(h))
    {
        out.message = format!(
            "the {} API is in maintenance mode: {}",
            decl.display_name, out.message
        );
        out.no_retry = true;
    }
    out
}

/// A 2xx whose body is an error envelope (some gateways answer errors with 200): the class comes
/// from its content. `None` when the body is not an error envelope.
pub(crate) fn envelope_error(
    format: ErrorBody,
    body: &Value,
    ctx: Context<'_>,
) -> Option<Classified> {
    if !format.is_envelope(body.as_object()?) {
        return None;
    }
    let said = format.read(body);
    let text = said.message.clone().unwrap_or_default().to_lowercase();
    let status = said.status.unwrap_or_else(|| {
        if text.contains("not found") {
            404
        } else if text.contains("token")
            || text.contains("unauthorized")
            || text.contains("authenticat")
        {
            401
        } else if text.contains("rate limit") || text.contains("too many") {
            429
        } else if !said.fields.is_empty() {
            400
        } else if is_busy(&text) {
            409
        } else {
            500
        }
    });
    let mut out = build(status, said, ctx);
    out.message = format!("error in a successful response: {}", out.message);
    Some(out)
}

impl ErrorBody {
    /// Reads an error body of this format.
    fn read(self, body: &Value) -> Said {
        match self {
            ErrorBody::ErrorAndStatus => read_error_and_status(body),
            ErrorBody::IdAndMessage => read_id_and_message(body),
            ErrorBody::ErrorList => read_error_list(body),
            ErrorBody::ErrorObject => read_error_object(body),
            ErrorBody::SuccessEnvelope => read_success_envelope(body),
        }
    }

    /// Whether a 2xx body is nothing but an error of this format.
    fn is_envelope(self, obj: &serde_json::Map<String, Value>) -> bool {
        match self {
            ErrorBody::ErrorAndStatus => {
                obj.get("error")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
                    && obj.keys().all(|k| k == "error" || k == "status")
            }
            ErrorBody::IdAndMessage => {
                obj.get("id").is_some_and(Value::is_string)
                    && obj.get("message").is_some_and(Value::is_string)
                    && obj
                        .keys()
                        .all(|k| k == "id" || k == "message" || k == "request_id")
            }
            ErrorBody::ErrorList => obj
                .get("errors")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty()),
            ErrorBody::ErrorObject => {
                obj.len() == 1
                    && obj
                        .get("error")
                        .and_then(Value::as_object)
                        .is_some_and(|e| e.get("message").is_some_and(Value::is_string))
            }
            ErrorBody::SuccessEnvelope => obj.get("success") == Some(&Value::Bool(false)),
        }
    }
}

/// Vultr: `{"error": "<message>", "status": <int>}` ([tf-vultr] utility.go `apiError`).
fn read_error_and_status(body: &Value) -> Said {
    Said {
        message: text(body.get("error")),
        fields: Vec::new(),
        status: body
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (400..600).contains(s)),
    }
}

/// DigitalOcean: `{"id": "<slug>", "message": "...", "request_id": "..."}` ([do-spec] error.yml).
fn read_id_and_message(body: &Value) -> Said {
    let mut message = text(body.get("message"));
    if let (Some(m), Some(id)) = (message.as_mut(), text(body.get("request_id"))) {
        m.push_str(&format!(" (request id {id})"));
    }
    let status = body
        .get("id")
        .and_then(Value::as_str)
        .and_then(|id| match id {
            "not_found" => Some(404),
            "unauthorized" => Some(401),
            "forbidden" => Some(403),
            "too_many_requests" => Some(429),
            "unprocessable_entity" => Some(422),
            "bad_request" => Some(400),
            "conflict" => Some(409),
            "server_error" | "internal_server_error" => Some(500),
            "service_unavailable" => Some(503),
            _ => None,
        });
    Said {
        message,
        fields: Vec::new(),
        status,
    }
}

/// Linode: `{"errors": [{"reason": "...", "field": "<optional>"}]}` ([linodego] errors.go).
/// Reasons with a field become field errors; the others make the message.
fn read_error_list(body: &Value) -> Said {
    let mut fields = Vec::new();
    let mut reasons = Vec::new();
    for e in body
        .get("errors")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let Some(reason) = text(e.get("reason")) else {
            continue;
        };
        match text(e.get("field")) {
            Some(field) => fields.push(FieldError {
                field,
                message: reason,
            }),
            None => reasons.push(reason),
        }
    }
    let message = if reasons.is_empty() {
        (!fields.is_empty()).then(|| "the request was rejected".to_owned())
    } else {
        Some(reasons.join("; "))
    };
    Said {
        message,
        fields,
        status: None,
    }
}

/// Vercel: `{"error": {"code": "<slug>", "message": "…"}}` ([vercel-tf] client/error.go
/// `APIError`). The code is added to the message (it names the refusal: `ENV_CONFLICT`,
/// `forbidden`); the codes with a clear status give it, for an error envelope in a 2xx.
fn read_error_object(body: &Value) -> Said {
    let error = body.get("error");
    let code = text(error.and_then(|e| e.get("code")));
    let message = match (text(error.and_then(|e| e.get("message"))), &code) {
        (Some(m), Some(c)) => Some(format!("{m} ({c})")),
        (m, c) => m.or_else(|| c.clone()),
    };
    let status = code.as_deref().and_then(|c| match c {
        "not_found" => Some(404),
        "forbidden" => Some(403),
        "unauthorized" | "invalid_token" => Some(401),
        "rate_limited" | "too_many_requests" => Some(429),
        "bad_request" => Some(400),
        "conflict" => Some(409),
        "internal_server_error" => Some(500),
        _ => None,
    });
    Said {
        message,
        fields: Vec::new(),
        status,
    }
}

/// Cloudflare: `{"success": false, "errors": [{"code": 1003, "message": "…"}], "messages": [],
/// "result": null}` ([cf-spec] `api-response-common-failure`). Each error reads `message (code
/// N)`; several are joined. The HTTP status says the class; the codes are Cloudflare's own.
fn read_success_envelope(body: &Value) -> Said {
    let said: Vec<String> = body
        .get("errors")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| {
            let message = text(e.get("message"))?;
            Some(match e.get("code").and_then(Value::as_u64) {
                Some(code) => format!("{message} (code {code})"),
                None => message,
            })
        })
        .collect();
    Said {
        message: (!said.is_empty()).then(|| cut(&said.join("; "))),
        fields: Vec::new(),
        status: None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?.trim();
    if s.is_empty() {
        return None;
    }
    Some(cut(s))
}

fn cut(s: &str) -> String {
    if s.chars().count() <= MAX_MESSAGE_CHARS {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(MAX_MESSAGE_CHARS).collect();
    out.push('…');
    out
}

/// A provider saying the resource is mid-operation: Linode "Linode busy.", DigitalOcean
/// "Droplet already has a pending event.", Vultr "server is locked".
fn is_busy(lower: &str) -> bool {
    [
        "busy",
        "pending event",
        "is locked",
        "currently locked",
        "already in progress",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

/// The shared status → class mapping, with the message the user sees.
fn build(status: u16, said: Said, ctx: Context<'_>) -> Classified {
    let provider = said.message.clone();
    let lower = provider.as_deref().unwrap_or_default().to_lowercase();
    let what = match &provider {
        Some(m) => format!("HTTP {status}: {m}"),
        None => format!("HTTP {status}"),
    };
    let (class, message) = match status {
        404 => (ErrorClass::NotFound, what),
        401 => (
            ErrorClass::Unauthorized,
            format!(
                "the token in {} was rejected ({what}); check that it is current or replace it",
                ctx.credential_source
            ),
        ),
        403 => (
            ErrorClass::Unauthorized,
            format!(
                "the token in {} is not allowed to do this ({what}); check its scopes or permissions",
                ctx.credential_source
            ),
        ),
        429 => (
            ErrorClass::RateLimited,
            format!("rate limited by the provider ({what})"),
        ),
        409 | 423 => (ErrorClass::Conflict, what),
        400 | 422 if is_busy(&lower) => (
            ErrorClass::Conflict,
            format!("the resource is busy ({what}); try again when its current operation ends"),
        ),
        // [tf-vultr] checkIsMissing also treats a 400 "... not found" as gone, but on a create
        // that would turn "plan not found" into "resource gone": a 400 stays Invalid here.
        408 => (
            ErrorClass::Transient,
            format!("the provider timed out ({what})"),
        ),
        // Not Implemented: the same request will never work, so it is not transient.
        501 => (ErrorClass::Invalid, what),
        500..=599 => (ErrorClass::Transient, format!("provider error ({what})")),
        300..=399 => (
            ErrorClass::Invalid,
            format!("unexpected redirect ({what}); check the dock's endpoint"),
        ),
        _ => (ErrorClass::Invalid, what),
    };
    Classified {
        class,
        message,
        fields: said.fields,
        retry_after: None,
        no_retry: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    /// The providers' declarations, named as the cases read.
    #[allow(non_upper_case_globals)]
    mod dialect {
        use crate::http::Declaration;
        pub static Vultr: &Declaration = &crate::vultr::DECLARATION;
        pub static DigitalOcean: &Declaration = &crate::digitalocean::DECLARATION;
        pub static Linode: &Declaration = &crate::linode::DECLARATION;
        pub static Vercel: &Declaration = &crate::vercel::DECLARATION;
        pub static Cloudflare: &Declaration = &crate::cloudflare::DECLARATION;
    }
    type Dialect = &'static Declaration;

    const SOURCE: &str = "environment variable VULTR_API_KEY";

    fn ctx() -> Context<'static> {
        Context {
            credential_source: SOURCE,
            now: jiff::Timestamp::from_second(1_700_000_000).expect("valid timestamp"),
        }
    }

    fn field(f: &str, m: &str) -> FieldError {
        FieldError {
            field: f.to_owned(),
            message: m.to_owned(),
        }
    }

    #[test]
    fn classification_table() {
        use ErrorClass::*;
        use dialect::*;
        type Case = (
            Dialect,
            u16,
            &'static str,
            ErrorClass,
            &'static str,
            Vec<FieldError>,
        );
        let cases: Vec<Case> = vec![
            (
                Vultr,
                404,
                r#"{"error":"instance not found","status":404}"#,
                NotFound,
                "HTTP 404: instance not found",
                vec![],
            ),
            (
                Vultr,
                400,
                r#"{"error":"plan not found","status":400}"#,
                Invalid,
                "HTTP 400: plan not found",
                vec![],
            ),
            (
                Vultr,
                400,
                r#"{"error":"Invalid plan","status":400}"#,
                Invalid,
                "HTTP 400: Invalid plan",
                vec![],
            ),
            (
                Vultr,
                400,
                r#"{"error":"Server is currently locked","status":400}"#,
                Conflict,
                "the resource is busy (HTTP 400: Server is currently locked); try again when its current operation ends",
                vec![],
            ),
            (
                Vultr,
                500,
                "<html>oops</html>",
                Transient,
                "provider error (HTTP 500)",
                vec![],
            ),
            (Vultr, 501, "", Invalid, "HTTP 501", vec![]),
            (
                Vultr,
                429,
                "",
                RateLimited,
                "rate limited by the provider (HTTP 429)",
                vec![],
            ),
            (
                DigitalOcean,
                404,
                r#"{"id":"not_found","message":"The resource you were accessing could not be found."}"#,
                NotFound,
                "HTTP 404: The resource you were accessing could not be found.",
                vec![],
            ),
            (
                DigitalOcean,
                422,
                r#"{"id":"unprocessable_entity","message":"Droplet already has a pending event.","request_id":"r-1"}"#,
                Conflict,
                "the resource is busy (HTTP 422: Droplet already has a pending event. (request id r-1)); try again when its current operation ends",
                vec![],
            ),
            (
                DigitalOcean,
                422,
                r#"{"id":"unprocessable_entity","message":"You specified an invalid size for Droplet creation."}"#,
                Invalid,
                "HTTP 422: You specified an invalid size for Droplet creation.",
                vec![],
            ),
            (
                DigitalOcean,
                409,
                r#"{"id":"conflict","message":"name already in use"}"#,
                Conflict,
                "HTTP 409: name already in use",
                vec![],
            ),
            (
                DigitalOcean,
                503,
                r#"{"id":"service_unavailable","message":"try later"}"#,
                Transient,
                "provider error (HTTP 503: try later)",
                vec![],
            ),
            (
                Linode,
                400,
                r#"{"errors":[{"field":"label","reason":"Label must be unique among your linodes"},{"field":"region","reason":"region is not valid"}]}"#,
                Invalid,
                "HTTP 400: the request was rejected",
                vec![
                    field("label", "Label must be unique among your linodes"),
                    field("region", "region is not valid"),
                ],
            ),
            (
                Linode,
                400,
                r#"{"errors":[{"reason":"Linode busy."}]}"#,
                Conflict,
                "the resource is busy (HTTP 400: Linode busy.); try again when its current operation ends",
                vec![],
            ),
            (
                Linode,
                404,
                r#"{"errors":[{"reason":"Not found"}]}"#,
                NotFound,
                "HTTP 404: Not found",
                vec![],
            ),
            (
                Linode,
                502,
                "<html><body>Bad Gateway</body></html>",
                Transient,
                "provider error (HTTP 502)",
                vec![],
            ),
            (
                Linode,
                408,
                "",
                Transient,
                "the provider timed out (HTTP 408)",
                vec![],
            ),
            (
                Linode,
                409,
                r#"{"errors":[{"reason":"a","field":"x"},{"reason":"b"}]}"#,
                Conflict,
                "HTTP 409: b",
                vec![field("x", "a")],
            ),
            (
                Vercel,
                409,
                r#"{"error":{"code":"conflict","message":"The domain already exists."}}"#,
                Conflict,
                "HTTP 409: The domain already exists. (conflict)",
                vec![],
            ),
            (
                Vercel,
                400,
                r#"{"error":{"code":"ENV_CONFLICT","message":"A variable with that key exists."}}"#,
                Invalid,
                "HTTP 400: A variable with that key exists. (ENV_CONFLICT)",
                vec![],
            ),
            (
                Cloudflare,
                404,
                r#"{"success":false,"errors":[{"code":81044,"message":"Record does not exist."}],"messages":[],"result":null}"#,
                NotFound,
                "HTTP 404: Record does not exist. (code 81044)",
                vec![],
            ),
            (
                Cloudflare,
                400,
                r#"{"success":false,"errors":[{"code":9005,"message":"Content for A record is invalid."},{"code":9021,"message":"Invalid TTL."}],"messages":[],"result":null}"#,
                Invalid,
                "HTTP 400: Content for A record is invalid. (code 9005); Invalid TTL. (code 9021)",
                vec![],
            ),
            (
                Cloudflare,
                409,
                r#"{"success":false,"errors":[{"code":1061,"message":"example.com already exists"}],"messages":[],"result":null}"#,
                Conflict,
                "HTTP 409: example.com already exists (code 1061)",
                vec![],
            ),
            (
                Cloudflare,
                422,
                r#"{"success":false,"errors":[],"messages":[],"result":null}"#,
                Invalid,
                "HTTP 422",
                vec![],
            ),
            (
                Cloudflare,
                503,
                r#"{"success":false,"errors":[{"code":10000,"message":"Service unavailable"}]}"#,
                Transient,
                "provider error (HTTP 503: Service unavailable (code 10000))",
                vec![],
            ),
        ];
        for (dialect, status, body, class, message, fields) in cases {
            let got = classify(dialect, status, &HeaderMap::new(), body.as_bytes(), ctx());
            assert_eq!(got.class, class, "{} {status} {body}", dialect.provider);
            assert_eq!(got.message, message, "{} {status} {body}", dialect.provider);
            assert_eq!(got.fields, fields, "{} {status} {body}", dialect.provider);
        }
    }

    #[test]
    fn unauthorized_names_the_credential_source() {
        for (dialect, status, body) in [
            (
                dialect::Vultr,
                401,
                r#"{"error":"Invalid API token.","status":401}"#,
            ),
            (
                dialect::DigitalOcean,
                401,
                r#"{"id":"unauthorized","message":"Unable to authenticate you"}"#,
            ),
            (
                dialect::Linode,
                401,
                r#"{"errors":[{"reason":"Invalid Token"}]}"#,
            ),
            (
                dialect::DigitalOcean,
                403,
                r#"{"id":"forbidden","message":"You do not have access"}"#,
            ),
        ] {
            let got = classify(dialect, status, &HeaderMap::new(), body.as_bytes(), ctx());
            assert_eq!(got.class, ErrorClass::Unauthorized);
            assert!(
                got.message.starts_with(&format!("the token in {SOURCE} ")),
                "{}",
                got.message
            );
        }
    }

    #[test]
    fn rate_limited_carries_the_wait() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        let got = classify(dialect::Vultr, 429, &h, b"", ctx());
        assert_eq!(got.retry_after, Some(Duration::from_secs(7)));

        let mut h = HeaderMap::new();
        h.insert("ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("ratelimit-reset", HeaderValue::from_static("1700000030"));
        let body = br#"{"id":"too_many_requests","message":"API rate limit exceeded."}"#;
        let got = classify(dialect::DigitalOcean, 429, &h, body, ctx());
        assert_eq!(got.class, ErrorClass::RateLimited);
        assert_eq!(got.retry_after, Some(Duration::from_secs(30)));

        // Cloudflare: `Retry-After` first, else the structured field's `t` once `r` is 0.
        let mut h = HeaderMap::new();
        h.insert(
            "ratelimit",
            HeaderValue::from_static("\"default\";r=0;t=42"),
        );
        let body = br#"{"success":false,"errors":[{"code":971,"message":"Please wait and consider throttling your request speed"}],"messages":[],"result":null}"#;
        let got = classify(dialect::Cloudflare, 429, &h, body, ctx());
        assert_eq!(got.class, ErrorClass::RateLimited);
        assert_eq!(got.retry_after, Some(Duration::from_secs(42)));
        h.insert("retry-after", HeaderValue::from_static("5"));
        let got = classify(dialect::Cloudflare, 429, &h, body, ctx());
        assert_eq!(got.retry_after, Some(Duration::from_secs(5)));
    }

    #[test]
    fn linode_maintenance_is_not_retried() {
        let mut h = HeaderMap::new();
        h.insert("x-maintenance-mode", HeaderValue::from_static("all"));
        let got = classify(dialect::Linode, 503, &h, b"", ctx());
        assert_eq!(got.class, ErrorClass::Transient);
        assert!(got.no_retry);
        let got = classify(dialect::Linode, 503, &HeaderMap::new(), b"", ctx());
        assert!(!got.no_retry);
    }

    #[test]
    fn error_envelopes_in_success_responses() {
        use dialect::*;
        let cases: Vec<(Dialect, &str, Option<ErrorClass>)> = vec![
            (
                Vultr,
                r#"{"error":"instance not found","status":404}"#,
                Some(ErrorClass::NotFound),
            ),
            (
                Vultr,
                r#"{"error":"Invalid API token."}"#,
                Some(ErrorClass::Unauthorized),
            ),
            (Vultr, r#"{"instances":[],"meta":{"total":0}}"#, None),
            (Vultr, r#"{"error":""}"#, None),
            (
                DigitalOcean,
                r#"{"id":"forbidden","message":"nope"}"#,
                Some(ErrorClass::Unauthorized),
            ),
            // A resource that happens to have `id` and `message` among other fields is not an error.
            (
                DigitalOcean,
                r#"{"id":"abc","message":"hi","droplet":{}}"#,
                None,
            ),
            (
                Linode,
                r#"{"errors":[{"reason":"Linode busy."}]}"#,
                Some(ErrorClass::Conflict),
            ),
            (
                Linode,
                r#"{"errors":[{"field":"label","reason":"too long"}]}"#,
                Some(ErrorClass::Invalid),
            ),
            (Linode, r#"{"errors":[]}"#, None),
            (
                Linode,
                r#"{"data":[],"page":1,"pages":1,"results":0}"#,
                None,
            ),
            (
                Linode,
                r#"{"errors":[{"reason":"something odd"}]}"#,
                Some(ErrorClass::Transient),
            ),
            (
                Cloudflare,
                r#"{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[],"result":null}"#,
                Some(ErrorClass::Unauthorized),
            ),
            (
                Cloudflare,
                r#"{"success":true,"errors":[],"messages":[],"result":[],"result_info":{"page":1,"per_page":50,"count":0,"total_count":0,"total_pages":0}}"#,
                None,
            ),
        ];
        for (dialect, body, want) in cases {
            let v: Value = serde_json::from_str(body).expect("valid test JSON");
            let got = envelope_error(dialect.errors, &v, ctx()).map(|c| c.class);
            assert_eq!(got, want, "{} {body}", dialect.provider);
        }
    }

    #[test]
    fn long_messages_are_cut() {
        let long = "x".repeat(2000);
        let body = serde_json::json!({ "error": long }).to_string();
        let got = classify(
            dialect::Vultr,
            400,
            &HeaderMap::new(),
            body.as_bytes(),
            ctx(),
        );
        assert!(got.message.chars().count() < 600);
    }
}
