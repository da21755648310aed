//! Who may call what: which routes this function serves (`STACKDOCK_API_ROUTES`) and which IAM
//! callers may apply (`STACKDOCK_APPLY_CALLERS`), read once at start into [`ApiOptions`].
//!
//! IAM on each Function URL is the first gate (the plan URL's resource policy names the plan
//! callers, the apply URL's the apply callers); these checks are the second, so a caller that may
//! invoke the plan function still cannot apply through it, and an apply function whose resource
//! policy is too wide still applies only for the listed callers.
//!
//! # Guarantees
//! - An unknown `STACKDOCK_API_ROUTES` value or an invalid `STACKDOCK_APPLY_CALLERS` entry fails
//!   the cold start with a message naming it; nothing is served.
//! - Unsigned requests (no IAM caller in the request context) are served only when
//!   `STACKDOCK_API_ROUTES` is unset ([`Routes::All`]): `cargo lambda watch` and local runs. The
//!   SAM template always sets it, so a deployed function refuses them.

use std::fmt;

use stackdock_core::config::LambdaTarget;

use crate::FunctionError;

/// The variable that selects the routes.
pub const ROUTES_VAR: &str = "STACKDOCK_API_ROUTES";
/// The variable that lists the callers allowed to apply.
pub const APPLY_CALLERS_VAR: &str = "STACKDOCK_APPLY_CALLERS";

/// Which routes this function serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routes {
    /// Every route, unsigned requests included: `STACKDOCK_API_ROUTES` unset (local runs only).
    All,
    /// `plan`: GET/POST /v1/plan, GET /v1/runs, /v1/runs/{id}, /v1/inventory, /v1/drift, /v1/health. POST
    /// /v1/apply answers 403 `apply_not_served`.
    Plan,
    /// `apply`: POST /v1/apply, GET /v1/plan, GET /v1/runs/{id}, GET /v1/health.
    Apply,
}

impl Routes {
    /// The routes named by `value` (the variable's value, `None` when unset).
    ///
    /// # Errors
    /// A message naming the value and the valid ones.
    pub fn parse(value: Option<&str>) -> Result<Routes, String> {
        match value.map(str::trim) {
            None => Ok(Routes::All),
            Some("plan") => Ok(Routes::Plan),
            Some("apply") => Ok(Routes::Apply),
            Some(other) => Err(format!(
                "{ROUTES_VAR}={other:?} is not a route set: use `plan` (the plan function) or `apply` (the apply function), or leave it unset for a local run serving every route"
            )),
        }
    }

    /// Whether requests without an IAM caller are served (local runs only).
    pub fn serves_unsigned(self) -> bool {
        self == Routes::All
    }
}

/// The IAM principals allowed to apply: exact ARNs, where a role ARN also admits the role's
/// assumed-role sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyCallers(Vec<Principal>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Principal {
    /// Any ARN other than a role: matched exactly.
    Exact(String),
    /// `arn:<partition>:iam::<account>:role/<path/>Name`: the role itself, and
    /// `arn:<partition>:sts::<account>:assumed-role/Name/<session>`.
    Role {
        arn: String,
        partition: String,
        account: String,
        name: String,
    },
}

