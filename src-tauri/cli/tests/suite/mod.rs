mod cli;
mod crash;
mod secrets_leak;
