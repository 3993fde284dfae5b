//! A git repository's address, parsed once: which host it reaches, and so which provider's token
//! may go with it. A token goes only to the exact host of its provider, over https, as an HTTP
//! header that git is given for that host alone and through its environment — never on the
//! command line, where every local user reads it in `/proc/<pid>/cmdline`.
//!
//! Addresses with a query, a fragment, a user name or password, control characters or an option
//! where a path should be are refused: `https://evil.example?@github.com/x` names
//! `evil.example`, whatever a naive split says. Crate: `url` (WHATWG parsing, as browsers do).

use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitRemoteError {
    #[error("the repository address is empty")]
    Empty,
    #[error(
        "the repository address {0} is not a git URL (https://host/owner/repo, git@host:owner/repo or file://…)"
    )]
    NotAUrl(String),
    #[error("the repository address may not carry {0}; give the plain https://host/owner/repo")]
    Refused(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Https,
    Http,
    Ssh,
    Git,
    File,
}

/// A git provider with an account token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    GitHub,
    GitLab,
    Bitbucket,
}

impl Provider {
    /// The name its token is stored under.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GitHub => "github",
            Self::GitLab => "gitlab",
            Self::Bitbucket => "bitbucket",
        }
    }

    fn of_host(host: &str) -> Option<Self> {
        match host {
            "github.com" => Some(Self::GitHub),
            "gitlab.com" => Some(Self::GitLab),
            "bitbucket.org" => Some(Self::Bitbucket),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitRemote {
    pub url: String,
    pub transport: Transport,
    /// Lower-case; empty for `file://`.
    pub host: String,
}

impl GitRemote {
    pub fn parse(text: &str) -> Result<Self, GitRemoteError> {
        if text.chars().any(char::is_control) {
            return Err(GitRemoteError::Refused("control characters"));
        }
        let text = text.trim();
        if text.is_empty() {
            return Err(GitRemoteError::Empty);
        }
        if text.starts_with('-') {
            return Err(GitRemoteError::Refused("a leading '-'"));
        }
        if !text.contains("://") {
            return scp_like(text);
        }
        let url = Url::parse(text).map_err(|_| GitRemoteError::NotAUrl(text.to_string()))?;
        let transport = match url.scheme() {
            "https" => Transport::Https,
            "http" => Transport::Http,
            "ssh" | "git+ssh" => Transport::Ssh,
            "git" => Transport::Git,
            "file" => Transport::File,
            _ => return Err(GitRemoteError::NotAUrl(text.to_string())),
        };
        if url.query().is_some() {
            return Err(GitRemoteError::Refused("a query ('?…')"));
        }
        if url.fragment().is_some() {
            return Err(GitRemoteError::Refused("a fragment ('#…')"));
        }
        if url.password().is_some() {
            return Err(GitRemoteError::Refused("a password"));
        }
        // ssh needs a user (git@…); over http a user name is a credential.
        if !url.username().is_empty() && !matches!(transport, Transport::Ssh) {
            return Err(GitRemoteError::Refused("a user name"));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if host.is_empty() && transport != Transport::File {
            return Err(GitRemoteError::NotAUrl(text.to_string()));
        }
        Ok(Self {
            url: text.to_string(),
            transport,
            host,
        })
    }

    /// The provider whose token may go with this address: its exact host, over https.
    pub fn provider(&self) -> Option<Provider> {
        (self.transport == Transport::Https)
            .then(|| Provider::of_host(&self.host))
            .flatten()
    }

    /// Git configuration, as `GIT_CONFIG_COUNT`/`KEY_n`/`VALUE_n` variables, that sends `token` as
    /// an HTTP header to this address's host only; nothing when no provider's token fits.
    pub fn token_env(&self, token: &str) -> Vec<(String, String)> {
        if self.provider().is_none() || token.is_empty() {
            return Vec::new();
        }
        vec![
            ("GIT_CONFIG_COUNT".into(), "1".into()),
            (
                "GIT_CONFIG_KEY_0".into(),
                format!("http.https://{}/.extraHeader", self.host),
            ),
            (
                "GIT_CONFIG_VALUE_0".into(),
                format!("Authorization: Basic {}", basic_auth(token)),
            ),
        ]
    }
}

/// The header value's credentials: `x-access-token:<token>`, as GitHub and GitLab take it.
pub fn basic_auth(token: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"))
}

/// `user@host:path`, git's scp-like ssh form (with its user, so `javascript:x` is not one).
fn scp_like(text: &str) -> Result<GitRemote, GitRemoteError> {
    let not_a_url = || GitRemoteError::NotAUrl(text.to_string());
    let (user_host, path) = text.split_once(':').ok_or_else(not_a_url)?;
    let (user, host) = user_host.rsplit_once('@').ok_or_else(not_a_url)?;
    if user.is_empty() {
        return Err(not_a_url());
    }
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !host.starts_with('-');
    if !host_ok || path.is_empty() || path.starts_with('-') || path.starts_with("//") {
        return Err(not_a_url());
    }
    Ok(GitRemote {
        url: text.to_string(),
        transport: Transport::Ssh,
        host: host.to_ascii_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(url: &str) -> Option<Provider> {
        GitRemote::parse(url).ok().and_then(|r| r.provider())
    }

    #[test]
    fn tokens_go_only_to_their_providers_exact_host_over_https() {
        assert_eq!(
            provider("https://github.com/a/b.git"),
            Some(Provider::GitHub)
        );
        assert_eq!(provider("https://GitHub.com/a/b"), Some(Provider::GitHub));
        assert_eq!(provider("https://gitlab.com/a/b"), Some(Provider::GitLab));
        assert_eq!(provider("https://github.com.evil.example/a"), None);
        assert_eq!(provider("https://evil.example/github.com/a"), None);
        assert_eq!(provider("http://github.com/a/b"), None);
        assert_eq!(provider("git@github.com:a/b.git"), None);
        assert_eq!(provider("file:///tmp/repo"), None);
    }

    #[test]
    fn addresses_that_hide_their_host_are_refused() {
        for url in [
            "https://evil.example?@github.com/x",
            "https://evil.example#@github.com/x",
            "https://github.com/x?y=1",
            "https://user@github.com/x",
            "https://x-access-token:t@github.com/x",
            "https://github.com/x\n",
            "--upload-pack=touch /tmp/x",
            "git@-oProxyCommand=x:y",
            "git@github.com:-x",
            "javascript:alert(1)",
            "https://",
        ] {
            assert!(GitRemote::parse(url).is_err(), "{url:?} was accepted");
        }
        let ok = GitRemote::parse("git@gitlab.example.org:team/app.git");
        assert_eq!(ok.map(|r| r.host), Ok("gitlab.example.org".to_string()));
    }

    #[test]
    fn the_token_header_is_scoped_to_the_host() {
        let remote = GitRemote::parse("https://github.com/a/b").unwrap();
        let env = remote.token_env("ghp_x");
        assert!(env.contains(&(
            "GIT_CONFIG_KEY_0".into(),
            "http.https://github.com/.extraHeader".into()
        )));
        let other = GitRemote::parse("https://example.org/a").unwrap();
        assert!(other.token_env("ghp_x").is_empty());
    }
}
