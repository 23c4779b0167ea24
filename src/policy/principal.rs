//! Request principals and `Principal` / `NotPrincipal` matching.
//!
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html>,
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html>

use super::document::{PrincipalBlock, PrincipalType};

/// Who makes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestPrincipal {
    /// An unauthenticated (anonymous) caller.
    Anonymous,
    /// An AWS service principal such as `kinesisanalytics.amazonaws.com`.
    Service(String),
    /// `arn:aws:iam::ACCOUNT:root`.
    Root { arn: String, account: String },
    /// `arn:aws:iam::ACCOUNT:user/...`.
    User { arn: String, account: String },
    /// `arn:aws:iam::ACCOUNT:role/path/NAME`.
    Role { arn: String, account: String, name: String },
    /// `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`.
    AssumedRole { arn: String, account: String, role_name: String },
    /// `arn:aws:sts::ACCOUNT:federated-user/NAME`.
    FederatedUser { arn: String, account: String, name: String },
    /// Anything else (an identity-provider subject, a canonical user id...).
    Other { value: String, account: Option<String> },
}

impl RequestPrincipal {
    /// Classify a principal string (`None` = anonymous).
    pub fn parse(p: Option<&str>) -> RequestPrincipal {
        let Some(p) = p else {
            return RequestPrincipal::Anonymous;
        };
        let parts: Vec<&str> = p.splitn(6, ':').collect();
        if parts.len() == 6 && parts[0] == "arn" {
            let account = parts[4].to_string();
            let res = parts[5];
            let arn = p.to_string();
            match parts[2] {
                "iam" if res == "root" => return RequestPrincipal::Root { arn, account },
                "iam" if res.starts_with("user/") => return RequestPrincipal::User { arn, account },
                "iam" if res.starts_with("role/") => {
                    let name = res.rsplit('/').next().unwrap_or_default().to_string();
                    return RequestPrincipal::Role { arn, account, name };
                }
                "sts" if res.starts_with("assumed-role/") => {
                    let role_name = res.split('/').nth(1).unwrap_or_default().to_string();
                    return RequestPrincipal::AssumedRole { arn, account, role_name };
                }
                "sts" if res.starts_with("federated-user/") => {
                    let name = res["federated-user/".len()..].to_string();
                    return RequestPrincipal::FederatedUser { arn, account, name };
                }
                _ => return RequestPrincipal::Other { value: arn, account: Some(account) },
            }
        }
        if !p.contains(':') && p.ends_with(".amazonaws.com") || p.ends_with(".amazonaws.com.cn") {
            return RequestPrincipal::Service(p.to_string());
        }
        RequestPrincipal::Other { value: p.to_string(), account: None }
    }

    /// The principal's account, when it has one.
    pub fn account(&self) -> Option<&str> {
        match self {
            RequestPrincipal::Root { account, .. }
            | RequestPrincipal::User { account, .. }
            | RequestPrincipal::Role { account, .. }
            | RequestPrincipal::AssumedRole { account, .. }
            | RequestPrincipal::FederatedUser { account, .. } => Some(account),
            RequestPrincipal::Other { account, .. } => account.as_deref(),
            RequestPrincipal::Anonymous | RequestPrincipal::Service(_) => None,
        }
    }

    /// The principal as a string (`"anonymous"` for anonymous callers).
    pub fn as_str(&self) -> &str {
        match self {
            RequestPrincipal::Anonymous => "anonymous",
            RequestPrincipal::Service(s) => s,
            RequestPrincipal::Root { arn, .. }
            | RequestPrincipal::User { arn, .. }
            | RequestPrincipal::Role { arn, .. }
            | RequestPrincipal::AssumedRole { arn, .. }
            | RequestPrincipal::FederatedUser { arn, .. } => arn,
            RequestPrincipal::Other { value, .. } => value,
        }
    }

    /// True for IAM principals of an account (users, roles, sessions, root):
    /// those SCPs and identity policies govern.
    pub fn is_iam(&self) -> bool {
        !matches!(self, RequestPrincipal::Anonymous | RequestPrincipal::Service(_) | RequestPrincipal::Other { account: None, .. })
    }
}

/// How a `Principal` element names the request's principal, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalMatch {
    /// Not named.
    None,
    /// The principal's account is named (`"123456789012"` or `:root`):
    /// access is delegated to the account's own IAM policies.
    Account,
    /// The role (or IAM user) behind a session is named, not the session itself.
    Session,
    /// Named exactly, or by `"*"`.
    Exact,
}

/// Match one entry of a `Principal` element.
fn entry_match(t: PrincipalType, v: &str, rp: &RequestPrincipal) -> PrincipalMatch {
    if t == PrincipalType::Aws && v == "*" {
        return PrincipalMatch::Exact;
    }
    match t {
        PrincipalType::Service => match rp {
            RequestPrincipal::Service(s) if s == v => PrincipalMatch::Exact,
            _ => PrincipalMatch::None,
        },
        PrincipalType::Federated | PrincipalType::CanonicalUser => {
            if !matches!(rp, RequestPrincipal::Anonymous) && rp.as_str() == v {
                PrincipalMatch::Exact
            } else {
                PrincipalMatch::None
            }
        }
        PrincipalType::Aws => aws_entry_match(v, rp),
    }
}

