//! What a start request is made of: the confirmation policy a setting means.

use berth_protocol::{ConfirmationPolicy, SecurityRisk};

use crate::settings::ConfirmationMode;

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
