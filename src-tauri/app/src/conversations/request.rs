//! What a start request is made of: the confirmation policy a setting means, how a repository
//! is named in lists.

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