fn aws_entry_match(v: &str, rp: &RequestPrincipal) -> PrincipalMatch {
    let Some(req_account) = rp.account() else {
        return PrincipalMatch::None;
    };
    // A bare account id, or the account's root ARN, names the account.
    let named_account = if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
        Some(v)
    } else {
        v.strip_prefix("arn:").and_then(|rest| {
            let p: Vec<&str> = rest.splitn(5, ':').collect();
            (p.len() == 5 && p[1] == "iam" && p[4] == "root").then_some(p[3])
        })
    };
    if let Some(acct) = named_account {
        if acct == req_account {
            return if matches!(rp, RequestPrincipal::Root { .. }) { PrincipalMatch::Exact } else { PrincipalMatch::Account };
        }
        return PrincipalMatch::None;
    }
    if v == rp.as_str() {
        return PrincipalMatch::Exact;
    }
    let p: Vec<&str> = v.splitn(6, ':').collect();
    if p.len() != 6 || p[4] != req_account {
        return PrincipalMatch::None;
    }
    match rp {
        // The role behind a role session.
        RequestPrincipal::AssumedRole { role_name, .. } if p[2] == "iam" && p[5].starts_with("role/") => {
            if p[5].rsplit('/').next() == Some(role_name.as_str()) {
                PrincipalMatch::Session
            } else {
                PrincipalMatch::None
            }
        }
        // The IAM user behind a federated-user session.
        RequestPrincipal::FederatedUser { name, .. } if p[2] == "iam" && p[5].starts_with("user/") => {
            if p[5].rsplit('/').next() == Some(name.as_str()) {
                PrincipalMatch::Session
            } else {
                PrincipalMatch::None
            }
        }
        _ => PrincipalMatch::None,
    }
}

/// How a `Principal`/`NotPrincipal` block applies to the request.
///
/// For `Principal`: the strongest match among its entries. For
/// `NotPrincipal`: [`PrincipalMatch::Exact`] when *no* entry names the
/// principal in any way (a session whose role or account is listed counts as
/// named, as AWS requires listing those for sessions), else `None`.
pub fn block_match(block: &PrincipalBlock, rp: &RequestPrincipal) -> (PrincipalMatch, Option<usize>) {
    let mut best = PrincipalMatch::None;
    let mut best_idx = None;
    for (i, (t, v)) in block.entries.iter().enumerate() {
        let m = entry_match(*t, v, rp);
        if m > best {
            best = m;
            best_idx = Some(i);
        }
    }
    if block.negated {
        if best == PrincipalMatch::None {
            (PrincipalMatch::Exact, None)
        } else {
            (PrincipalMatch::None, best_idx)
        }
    } else {
        (best, best_idx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(neg: bool, e: &[(PrincipalType, &str)]) -> PrincipalBlock {
        PrincipalBlock { negated: neg, entries: e.iter().map(|(t, v)| (*t, v.to_string())).collect() }
    }

    // AWS: an account principal (id or :root ARN) delegates to the account;
    // a role ARN in a resource policy covers that role's sessions; "*" is everyone.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    #[test]
    fn principal_kinds() {
        let session = RequestPrincipal::parse(Some("arn:aws:sts::111111111111:assumed-role/app/s1"));
        let role = block(false, &[(PrincipalType::Aws, "arn:aws:iam::111111111111:role/path/app")]);
        assert_eq!(block_match(&role, &session).0, PrincipalMatch::Session);
        let acct = block(false, &[(PrincipalType::Aws, "111111111111")]);
        assert_eq!(block_match(&acct, &session).0, PrincipalMatch::Account);
        let root = block(false, &[(PrincipalType::Aws, "arn:aws:iam::111111111111:root")]);
        assert_eq!(block_match(&root, &session).0, PrincipalMatch::Account);
        let other = block(false, &[(PrincipalType::Aws, "arn:aws:iam::222222222222:root")]);
        assert_eq!(block_match(&other, &session).0, PrincipalMatch::None);
        let star = block(false, &[(PrincipalType::Aws, "*")]);
        assert_eq!(block_match(&star, &RequestPrincipal::Anonymous).0, PrincipalMatch::Exact);
        let svc = block(false, &[(PrincipalType::Service, "kinesisanalytics.amazonaws.com")]);
        assert_eq!(block_match(&svc, &RequestPrincipal::parse(Some("kinesisanalytics.amazonaws.com"))).0, PrincipalMatch::Exact);
        assert_eq!(block_match(&svc, &session).0, PrincipalMatch::None);
    }

    // AWS: NotPrincipal matches every principal except the ones listed;
    // for sessions, listing the role or account excludes the session too.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
    #[test]
    fn not_principal() {
        let user = RequestPrincipal::parse(Some("arn:aws:iam::111111111111:user/alice"));
        let np = block(true, &[(PrincipalType::Aws, "arn:aws:iam::111111111111:user/bob")]);
        assert_eq!(block_match(&np, &user).0, PrincipalMatch::Exact);
        let np_alice = block(true, &[(PrincipalType::Aws, "arn:aws:iam::111111111111:user/alice")]);
        assert_eq!(block_match(&np_alice, &user).0, PrincipalMatch::None);
        let np_star = block(true, &[(PrincipalType::Aws, "*")]);
        assert_eq!(block_match(&np_star, &RequestPrincipal::Anonymous).0, PrincipalMatch::None);
        assert_eq!(block_match(&np, &RequestPrincipal::Anonymous).0, PrincipalMatch::Exact);
    }

    #[test]
    fn parse_kinds() {
        assert!(matches!(RequestPrincipal::parse(Some("arn:aws:iam::1:role/a/b")), RequestPrincipal::Role { ref name, .. } if name == "b"));
        assert!(matches!(RequestPrincipal::parse(Some("lambda.amazonaws.com")), RequestPrincipal::Service(_)));
        assert_eq!(RequestPrincipal::parse(None), RequestPrincipal::Anonymous);
        assert_eq!(RequestPrincipal::parse(Some("arn:aws:iam::123:user/x")).account(), Some("123"));
        assert!(matches!(RequestPrincipal::parse(Some("garbage")), RequestPrincipal::Other { .. }));
    }
}
