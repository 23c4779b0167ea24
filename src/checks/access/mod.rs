//! Access analysis: may each execution role do what its application needs,
//! and may the Managed Flink service principals use the app's customer
//! managed key? Decided locally by the policy engine.

pub mod docs;
pub use docs::{DOC_CMK_SERVICE_ACCESS_DENIED, DOC_EXECUTION_ROLE_ACCESS_DENIED};

use crate::checks::sink::Sink;
use crate::checks::Context;

pub fn check(_ctx: &Context, _sink: &mut Sink) {}