impl ApplyCallers {
    /// Parses a comma-separated list (whitespace around entries trimmed, empty entries skipped).
    ///
    /// # Errors
    /// Every invalid entry, with what a valid one looks like.
    pub fn parse(list: &str) -> Result<ApplyCallers, String> {
        let mut principals = Vec::new();
        let mut errors = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match principal(entry) {
                Ok(p) => principals.push(p),
                Err(why) => errors.push(format!("`{entry}`: {why}")),
            }
        }
        if errors.is_empty() {
            Ok(ApplyCallers(principals))
        } else {
            Err(format!(
                "{APPLY_CALLERS_VAR} has invalid entries: {}; give IAM ARNs such as `arn:aws:iam::123456789012:role/deployer` (which also admits its assumed-role sessions) or `arn:aws:iam::123456789012:user/alice`, separated by commas",
                errors.join("; ")
            ))
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `caller` (the IAM ARN from the request context) may apply.
    pub fn allows(&self, caller: &str) -> bool {
        self.0.iter().any(|p| match p {
            Principal::Exact(arn) => arn == caller,
            Principal::Role {
                arn,
                partition,
                account,
                name,
            } => {
                arn == caller
                    || caller
                        .strip_prefix(&format!("arn:{partition}:sts::{account}:assumed-role/"))
                        .and_then(|rest| rest.split_once('/'))
                        .is_some_and(|(role, session)| role == name && !session.is_empty())
            }
        })
    }
}

impl fmt::Display for ApplyCallers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arns: Vec<&str> = self
            .0
            .iter()
            .map(|p| match p {
                Principal::Exact(arn) | Principal::Role { arn, .. } => arn.as_str(),
            })
            .collect();
        f.write_str(&arns.join(","))
    }
}

/// One allow-list entry: an IAM or STS ARN of a user, role or assumed-role session, no wildcards.
fn principal(entry: &str) -> Result<Principal, &'static str> {
    if entry.contains(['*', '?']) || entry.chars().any(char::is_whitespace) {
        return Err("wildcards and spaces are not allowed");
    }
    let parts: Vec<&str> = entry.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return Err("not an ARN (`arn:aws:iam::<account>:role/<name>`)");
    };
    if *arn != "arn" || !partition.starts_with("aws") {
        return Err("not an ARN (`arn:aws:iam::<account>:role/<name>`)");
    }
    if !region.is_empty() {
        return Err("IAM and STS ARNs have no region");
    }
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err("the account must be 12 digits");
    }
    let (kind, rest) = resource.split_once('/').unwrap_or((resource, ""));
    let name = rest.rsplit('/').next().unwrap_or_default();
    match (*service, kind) {
        ("iam", "role") if !name.is_empty() => Ok(Principal::Role {
            arn: entry.to_owned(),
            partition: (*partition).to_owned(),
            account: (*account).to_owned(),
            name: name.to_owned(),
        }),
        ("iam", "user") if !name.is_empty() => Ok(Principal::Exact(entry.to_owned())),
        ("sts", "assumed-role") if rest.split('/').filter(|s| !s.is_empty()).count() == 2 => {
            Ok(Principal::Exact(entry.to_owned()))
        }
        _ => Err(
            "name an IAM role (`…:iam::<account>:role/<name>`), an IAM user (`…:iam::<account>:user/<name>`) or one assumed-role session (`…:sts::<account>:assumed-role/<role>/<session>`)",
        ),
    }
}

/// What the API serves and to whom, fixed at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiOptions {
    pub routes: Routes,
    pub apply_callers: ApplyCallers,
    /// The deployment's trust boundary, which a proposal (`POST /v1/plan`) must hold to as the
    /// deployed config does: a pull request that would be refused at deploy is refused at review,
    /// with its diagnostics. `None` in a local run.
    pub lambda_target: Option<LambdaTarget>,
}

impl ApiOptions {
    /// Every route, unsigned requests served, no apply allow-list: a local run.
    pub fn local() -> ApiOptions {
        ApiOptions {
            routes: Routes::All,
            apply_callers: ApplyCallers::default(),
            lambda_target: None,
        }
    }

    /// The options from the process environment (`STACKDOCK_API_ROUTES`,
    /// `STACKDOCK_APPLY_CALLERS`; when the routes are set, the Lambda target of
    /// [`crate::lambda_target`]).
    ///
    /// # Errors
    /// `FunctionError::Config` naming the bad value: the function does not start.
    pub fn from_env() -> Result<ApiOptions, FunctionError> {
        ApiOptions::from_lookup(|name| std::env::var(name).ok())
    }

