//! Rules on single values of `stackdock.toml` (names, paths, URLs, schedules) and the suggestion
//! helper. Each returns what is wrong, or `None`; the parser decides where to point.
//!
//! Pure string checks only: `user_data_file` is never opened here.

/// Why `name` is not a valid dock name.
pub(crate) fn dock_name_error(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    (!valid).then(|| {
        let fixed: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        if fixed.is_empty() {
            "dock names use lowercase letters, digits and `-`, e.g. `vultr-main`".to_owned()
        } else {
            format!("dock names use lowercase letters, digits and `-`, e.g. `{fixed}`")
        }
    })
}

/// Why `org` is not a valid organisation id (it becomes the first half of every dock id).
pub(crate) fn org_error(org: &str) -> Option<&'static str> {
    if org.is_empty() {
        Some("`org` may not be empty")
    } else if org
        .chars()
        .any(|c| c == '/' || c.is_whitespace() || c.is_control())
    {
        Some(
            "`org` may not contain `/`, spaces or control characters (dock ids are `<org>/<dock>`)",
        )
    } else {
        None
    }
}

/// Why `prefix` cannot prefix a DynamoDB table name.
pub(crate) fn table_prefix_error(prefix: &str) -> Option<&'static str> {
    let valid = (1..=200).contains(&prefix.len())
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    (!valid).then_some(
        "DynamoDB table names use letters, digits, `_`, `-` and `.`; keep the prefix to 1-200 characters",
    )
}

/// Why `expr` is not an EventBridge schedule expression `rate(…)` or `cron(…)`.
pub(crate) fn schedule_error(expr: &str) -> Option<String> {
    if let Some(inner) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let parts: Vec<&str> = inner.split_whitespace().collect();
        let [n, unit] = parts.as_slice() else {
            return Some("`rate(…)` takes a number and a unit, e.g. `rate(15 minutes)`".to_owned());
        };
        let Some(n) = n.parse::<u64>().ok().filter(|n| *n >= 1) else {
            return Some(format!(
                "`{n}` is not a positive whole number, e.g. `rate(15 minutes)`"
            ));
        };
        let units: [&str; 3] = if n == 1 {
            ["minute", "hour", "day"]
        } else {
            ["minutes", "hours", "days"]
        };
        if !units.contains(unit) {
            return Some(format!(
                "the unit of `rate({n} …)` is one of {}",
                units.map(|u| format!("`{u}`")).join(", ")
            ));
        }
        return None;
    }
    if let Some(inner) = expr.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        let fields = inner.split_whitespace().count();
        return (fields != 6).then(|| {
            format!("EventBridge cron expressions have 6 fields (minutes hours day-of-month month day-of-week year), found {fields}, e.g. `cron(0 * * * ? *)`")
        });
    }
    Some("use an EventBridge expression: `rate(15 minutes)` or `cron(0 * * * ? *)`".to_owned())
}

/// What is wrong with an `endpoint`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EndpointError {
    /// Not an http(s) URL with a host.
    NotHttp,
    /// `user:password@host`: a credential inside the URL.
    UserInfo,
}

pub(crate) fn endpoint_error(url: &str) -> Option<EndpointError> {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return Some(EndpointError::NotHttp);
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        Some(EndpointError::UserInfo)
    } else if authority.is_empty()
        || authority.starts_with(':')
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        Some(EndpointError::NotHttp)
    } else {
        None
    }
}

/// Whether `name` is a valid environment variable name.
pub(crate) fn env_var_valid(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why a `user_data_file` path may not be used: it must be relative and stay inside the config's
/// directory, so a checked-in config cannot make the engine read arbitrary files.
pub(crate) fn user_data_path_error(path: &str) -> Option<&'static str> {
    let bytes = path.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if path.is_empty() {
        return Some("the path is empty");
    }
    if path.starts_with(['/', '\\', '~']) || drive {
        return Some("the path is absolute");
    }
    let mut depth = 0usize;
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return Some("the path leaves the config's directory through `..`"),
            },
            _ => depth += 1,
        }
    }
    None
}

