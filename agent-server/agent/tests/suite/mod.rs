mod agent_loop;
mod agent_safety;
mod end_to_end;
mod file_editor;
mod mcp;
mod search;
mod terminal;
