//! Lookups by id and compiled policies, built once per evaluation: checks
//! of 10,000 apps must not scan 5,000 accounts or re-parse the same SCP for
//! every required action.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::inventory::{Account, Inventory, OrgPolicy, OrgPolicyKind, PolicyDoc, ResourcePolicy, Role, Unread};
use crate::policy::{Effect, Policy};

pub struct Index<'a> {
    accounts: HashMap<&'a str, &'a Account>,
    roles: HashMap<&'a str, (&'a Account, &'a Role)>,
    resources: HashMap<&'a str, &'a ResourcePolicy>,
    ou_paths: HashMap<&'a str, &'a str>,
    org_policies: HashMap<&'a str, &'a OrgPolicy>,
    /// SCPs and RCPs, compiled once: every app's decisions go through them.
    /// Keyed by the document's address: the inventory is borrowed for the
    /// index's whole life, so an address names one document. Other documents
    /// serve one app or account and are compiled where they are used, so the
    /// cache does not grow with the fleet.
    compiled: Mutex<HashMap<usize, Result<Arc<Policy>, String>>>,
    /// The Allow-only and Deny-only halves of org policies whose attachment
    /// is unknown (see [`Index::compile_half`]).
    halves: Mutex<HashMap<(usize, Effect), Arc<Policy>>>,
    /// Policy kinds whose policies could not be listed.
    unlisted: HashMap<OrgPolicyKind, &'a Unread>,
    shared_documents: std::collections::HashSet<usize>,
}

impl<'a> Index<'a> {
    pub fn new(inventory: &'a Inventory) -> Self {
        let accounts = inventory.accounts.iter().map(|a| (a.id.as_str(), a)).collect();
        let roles = inventory.accounts.iter().flat_map(|a| a.roles.iter().map(move |r| (r.arn.as_str(), (a, r)))).collect();
        let resources = inventory.accounts.iter().flat_map(|a| a.resources.iter().map(|r| (r.arn.as_str(), r))).collect();
        let (ou_paths, org_policies) = match &inventory.organization {
            Some(org) => (
                org.organizational_units.iter().map(|u| (u.id.as_str(), u.path.as_str())).collect(),
                org.policies.iter().map(|p| (p.id.as_str(), p)).collect(),
            ),
            None => (HashMap::new(), HashMap::new()),
        };
        let shared_documents = inventory
            .organization
            .iter()
            .flat_map(|org| org.policies.iter().map(|p| &p.document as *const PolicyDoc as usize))
            .collect();
        let unlisted = inventory.organization.iter().flat_map(|org| org.policies_unread.iter().map(|(k, u)| (*k, u))).collect();
        Self {
            accounts,
            roles,
            resources,
            ou_paths,
            org_policies,
            compiled: Mutex::new(HashMap::new()),
            halves: Mutex::new(HashMap::new()),
            unlisted,
            shared_documents,
        }
    }

    pub fn account(&self, id: &str) -> Option<&'a Account> {
        self.accounts.get(id).copied()
    }

    /// The account holding the role, and the role.
    pub fn role(&self, arn: &str) -> Option<(&'a Account, &'a Role)> {
        self.roles.get(arn).copied()
    }

    pub fn resource(&self, arn: &str) -> Option<&'a ResourcePolicy> {
        self.resources.get(arn).copied()
    }

    pub fn ou_path(&self, id: &str) -> Option<&'a str> {
        self.ou_paths.get(id).copied()
    }

    pub fn org_policy(&self, id: &str) -> Option<&'a OrgPolicy> {
        self.org_policies.get(id).copied()
    }

    /// Why the policies of `kind` could not be listed, when they could not.
    pub fn unlisted(&self, kind: OrgPolicyKind) -> Option<&'a Unread> {
        self.unlisted.get(&kind).copied()
    }

    /// The compiled document (SCPs and RCPs once per evaluation); the error
    /// says why it does not parse.
    pub fn compile(&self, doc: &'a PolicyDoc) -> Result<Arc<Policy>, String> {
        let key = doc as *const PolicyDoc as usize;
        if !self.shared_documents.contains(&key) {
            return compile(doc);
        }
        if let Some(found) = self.compiled.lock().ok().and_then(|cache| cache.get(&key).cloned()) {
            return found;
        }
        let result = compile(doc);
        if let Ok(mut cache) = self.compiled.lock() {
            cache.insert(key, result.clone());
        }
        result
    }
}

impl<'a> Index<'a> {
    /// `doc` with only its statements of `effect`: what a policy whose
    /// attachment is unknown adds to a decision at most (Allow) and at
    /// least (Deny). Cached: the same few org policies serve every app.
    pub fn compile_half(&self, doc: &'a PolicyDoc, effect: Effect) -> Result<Arc<Policy>, String> {
        let key = (doc as *const PolicyDoc as usize, effect);
        if let Some(found) = self.halves.lock().ok().and_then(|cache| cache.get(&key).cloned()) {
            return Ok(found);
        }
        let whole = self.compile(doc)?;
        let half = Arc::new(Policy {
            version: whole.version.clone(),
            id: whole.id.clone(),
            statements: whole.statements.iter().filter(|s| s.effect == effect).cloned().collect(),
        });
        if let Ok(mut cache) = self.halves.lock() {
            cache.insert(key, half.clone());
        }
        Ok(half)
    }
}

fn compile(doc: &PolicyDoc) -> Result<Arc<Policy>, String> {
    match doc.text() {
        Some(text) => Policy::parse_str(text).map(Arc::new).map_err(|e| e.to_string()),
        None => Err(doc.error.clone().unwrap_or_else(|| "no document".to_owned())),
    }
}