    /// The options from `lookup` (a variable's value, `None` when unset).
    ///
    /// # Errors
    /// As [`ApiOptions::from_env`].
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<ApiOptions, FunctionError> {
        let routes =
            Routes::parse(lookup(ROUTES_VAR).as_deref()).map_err(FunctionError::Startup)?;
        let apply_callers = ApplyCallers::parse(&lookup(APPLY_CALLERS_VAR).unwrap_or_default())
            .map_err(FunctionError::Startup)?;
        tracing::info!(routes = ?routes, apply_callers = %apply_callers, "api routes and apply callers");
        if routes == Routes::Apply && apply_callers.is_empty() {
            tracing::warn!(
                "{APPLY_CALLERS_VAR} is empty: every apply will be refused with 403 apply_not_allowed"
            );
        }
        let lambda_target = match routes {
            Routes::All => None,
            Routes::Plan | Routes::Apply => Some(crate::lambda_target(&lookup)?),
        };
        Ok(ApiOptions {
            routes,
            apply_callers,
            lambda_target,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_sets() {
        assert_eq!(Routes::parse(None), Ok(Routes::All));
        assert_eq!(Routes::parse(Some("plan")), Ok(Routes::Plan));
        assert_eq!(Routes::parse(Some(" apply ")), Ok(Routes::Apply));
        let err = Routes::parse(Some("both")).expect_err("unknown");
        assert!(err.contains("\"both\"") && err.contains("`plan`"), "{err}");
        assert!(
            Routes::parse(Some("")).is_err(),
            "set but empty is a mistake"
        );
    }

    #[test]
    fn role_arns_admit_their_sessions_and_other_arns_match_exactly() {
        let callers = ApplyCallers::parse(
            " arn:aws:iam::123456789012:role/deploy/stackdock-apply ,arn:aws:iam::123456789012:user/alice,,\
             arn:aws:sts::123456789012:assumed-role/ops/bob",
        )
        .expect("valid");
        let table = [
            (
                "arn:aws:iam::123456789012:role/deploy/stackdock-apply",
                true,
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/stackdock-apply/gh-run-42",
                true,
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/stackdock-apply/",
                false,
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/stackdock-apply-2/s",
                false,
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/stackdock/apply/s",
                false,
            ),
            (
                "arn:aws:sts::999999999999:assumed-role/stackdock-apply/s",
                false,
            ),
            (
                "arn:aws-cn:sts::123456789012:assumed-role/stackdock-apply/s",
                false,
            ),
            ("arn:aws:iam::123456789012:role/stackdock-apply", false),
            ("arn:aws:iam::123456789012:user/alice", true),
            ("arn:aws:iam::123456789012:user/alice2", false),
            ("arn:aws:sts::123456789012:assumed-role/ops/bob", true),
            ("arn:aws:sts::123456789012:assumed-role/ops/eve", false),
            ("arn:aws:iam::123456789012:role/ops", false),
            ("AROA7ZJZYVRE7C3DUXHH6:session", false),
            ("", false),
        ];
        for (caller, allowed) in table {
            assert_eq!(callers.allows(caller), allowed, "{caller}");
        }
        assert!(
            !ApplyCallers::parse("")
                .expect("empty")
                .allows("arn:aws:iam::123456789012:user/alice")
        );
    }

    #[test]
    fn invalid_entries_fail_at_start() {
        for bad in [
            "arn:aws:iam::123456789012:role/*",
            "arn:aws:iam::*:role/x",
            "arn:aws:iam::12345:role/x",
            "arn:aws:iam:us-east-1:123456789012:role/x",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:group/admins",
            "arn:aws:sts::123456789012:assumed-role/only-role",
            "role/x",
            "alice",
        ] {
            let err = ApplyCallers::parse(&format!("arn:aws:iam::123456789012:user/ok, {bad}"))
                .expect_err(bad);
            assert!(
                err.contains(bad) && err.contains(APPLY_CALLERS_VAR),
                "{err}"
            );
        }
        let err = ApiOptions::from_lookup(|v| (v == ROUTES_VAR).then(|| "apply-only".to_owned()))
            .expect_err("unknown routes");
        assert!(err.to_string().contains(ROUTES_VAR), "{err}");
    }
}
