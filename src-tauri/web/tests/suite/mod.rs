mod browser;
mod web;