/// The candidate closest to `input`, if one is close enough to be what was meant.
pub(crate) fn suggest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = input.to_lowercase().replace('-', "_");
    candidates
        .into_iter()
        .filter_map(|c| {
            let cl = c.to_lowercase().replace('-', "_");
            let distance = strsim::damerau_levenshtein(&lower, &cl);
            let close = distance <= (cl.chars().count() / 3).max(1);
            let contained = lower.len() >= 3 && (cl.contains(&lower) || lower.contains(&cl));
            (close || contained).then_some((distance, c))
        })
        .min()
        .map(|(_, c)| c)
}

/// `did you mean `x`?` when there is a close candidate, else the list of valid ones.
pub(crate) fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
    what: &str,
) -> String {
    match suggest(input, candidates.clone()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => {
            let all: Vec<String> = candidates.into_iter().map(|c| format!("`{c}`")).collect();
            if all.is_empty() {
                format!("there are no {what} here")
            } else {
                format!("{what}: {}", all.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        let cases = [
            ("rate(15 minutes)", true),
            ("rate(1 hour)", true),
            ("rate(1 hours)", false),
            ("rate(0 minutes)", false),
            ("rate(15)", false),
            ("cron(0 * * * ? *)", true),
            ("cron(0 * * *)", false),
            ("every 15 minutes", false),
        ];
        for (expr, valid) in cases {
            assert_eq!(schedule_error(expr).is_none(), valid, "{expr}");
        }
    }

    #[test]
    fn endpoints() {
        let cases = [
            ("https://api.vultr.com/v2", None),
            ("http://127.0.0.1:8080/vultr/v2", None),
            ("ftp://example.com", Some(EndpointError::NotHttp)),
            ("api.vultr.com/v2", Some(EndpointError::NotHttp)),
            ("https://", Some(EndpointError::NotHttp)),
            (
                "https://user:pw@example.com/v2",
                Some(EndpointError::UserInfo),
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(endpoint_error(url), expected, "{url}");
        }
    }

    #[test]
    fn user_data_paths() {
        let cases = [
            ("cloud-init/web.yaml", true),
            ("./a/../b.yaml", true),
            ("/etc/passwd", false),
            ("C:\\x.yaml", false),
            ("~/x.yaml", false),
            ("../secrets.yaml", false),
            ("a/../../b.yaml", false),
            ("", false),
        ];
        for (path, valid) in cases {
            assert_eq!(user_data_path_error(path).is_none(), valid, "{path}");
        }
    }

    #[test]
    fn names() {
        assert!(dock_name_error("vultr-main").is_none());
        assert_eq!(
            dock_name_error("Vultr_Main").as_deref(),
            Some("dock names use lowercase letters, digits and `-`, e.g. `vultr-main`")
        );
        assert!(org_error("acme").is_none());
        assert!(org_error("acme/prod").is_some());
        assert!(table_prefix_error("stackdock").is_none());
        assert!(table_prefix_error("stack dock").is_some());
        assert!(env_var_valid("VULTR_API_KEY"));
        assert!(!env_var_valid("1TOKEN"));
    }

    #[test]
    fn suggestions() {
        let keys = ["region", "plan", "image", "tags"];
        let cases = [
            ("regoin", Some("region")),
            ("Region", Some("region")),
            ("tag", Some("tags")),
            ("zone", None),
        ];
        for (input, expected) in cases {
            assert_eq!(suggest(input, keys), expected, "{input}");
        }
        assert_eq!(
            suggest("volumes", ["servers", "block_volumes"]),
            Some("block_volumes")
        );
        assert_eq!(
            suggest("digital_ocean", ["vultr", "digitalocean", "linode"]),
            Some("digitalocean")
        );
    }
}
