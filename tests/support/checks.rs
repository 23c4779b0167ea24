//! Soft assertions: every failure is collected and the test fails once at
//! the end, so one run shows every mismatch.

#[derive(Default)]
pub struct Checks(Vec<String>);

impl Checks {
    pub fn check(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.0.push(what.into());
        }
    }

    pub fn eq<T: PartialEq + std::fmt::Debug>(&mut self, got: T, want: T, what: &str) {
        if got != want {
            self.0.push(format!("{what}: got {got:?}, want {want:?}"));
        }
    }

    pub fn finish(self, context: &str) {
        assert!(self.0.is_empty(), "{} failed check(s):\n  {}\n{context}", self.0.len(), self.0.join("\n  "));
    }
}
