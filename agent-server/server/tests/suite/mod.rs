mod api;
mod api_robustness;
mod broken_stderr;
mod mcp;
mod oneshot;
mod python_client;
mod socket;
