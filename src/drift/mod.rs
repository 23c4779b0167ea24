//! Drift: prod-versus-dev comparisons (`[[compare]]`) and night-over-night
//! comparisons of two runs.

pub mod compare;
pub mod docs;
pub mod nightly;
pub mod normalize;
pub mod policy_diff;
pub mod read_scope;
