//! The full-screen console: an Elm-style loop of `Action` -> `update` ->
//! `Effect`, drawn by pure view functions. See `runtime` for the loop.

pub mod action;
pub mod ascii;
pub mod clipboard;
pub mod effect;
pub mod input;
pub mod keymap;
pub mod model;
pub mod palette;
pub mod quiet;
pub mod runtime;
pub mod silence;
pub mod tab;
pub mod tabs;
pub mod terminal;
pub mod update;
pub mod view;

pub use action::Action;
pub use effect::Effect;
pub use model::Model;
pub use update::update;
