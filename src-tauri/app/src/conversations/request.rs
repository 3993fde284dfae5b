//! What a start request is made of: the settings, the profile and its key, the secrets and a
//! clone token from the keychain, and the confirmation policy a setting means.

use berth_protocol::{ConfirmationPolicy, LlmConfig, SecurityRisk};

use super::{ConversationError, ConversationService};
use crate::git_remote::GitRemote;
use crate::repository::Repository;
use crate::secrets::SecretKind;
use crate::settings::ConfirmationMode;
use crate::start::StartRequest;

impl ConversationService {
    pub(super) fn request(
        &self,
        repository: Repository,
        task: Option<String>,
        profile: Option<&str>,
        continue_conversation: Option<String>,
    ) -> Result<StartRequest, ConversationError> {
        let inner = &self.inner;
        let settings = inner.settings.load()?;
        let profile = match profile {
            Some(name) => settings
                .llm_profiles
                .iter()
                .find(|p| p.name == name)
                .ok_or_else(|| {
                    ConversationError::Invalid(format!("there is no LLM profile called '{name}'"))
                })?,
            None => settings.active().ok_or(ConversationError::NoModel)?,
        };
        let mut llm = LlmConfig::new(&profile.model);
        llm.base_url = profile.base_url.clone().filter(|u| !u.is_empty());
        llm.api_key = inner.secrets.get(SecretKind::Llm, &profile.name)?;
        let secrets = inner.secrets.custom_values()?;
        let git_token = match &repository {
            Repository::GitUrl { url, .. } => {
                let remote =
                    GitRemote::parse(url).map_err(|e| ConversationError::Invalid(e.to_string()))?;
                match remote.provider() {
                    Some(p) => inner.secrets.get(SecretKind::Provider, p.as_str())?,
                    None => None,
                }
            }
            Repository::LocalFolder { .. } => None,
        };
        // No sandbox knows the LLM key or the token, so the app masks them in what the agent
        // writes; custom secrets the agent-server masks too.
        for value in llm.api_key.iter().chain(git_token.iter()) {
            inner.bridge.mask(value);
        }
        for (_, value, _) in &secrets {
            inner.bridge.mask(value);
        }
        // Without secrets there is nothing to seal, and no keychain is needed.
        let sealing_key = if llm.api_key.is_some() || !secrets.is_empty() {
            Some(inner.secrets.sealing_key()?)
        } else {
            None
        };
        Ok(StartRequest {
            repository,
            task,
            llm,
            llm_profile: Some(profile.name.clone()),
            confirmation_policy: policy(settings.agent.confirmation),
            max_iterations: settings.agent.max_iterations,
            condense_after: settings
                .agent
                .condenser
                .then_some(settings.agent.condenser_max_size),
            setup_timeout: crate::start::DEFAULT_SETUP_TIMEOUT_SECS,
            git_token,
            sealing_key,
            secrets,
            continue_conversation,
            setup_script: Default::default(),
            confinement: settings.sandbox.confinement.clone(),
            git_identity: settings.git.clone(),
            mcp_config: crate::mcp::mcp_config(&settings.mcp_servers),
        })
    }
}

fn policy(mode: ConfirmationMode) -> ConfirmationPolicy {
    match mode {
        ConfirmationMode::Never => ConfirmationPolicy::NeverConfirm,
        ConfirmationMode::Always => ConfirmationPolicy::AlwaysConfirm,
        ConfirmationMode::Risky => ConfirmationPolicy::ConfirmRisky {
            threshold: SecurityRisk::High,
            confirm_unknown: true,
        },
    }
}
