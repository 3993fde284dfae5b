mod cli;
mod crash;
mod mcp;
mod secrets_leak;
