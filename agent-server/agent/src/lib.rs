//! `berth-agent`: the engine that runs inside every Berth sandbox.
//!
//! - [`llm`]: OpenAI-compatible and Anthropic clients with retries, streaming and metrics;
//! - [`tools`]: `terminal`, `file_editor`, `task_tracker`, `think`, `finish`, `glob`, `grep`;
//! - [`secrets`]: the secret registry and masking.
//!
//! Events, actions and observations are the wire types of `berth-protocol`, so what the engine
//! emits is what OpenHands' agent-server emits.

pub mod agent_env;
pub mod condenser;
pub mod conversation;
pub mod llm;
pub mod mcp;
pub mod prompt;
pub mod secrets;
pub mod skills;
pub mod tools;
pub mod untrusted;
pub mod view;

pub use conversation::{Conversation, ConversationError, EngineOptions, NewConversation, Sealer};
