//! Placeholder until filled: see main.rs.
