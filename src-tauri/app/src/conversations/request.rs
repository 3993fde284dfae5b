//! What a start request is made of: the confirmation policy a setting means, the git provider
//! whose token may clone a URL, how a repository is named in lists.

use berth_protocol::{ConfirmationPolicy, SecurityRisk};

use crate::settings::ConfirmationMode;
use crate::start::Repository;

pub(super) fn policy(mode: ConfirmationMode) -> ConfirmationPolicy {
    match mode {
        ConfirmationMode::Never => ConfirmationPolicy::NeverConfirm,
        ConfirmationMode::Always => ConfirmationPolicy::AlwaysConfirm,
        ConfirmationMode::Risky => ConfirmationPolicy::ConfirmRisky {
            threshold: SecurityRisk::High,
            confirm_unknown: true,
        },
    }
}

/// The git provider whose token clones a URL.
pub(super) fn provider_of(url: &str) -> Option<&'static str> {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':'])
        .next()?
        .rsplit('@')
        .next()?;
    match host {
        "github.com" => Some("github"),
        "gitlab.com" => Some("gitlab"),
        "bitbucket.org" => Some("bitbucket"),
        _ => None,
    }
}

/// How lists name a repository, and the branch the agent works on.
pub fn describe(r: &Repository) -> (String, Option<String>) {
    match r {
        Repository::LocalFolder { path } => (path.display().to_string(), None),
        Repository::GitUrl {
            url,
            branch,
            new_branch,
            ..
        } => (url.clone(), new_branch.clone().or(branch.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::provider_of;

    #[test]
    fn tokens_go_only_to_their_provider() {
        assert_eq!(provider_of("https://github.com/a/b.git"), Some("github"));
        assert_eq!(provider_of("git@github.com:a/b.git"), Some("github"));
        assert_eq!(provider_of("https://gitlab.com/a/b"), Some("gitlab"));
        assert_eq!(provider_of("https://github.com.evil.example/a"), None);
        assert_eq!(provider_of("file:///tmp/repo"), None);
    }
}
