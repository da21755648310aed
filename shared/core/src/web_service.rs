//! Web services (design.md §3, provider-apis-2.md §12.2): the subtypes `stackdock.toml` may
//! declare, the deploy environments each has, the names each provider accepts, and the canonical
//! form of their environment variables.
//!
//! An environment variable's value is never in the file, a table, a log or a plan: the file names
//! where it comes from (`{ secret = "…" }` or `{ env = "…" }`), and the managed field `env` is the
//! set of `NAME@target` entries (which variables exist in which environment), what a plan compares
//! with the names a provider reports.

/// A kind of web service a file may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subtype {
    /// `subtype = "…"` in the file, and the universal record's `subtype`.
    pub name: &'static str,
    /// What it is, for messages ("a Vercel project").
    pub what: &'static str,
    /// The provider (`provider = "…"` of its dock) that hosts it.
    pub provider: &'static str,
    /// Its deploy environments, the `targets` of an environment variable (all of them when an
    /// entry names none).
    pub targets: &'static [&'static str],
}

/// The subtypes a file may declare.
pub const SUBTYPES: [Subtype; 2] = [
    Subtype {
        name: "project",
        what: "a Vercel project",
        provider: "vercel",
        targets: &["production", "preview", "development"],
    },
    Subtype {
        name: "pages",
        what: "a Cloudflare Pages project",
        provider: "cloudflare",
        targets: &["production", "preview"],
    },
];

/// Subtypes StackDock syncs but never plans, with why.
pub const READ_ONLY_SUBTYPES: [(&str, &str); 1] = [(
    "worker",
    "Cloudflare Workers scripts are synced read-only (reported in the inventory, never planned)",
)];

/// The git hosts a web service's `repo` may live on.
pub const REPO_PROVIDERS: [&str; 2] = ["github", "gitlab"];

pub fn subtype(name: &str) -> Option<&'static Subtype> {
    SUBTYPES.iter().find(|s| s.name == name)
}

/// The `env` entry of variable `name` in environment `target`: `API_URL@production`.
pub fn env_entry(name: &str, target: &str) -> String {
    format!("{name}@{target}")
}

/// Splits an `env` entry into its variable and environment.
pub fn split_env_entry(entry: &str) -> Option<(&str, &str)> {
    entry.rsplit_once('@')
}

/// Why `name` is not a valid name of a `subtype` project (its name at the provider), or `None`.
pub fn name_error(subtype: &Subtype, name: &str) -> Option<String> {
    let len = name.chars().count();
    let only = |ok: fn(char) -> bool| name.chars().all(ok);
    match subtype.name {
        // Cloudflare: the project's `<name>.pages.dev` subdomain.
        "pages" => {
            if len == 0
                || len > 58
                || !only(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                || name.starts_with('-')
                || name.ends_with('-')
            {
                Some("Cloudflare Pages project names are 1 to 58 characters among `a-z`, `0-9` and `-`, not starting or ending with `-`".to_owned())
            } else {
                None
            }
        }
        "project" => {
            if len == 0
                || len > 100
                || !only(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
                })
            {
                Some("Vercel project names are 1 to 100 characters among `a-z`, `0-9`, `.`, `_` and `-`".to_owned())
            } else if name.contains("---") {
                Some("Vercel project names may not contain `---`".to_owned())
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Why `repo` is not an `owner/name` repository path (GitLab: `group/subgroup/name`), or `None`.
pub fn repo_error(repo: &str) -> Option<String> {
    let parts: Vec<&str> = repo.split('/').collect();
    let part_ok = |p: &&str| {
        !p.is_empty()
            && p.len() <= 100
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !matches!(*p, "." | "..")
    };
    if parts.len() < 2 || !parts.iter().all(part_ok) {
        Some("write the repository as `owner/name` (GitLab: `group/subgroup/name`), without the host or `.git`".to_owned())
    } else {
        None
    }
}

/// Why `domain` is not a custom domain a provider can attach (a lowercase host name of at least
/// two labels, no trailing dot, no scheme or path), or `None`.
pub fn domain_error(domain: &str) -> Option<String> {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if domain.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) {
        Some("a custom domain is a lowercase host name such as `www.example.com`: no scheme, path, port or trailing dot".to_owned())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_each_providers_rules() {
        let pages = subtype("pages").expect("pages");
        let project = subtype("project").expect("project");
        assert_eq!(name_error(pages, "marketing-site"), None);
        assert!(name_error(pages, "Marketing").is_some());
        assert!(name_error(pages, "-site").is_some());
        assert!(name_error(pages, &"a".repeat(59)).is_some());
        assert_eq!(name_error(pages, &"a".repeat(58)), None);
        assert_eq!(name_error(project, "my.app_v2-web"), None);
        assert!(name_error(project, "my---app").is_some());
        assert!(name_error(project, "MyApp").is_some());
        assert!(name_error(project, &"a".repeat(101)).is_some());
    }

    #[test]
    fn repos_domains_and_env_entries() {
        assert_eq!(repo_error("acme/site"), None);
        assert_eq!(repo_error("group/sub/site"), None);
        for bad in [
            "acme",
            "https://github.com/acme/site",
            "acme/",
            "acme/../x",
            "a b/c",
        ] {
            assert!(repo_error(bad).is_some(), "{bad}");
        }
        assert_eq!(domain_error("www.example.com"), None);
        for bad in [
            "example",
            "https://example.com",
            "Example.com",
            "example.com.",
            "-a.com",
        ] {
            assert!(domain_error(bad).is_some(), "{bad}");
        }
        let entry = env_entry("API_URL", "preview");
        assert_eq!(entry, "API_URL@preview");
        assert_eq!(split_env_entry(&entry), Some(("API_URL", "preview")));
    }
}
