mod agent_loop;
mod agent_safety;
mod end_to_end;
mod file_editor;
mod search;
mod terminal;
