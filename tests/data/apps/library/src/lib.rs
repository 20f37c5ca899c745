//! A library, not an application.
