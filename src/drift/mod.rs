//! Drift: prod-versus-dev comparisons (`[[compare]]`) and night-over-night
//! comparisons of two runs.

pub mod docs;
