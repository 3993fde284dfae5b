//! `berth://` links, parsed into a typed action. A link only ever opens or prefills: starting an
//! agent always waits for the user's click. Anything unexpected is refused with the reason —
//! other schemes or hosts, scripts or local files smuggled in as a repository, control
//! characters, oversized parameters.
//!
//! - `berth://conversation/<id>` opens a conversation;
//! - `berth://new?repo=<git URL or absolute folder>&task=<text>` prefills a new conversation;
//! - `berth://new?issue=https://github.com/<owner>/<repo>/issues/<n>` and the short form
//!   `berth://github.com/<owner>/<repo>/issues/<n>` prefill one for a GitHub issue.
//!
//! Crate: `url` (the WHATWG URL parser, already under reqwest) for the parsing and decoding.

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use url::Url;

use crate::git_remote::{GitRemote, GitRemoteError, Transport};

use crate::repository::Repository;

/// Links longer than this are refused outright.
pub const MAX_LINK: usize = 8 * 1024;
/// A task text from a link; longer is refused (the user can type more in the app).
pub const MAX_TASK: usize = 4000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DeepLink {
    OpenConversation {
        id: String,
    },
    /// Shown in the new-conversation form; nothing starts until the user clicks Start.
    Prefill {
        repository: Option<Repository>,
        task: Option<String>,
        /// The issue it comes from, to show the user where the link came from.
        issue: Option<GithubIssue>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct GithubIssue {
    pub owner: String,
    pub repo: String,
    #[ts(as = "f64")]
    pub number: u64,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeepLinkError {
    #[error("the link is longer than {MAX_LINK} characters")]
    TooLong,
    #[error("not a Berth link (it must start with berth://)")]
    NotBerth,
    #[error("the link cannot be read: {0}")]
    Malformed(String),
    #[error("Berth links do not go to '{0}'")]
    UnknownTarget(String),
    #[error("the link's {0} is not acceptable: {1}")]
    Refused(&'static str, String),
}

pub fn parse(link: &str) -> Result<DeepLink, DeepLinkError> {
    if link.len() > MAX_LINK {
        return Err(DeepLinkError::TooLong);
    }
    if link.chars().any(char::is_control) {
        return Err(DeepLinkError::Refused(
            "text",
            "it holds control characters".into(),
        ));
    }
    let url = Url::parse(link).map_err(|e| DeepLinkError::Malformed(e.to_string()))?;
    if url.scheme() != "berth" {
        return Err(DeepLinkError::NotBerth);
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    match host.as_str() {
        "conversation" => match segments.as_slice() {
            [id] if uuid::Uuid::parse_str(id).is_ok() => Ok(DeepLink::OpenConversation {
                id: (*id).to_string(),
            }),
            _ => Err(DeepLinkError::Refused(
                "conversation id",
                "it is not a conversation id".into(),
            )),
        },
        "new" => {
            let mut repository = None;
            let mut task = None;
            let mut issue = None;
            for (key, value) in url.query_pairs() {
                match key.as_ref() {
                    "repo" => repository = Some(repository_of(&value)?),
                    "task" => task = Some(task_of(&value)?),
                    "issue" => issue = Some(issue_of(&value)?),
                    other => {
                        return Err(DeepLinkError::Refused(
                            "parameter",
                            format!("'{other}' is not a Berth link parameter"),
                        ));
                    }
                }
            }
            Ok(match issue {
                Some(i) => for_issue(i, task),
                None => DeepLink::Prefill {
                    repository,
                    task,
                    issue: None,
                },
            })
        }
        "github.com" => {
            if url.query().is_some() || url.fragment().is_some() {
                return Err(DeepLinkError::Refused(
                    "issue",
                    "a GitHub issue link has no query".into(),
                ));
            }
            let issue = format!("https://github.com/{}", segments.join("/"));
            Ok(for_issue(issue_of(&issue)?, None))
        }
        other => Err(DeepLinkError::UnknownTarget(other.to_string())),
    }
}

/// Repository and task for an issue: the repository cloned, the agent asked to fix the issue.
fn for_issue(issue: GithubIssue, task: Option<String>) -> DeepLink {
    let task = task.unwrap_or_else(|| {
        format!(
            "Fix GitHub issue #{} of {}/{}: {}\nRead the issue first, then make the change and run the tests.",
            issue.number, issue.owner, issue.repo, issue.url
        )
    });
    DeepLink::Prefill {
        repository: Some(Repository::GitUrl {
            url: format!("https://github.com/{}/{}.git", issue.owner, issue.repo),
            branch: None,
            new_branch: Some(format!("berth/issue-{}", issue.number)),
            full_clone: false,
        }),
        task: Some(task),
        issue: Some(issue),
    }
}

fn task_of(value: &str) -> Result<String, DeepLinkError> {
    if value.chars().count() > MAX_TASK {
        return Err(DeepLinkError::Refused(
            "task",
            format!("it is longer than {MAX_TASK} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(DeepLinkError::Refused(
            "task",
            "it holds control characters".into(),
        ));
    }
    Ok(value.trim().to_string())
}

fn repository_of(value: &str) -> Result<Repository, DeepLinkError> {
    let refuse = |why: &str| Err(DeepLinkError::Refused("repository", why.to_string()));
    if value.len() > 2000 {
        return refuse("it is too long");
    }
    let repository = match Repository::parse(value) {
        Ok(r) => r,
        Err(GitRemoteError::Refused(what)) => {
            return refuse(&format!("a link may not carry {what}"));
        }
        Err(_) => return refuse("it is neither a git URL nor an absolute folder"),
    };
    match &repository {
        Repository::LocalFolder { path } => {
            if !value.starts_with('/') {
                return refuse("it is neither a git URL nor an absolute folder");
            }
            if value.split('/').any(|p| p == "..") {
                return refuse("a folder path may not climb with '..'");
            }
            // No Berth home to compare with here; the start checks it again with one.
            if let Err(e) = crate::workspace_folder::check(path, Path::new("/nonexistent")) {
                return refuse(e.why);
            }
        }
        Repository::GitUrl { url, .. } => {
            let transport = GitRemote::parse(url).map(|r| r.transport);
            if !matches!(transport, Ok(Transport::Https | Transport::Ssh)) {
                return refuse("only https:// and git@ repositories open from a link");
            }
        }
    }
    Ok(repository)
}

fn issue_of(value: &str) -> Result<GithubIssue, DeepLinkError> {
    let refuse = || {
        Err(DeepLinkError::Refused(
            "issue",
            "expected https://github.com/<owner>/<repo>/issues/<number>".into(),
        ))
    };
    let Ok(u) = Url::parse(value) else {
        return refuse();
    };
    if u.scheme() != "https" || u.host_str() != Some("github.com") || u.port().is_some() {
        return refuse();
    }
    let parts: Vec<&str> = u
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match parts.as_slice() {
        [owner, repo, "issues", n] if name_ok(owner) && name_ok(repo) => match n.parse::<u64>() {
            Ok(number) if number > 0 => Ok(GithubIssue {
                owner: (*owner).into(),
                repo: (*repo).into(),
                number,
                url: format!("https://github.com/{owner}/{repo}/issues/{number}"),
            }),
            _ => refuse(),
        },
        _ => refuse(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git_url(url: &str) -> Repository {
        Repository::GitUrl {
            url: url.to_string(),
            branch: None,
            new_branch: None,
            full_clone: false,
        }
    }

    fn prefill(link: &str) -> (Option<Repository>, Option<String>, Option<GithubIssue>) {
        match parse(link) {
            Ok(DeepLink::Prefill {
                repository,
                task,
                issue,
            }) => (repository, task, issue),
            other => panic!("{link}: {other:?}"),
        }
    }

    #[test]
    fn conversation_links_open_a_conversation() {
        assert_eq!(
            parse("berth://conversation/2f7c1d0e-5b6a-4c3d-9e8f-0a1b2c3d4e5f"),
            Ok(DeepLink::OpenConversation {
                id: "2f7c1d0e-5b6a-4c3d-9e8f-0a1b2c3d4e5f".into()
            })
        );
        assert!(parse("berth://conversation/../../etc/passwd").is_err());
        assert!(parse("berth://conversation/").is_err());
    }

    #[test]
    fn new_links_prefill_and_decode() {
        let (repo, task, issue) = prefill(
            "berth://new?repo=https%3A%2F%2Fgithub.com%2Facme%2Fapp.git&task=Fix%20the%20%22login%22%20bug%0Aplease",
        );
        assert_eq!(repo, Some(git_url("https://github.com/acme/app.git")));
        assert_eq!(task.as_deref(), Some("Fix the \"login\" bug\nplease"));
        assert_eq!(issue, None);
        let (repo, _, _) = prefill("berth://new?repo=/home/ada/src/app");
        assert_eq!(
            repo,
            Some(Repository::LocalFolder {
                path: "/home/ada/src/app".into()
            })
        );
        let (repo, _, _) = prefill("berth://new?repo=git%40github.com%3Aacme%2Fapp.git");
        assert_eq!(repo, Some(git_url("git@github.com:acme/app.git")));
    }

    #[test]
    fn a_github_issue_prefills_its_repository_branch_and_task() {
        for link in [
            "berth://github.com/acme/app/issues/42",
            "berth://new?issue=https%3A%2F%2Fgithub.com%2Facme%2Fapp%2Fissues%2F42",
        ] {
            let (repo, task, issue) = prefill(link);
            assert_eq!(
                repo,
                Some(Repository::GitUrl {
                    url: "https://github.com/acme/app.git".into(),
                    branch: None,
                    new_branch: Some("berth/issue-42".into()),
                    full_clone: false,
                }),
                "{link}"
            );
            assert!(task.is_some_and(|t| t.contains("#42 of acme/app")));
            assert_eq!(issue.map(|i| i.number), Some(42));
        }
    }

    #[test]
    fn dangerous_or_odd_links_are_refused() {
        let refused = [
            "https://github.com/acme/app/issues/1",
            "javascript:alert(1)",
            "berth://evil.example/new",
            "berth://settings?x=1",
            "berth://new?repo=javascript%3Aalert(1)",
            "berth://new?repo=file%3A%2F%2F%2Fetc%2Fpasswd",
            "berth://new?repo=data%3Atext%2Fhtml%2C%3Cscript%3E",
            "berth://new?repo=http%3A%2F%2Fgithub.com%2Facme%2Fapp",
            "berth://new?repo=https%3A%2F%2Fuser%3Atoken%40github.com%2Facme%2Fapp",
            "berth://new?repo=%2Fhome%2F..%2Froot",
            "berth://new?repo=relative%2Fpath",
            "berth://new?repo=git%40github.com%3A--upload-pack%3Dtouch%20x",
            "berth://new?task=hi&run=true",
            "berth://new?task=a%00b",
            "berth://new?issue=https%3A%2F%2Fgithub.com.evil.example%2Fa%2Fb%2Fissues%2F1",
            "berth://new?issue=https%3A%2F%2Fgithub.com%2Fa%2Fb%2Fpull%2F1",
            "berth://github.com/acme/app/issues/0",
            "berth://github.com/acme/app/issues/1?x=%3Cscript%3E",
            "berth://github.com/../app/issues/1",
        ];
        for link in refused {
            assert!(
                parse(link).is_err(),
                "{link} was accepted: {:?}",
                parse(link)
            );
        }
        let long_task = format!("berth://new?task={}", "a".repeat(MAX_TASK + 1));
        assert!(matches!(
            parse(&long_task),
            Err(DeepLinkError::Refused("task", _))
        ));
        let huge = format!("berth://new?task={}", "a".repeat(MAX_LINK));
        assert_eq!(parse(&huge), Err(DeepLinkError::TooLong));
        // HTML in a task is kept as text (the UI shows it as text); it starts nothing.
        let (_, task, _) = prefill("berth://new?task=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
        assert_eq!(task.as_deref(), Some("<script>alert(1)</script>"));
    }

    mod properties {
        //! What any link, however hostile, can and cannot do. Cases: proptest's default (256),
        //! `PROPTEST_CASES` for a longer run.

        use proptest::prelude::*;

        use super::*;

        fn encoded(s: &str) -> String {
            url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
        }

        /// Repository values a hostile page would try: hidden hosts, local paths, odd schemes.
        fn repo_value() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("/".to_string()),
                Just("/etc".to_string()),
                Just("/home/u/../../".to_string()),
                Just("https://evil.example?@github.com/a/b".to_string()),
                Just("https://user:pw@github.com/a/b".to_string()),
                Just("file:///etc/passwd".to_string()),
                Just("git@github.com:-oProxyCommand=x".to_string()),
                "(https|http|ssh|file|ext|git)://[a-z@:.?#%/-]{0,30}",
                "git@[a-z.]{1,12}:[a-z/_-]{1,20}",
                "/[a-z./]{0,30}",
                ".{0,60}",
            ]
        }

        fn link() -> impl Strategy<Value = String> {
            let host = prop_oneof![
                Just("new".to_string()),
                Just("conversation".to_string()),
                Just("github.com".to_string()),
                "[a-zA-Z.]{0,12}",
            ];
            let key = prop_oneof![
                Just("repo".to_string()),
                Just("task".to_string()),
                Just("issue".to_string()),
                "[a-z]{1,6}",
            ];
            let value = prop_oneof![repo_value(), ".{0,80}", Just("x".repeat(5000))];
            (
                host,
                "(/[a-zA-Z0-9%._-]{0,16}){0,4}",
                prop::collection::vec((key, value), 0..4),
            )
                .prop_map(|(host, path, query)| {
                    let q: Vec<String> = query
                        .iter()
                        .map(|(k, v)| format!("{k}={}", encoded(v)))
                        .collect();
                    if q.is_empty() {
                        format!("berth://{host}{path}")
                    } else {
                        format!("berth://{host}{path}?{}", q.join("&"))
                    }
                })
        }

        proptest! {
            #[test]
            fn any_text_is_parsed_or_refused_without_panic(text in ".{0,300}") {
                let _ = parse(&text);
            }

            /// An accepted link only opens a real conversation id or prefills a form whose
            /// task is bounded plain text and whose repository is a safe target.
            #[test]
            fn what_a_link_prefills_is_always_safe(link in link()) {
                match parse(&link) {
                    Err(_) => {}
                    Ok(DeepLink::OpenConversation { id }) => {
                        prop_assert!(uuid::Uuid::parse_str(&id).is_ok());
                    }
                    Ok(DeepLink::Prefill { repository, task, .. }) => {
                        if let Some(task) = task {
                            prop_assert!(task.chars().count() <= MAX_TASK + 200);
                            prop_assert!(!task.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
                        }
                        match repository {
                            None => {}
                            Some(Repository::LocalFolder { path }) => {
                                prop_assert!(path.is_absolute());
                                prop_assert!(!path.components().any(|c| c == std::path::Component::ParentDir));
                                prop_assert!(crate::workspace_folder::check(&path, Path::new("/nonexistent")).is_ok());
                            }
                            Some(Repository::GitUrl { url, .. }) => {
                                let remote = GitRemote::parse(&url);
                                prop_assert!(remote.is_ok(), "{url}");
                                if url.starts_with("https://") {
                                    let u = Url::parse(&url).map_err(|e| TestCaseError::fail(e.to_string()))?;
                                    prop_assert!(u.username().is_empty() && u.password().is_none());
                                    prop_assert!(u.query().is_none() && u.fragment().is_none());
                                }
                            }
                        }
                    }
                }
            }

            /// A task survives the trip through a link as the user wrote it (trimmed).
            #[test]
            fn a_task_round_trips(task in "[^\\p{Cc}]{0,200}(\n[^\\p{Cc}]{0,40}){0,3}") {
                let link = format!("berth://new?task={}", encoded(&task));
                match parse(&link) {
                    Ok(DeepLink::Prefill { task: Some(got), .. }) => prop_assert_eq!(got, task.trim()),
                    other => prop_assert!(false, "{link}: {other:?}"),
                }
            }
        }
    }
}
