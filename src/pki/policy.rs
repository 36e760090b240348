//! Certificate policy processing (RFC 5280 §6.1.2 (a), (d)-(f), §6.1.3 (d)-(f), §6.1.4 (a),
//! (b), (h)-(j), §6.1.5 (a), (b), (g)): the valid_policy_tree, explicit policy, policy mapping and
//! inhibit anyPolicy.
//!
//! The tree is kept level by level (depth i = the i-th certificate below the trust anchor). Each
//! node has one parent in the level above. A chain of CAs that each assert many policies and map
//! each to many others makes the tree grow as a product of those counts (the "policy tree
//! explosion" DoS, CVE-2023-0464): every node created is charged to a budget and the validation
//! fails closed when it runs out.

use super::cert::Certificate;
use crate::asn1::{ext_oid::ANY_POLICY, Oid};
use std::sync::Arc;

/// Most policy-tree nodes one path validation may create. The NCA's paths have three levels
/// of one or two policies each (< 10 nodes); PKITS's largest tree has under 30. 4,096 nodes is
/// far above any legitimate path and keeps the worst case at a few hundred microseconds
/// (each node creation is a bounded scan of its level).
pub const MAX_POLICY_NODES: usize = 4_096;

/// Most policy comparisons (OID against OID) one path validation may make. The node budget
/// alone does not bound the scans: a CA with thousands of policies under a level of thousands
/// of nodes that each expect thousands of mapped policies compares without creating nodes.
/// 2,000,000 comparisons are a few milliseconds; PKITS's largest case makes a few hundred.
pub const MAX_POLICY_COMPARISONS: usize = 2_000_000;

/// The initial inputs of RFC 5280 §6.1.1 (c), (e), (f), (g) that concern policies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PolicyInputs {
    /// user-initial-policy-set; empty = {anyPolicy}.
    pub initial_policy_set: Vec<Oid>,
    /// initial-explicit-policy: the path must be valid for at least one policy in the set.
    pub require_explicit_policy: bool,
    /// initial-policy-mapping-inhibit.
    pub inhibit_policy_mapping: bool,
    /// initial-any-policy-inhibit.
    pub inhibit_any_policy: bool,
}

/// Why policy processing refused the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyFailure {
    /// explicit_policy reached 0 with an empty valid_policy_tree (§6.1.3 (f), §6.1.5 (g)).
    NoValidPolicy,
    /// A policy mapping to or from anyPolicy (§6.1.4 (a)), in the certificate at this index
    /// (leaf = 0).
    AnyPolicyMapping(usize),
    /// The tree grew beyond [`MAX_POLICY_NODES`].
    Budget,
}

#[derive(Debug, Clone)]
struct Node {
    policy: Oid,
    /// Index in the level above (None only at depth 0).
    parent: Option<usize>,
    expected: Vec<Oid>,
    /// Deleted (pruned) nodes stay in place so that indices remain valid.
    alive: bool,
}

/// Work done by policy processing, shared by every candidate path of one path search: the
/// budgets bound the search, not each path (a pool of cross-certificates could otherwise
/// multiply them by the number of paths tried).
#[derive(Debug, Default, Clone, Copy)]
pub struct PolicyWork {
    /// Nodes created.
    pub created: usize,
    /// Policy comparisons made.
    pub compared: usize,
}

struct Tree<'w> {
    levels: Vec<Vec<Node>>,
    work: &'w mut PolicyWork,
}

impl Tree<'_> {
    /// Charges `n` comparisons before they are made.
    fn compare(&mut self, n: usize) -> Result<(), PolicyFailure> {
        self.work.compared = self.work.compared.saturating_add(n);
        if self.work.compared > MAX_POLICY_COMPARISONS {
            return Err(PolicyFailure::Budget);
        }
        Ok(())
    }

    fn charge(&mut self) -> Result<(), PolicyFailure> {
        self.work.created += 1;
        if self.work.created > MAX_POLICY_NODES {
            return Err(PolicyFailure::Budget);
        }
        Ok(())
    }

    fn level(&self, d: usize) -> &[Node] {
        self.levels.get(d).map_or(&[], Vec::as_slice)
    }

    fn alive(&self, d: usize) -> impl Iterator<Item = (usize, &Node)> {
        self.level(d).iter().enumerate().filter(|(_, n)| n.alive)
    }

    fn is_null(&self) -> bool {
        !self.level(0).iter().any(|n| n.alive)
    }

    /// Deletes the nodes of depth < `depth` (from `depth - 1` up) that have no live child
    /// (§6.1.3 (d)(3), §6.1.5 (g)(iii)(4)).
    fn prune(&mut self, depth: usize) {
        for d in (0..depth).rev() {
            let mut has_child = vec![false; self.level(d).len()];
            for n in self.level(d + 1).iter().filter(|n| n.alive) {
                if let Some(slot) = n.parent.and_then(|p| has_child.get_mut(p)) {
                    *slot = true;
                }
            }
            if let Some(level) = self.levels.get_mut(d) {
                for (n, keep) in level.iter_mut().zip(has_child) {
                    n.alive &= keep;
                }
            }
        }
    }

    /// Deletes the subtrees below nodes that are no longer alive (a deleted node takes its
    /// children with it).
    fn cascade(&mut self) {
        for d in 1..self.levels.len() {
            let (upper, lower) = self.levels.split_at_mut(d);
            let Some(parents) = upper.last() else {
                continue;
            };
            if let Some(level) = lower.first_mut() {
                for n in level.iter_mut() {
                    let parent_alive = n
                        .parent
                        .and_then(|p| parents.get(p))
                        .is_some_and(|p| p.alive);
                    n.alive &= parent_alive;
                }
            }
        }
    }

    fn push(&mut self, depth: usize, node: Node) -> Result<(), PolicyFailure> {
        self.charge()?;
        while self.levels.len() <= depth {
            self.levels.push(Vec::new());
        }
        if let Some(level) = self.levels.get_mut(depth) {
            level.push(node);
        }
        Ok(())
    }
}

/// Runs policy processing over `path` (leaf first, trust anchor last; the anchor itself is not
/// processed, §6.1.1 (d)). Returns the user-constrained policy set: the valid policies at the
/// leaf's depth, `anyPolicy` when the path is good for any policy; empty when the tree is NULL
/// and no explicit policy was required.
pub fn process(
    path: &[Arc<Certificate>],
    inputs: &PolicyInputs,
) -> Result<Vec<Oid>, PolicyFailure> {
    process_with(path, inputs, &mut PolicyWork::default())
}

/// [`process`], charging its work to `work` (one budget for a whole path search).
pub fn process_with(
    path: &[Arc<Certificate>],
    inputs: &PolicyInputs,
    work: &mut PolicyWork,
) -> Result<Vec<Oid>, PolicyFailure> {
    // Certificates below the anchor, in RFC order: cert 1 is issued by the anchor.
    let certs: Vec<&Certificate> = path.iter().rev().skip(1).map(AsRef::as_ref).collect();
    let n = certs.len();
    let start = |inhibit: bool| if inhibit { 0 } else { n + 1 };
    let mut explicit_policy = start(inputs.require_explicit_policy);
    let mut inhibit_any = start(inputs.inhibit_any_policy);
    let mut policy_mapping = start(inputs.inhibit_policy_mapping);
    let mut tree = Tree {
        levels: vec![vec![Node {
            policy: ANY_POLICY,
            parent: None,
            expected: vec![ANY_POLICY],
            alive: true,
        }]],
        work,
    };
    tree.charge()?;

    for (idx, cert) in certs.iter().enumerate() {
        let i = idx + 1;
        let self_issued = cert.is_self_issued();
        // (d), (e)
        match &cert.ext.policies {
            Some(policies) if !tree.is_null() => {
                let mut children: Vec<Node> = Vec::new();
                let mut charge = 0usize;
                // Every policy is compared with every expected policy of the level above.
                let expected_total: usize = tree.alive(i - 1).map(|(_, n)| n.expected.len()).sum();
                tree.compare(policies.len().saturating_mul(expected_total.max(1)))?;
                for p in policies.iter().filter(|p| **p != ANY_POLICY) {
                    // (d)(1)(i): under every parent that expects P.
                    let mut matched = false;
                    for (pi, parent) in tree.alive(i - 1) {
                        if parent.expected.contains(p) {
                            matched = true;
                            children.push(leaf_node(*p, pi));
                            charge += 1;
                        }
                    }
                    // (d)(1)(ii): otherwise under every anyPolicy parent.
                    if !matched {
                        for (pi, parent) in tree.alive(i - 1) {
                            if parent.policy == ANY_POLICY {
                                children.push(leaf_node(*p, pi));
                                charge += 1;
                            }
                        }
                    }
                    if tree.work.created + charge > MAX_POLICY_NODES {
                        return Err(PolicyFailure::Budget);
                    }
                }
                // (d)(2): anyPolicy stands for every expected policy not yet a child.
                if policies.contains(&ANY_POLICY) && (inhibit_any > 0 || (i < n && self_issued)) {
                    // Each expected policy is looked up among the children made so far.
                    tree.compare(
                        expected_total
                            .saturating_mul(children.len().saturating_add(expected_total)),
                    )?;
                    for (pi, parent) in tree.alive(i - 1) {
                        for e in &parent.expected {
                            let present = children
                                .iter()
                                .any(|c| c.parent == Some(pi) && c.policy == *e);
                            if !present {
                                children.push(leaf_node(*e, pi));
                                charge += 1;
                                if tree.work.created + charge > MAX_POLICY_NODES {
                                    return Err(PolicyFailure::Budget);
                                }
                            }
                        }
                    }
                }
                for c in children {
                    tree.push(i, c)?;
                }
                // (d)(3)
                tree.prune(i);
            }
            _ => {
                // (e): no policies extension, or the tree is already NULL.
                for level in &mut tree.levels {
                    level.iter_mut().for_each(|n| n.alive = false);
                }
            }
        }
        // (f)
        if explicit_policy == 0 && tree.is_null() {
            return Err(PolicyFailure::NoValidPolicy);
        }

        if i == n {
            break;
        }
        // §6.1.4: preparation for certificate i + 1.
        if let Some(maps) = &cert.ext.policy_mappings {
            // (a)
            if maps
                .iter()
                .any(|(a, b)| *a == ANY_POLICY || *b == ANY_POLICY)
            {
                return Err(PolicyFailure::AnyPolicyMapping(n - i));
            }
            // Deduplicating the mappings below is quadratic in their number: charged first.
            tree.compare(maps.len().saturating_mul(maps.len()))?;
            // (b): issuerDomainPolicy values in first-seen order.
            let mut issuer_policies: Vec<Oid> = Vec::new();
            for (a, _) in maps {
                if !issuer_policies.contains(a) {
                    issuer_policies.push(*a);
                }
            }
            // Each issuerDomainPolicy scans the mappings and the level once.
            tree.compare(
                issuer_policies
                    .len()
                    .saturating_mul(maps.len().saturating_add(tree.level(i).len())),
            )?;
            for idp in issuer_policies {
                let mapped: Vec<Oid> = {
                    let mut v: Vec<Oid> = Vec::new();
                    for (_, b) in maps.iter().filter(|(a, _)| *a == idp) {
                        if !v.contains(b) {
                            v.push(*b);
                        }
                    }
                    v
                };
                if policy_mapping > 0 {
                    let mut found = false;
                    if let Some(level) = tree.levels.get_mut(i) {
                        for node in level.iter_mut().filter(|n| n.alive && n.policy == idp) {
                            node.expected.clone_from(&mapped);
                            found = true;
                        }
                    }
                    if !found {
                        let any_parent = tree
                            .alive(i)
                            .find(|(_, n)| n.policy == ANY_POLICY)
                            .and_then(|(_, n)| n.parent);
                        if let Some(parent) = any_parent {
                            tree.push(
                                i,
                                Node {
                                    policy: idp,
                                    parent: Some(parent),
                                    expected: mapped,
                                    alive: true,
                                },
                            )?;
                        }
                    }
                } else {
                    // (b)(2): mapping inhibited: the mapped policy is dropped.
                    if let Some(level) = tree.levels.get_mut(i) {
                        for node in level.iter_mut().filter(|n| n.policy == idp) {
                            node.alive = false;
                        }
                    }
                    tree.prune(i);
                }
            }
        }
        // (h)
        if !self_issued {
            explicit_policy = explicit_policy.saturating_sub(1);
            policy_mapping = policy_mapping.saturating_sub(1);
            inhibit_any = inhibit_any.saturating_sub(1);
        }
        // (i)
        if let Some((require, inhibit_map)) = cert.ext.policy_constraints {
            if let Some(r) = require.map(to_usize) {
                explicit_policy = explicit_policy.min(r);
            }
            if let Some(m) = inhibit_map.map(to_usize) {
                policy_mapping = policy_mapping.min(m);
            }
        }
        // (j)
        if let Some(skip) = cert.ext.inhibit_any_policy.map(to_usize) {
            inhibit_any = inhibit_any.min(skip);
        }
    }

    // §6.1.5 wrap-up.
    explicit_policy = explicit_policy.saturating_sub(1);
    if let Some(leaf) = certs.last() {
        if leaf
            .ext
            .policy_constraints
            .is_some_and(|(r, _)| r == Some(0))
        {
            explicit_policy = 0;
        }
    }
    // (g): intersect with the user-initial-policy-set.
    let user = &inputs.initial_policy_set;
    let user_any = user.is_empty() || user.contains(&ANY_POLICY);
    if !tree.is_null() && !user_any {
        // (g)(iii)(1)-(2): nodes whose parent is anyPolicy and whose policy the user did not ask
        // for are deleted with their subtrees.
        let mut node_set: Vec<(usize, usize)> = Vec::new();
        for d in 1..=n {
            for (k, node) in tree.alive(d) {
                let parent_any = node
                    .parent
                    .and_then(|p| tree.level(d - 1).get(p))
                    .is_some_and(|p| p.policy == ANY_POLICY);
                if parent_any {
                    node_set.push((d, k));
                }
            }
        }
        let mut present: Vec<Oid> = Vec::new();
        for &(d, k) in &node_set {
            if let Some(node) = tree.levels.get_mut(d).and_then(|l| l.get_mut(k)) {
                if node.policy != ANY_POLICY && !user.contains(&node.policy) {
                    node.alive = false;
                } else if node.policy != ANY_POLICY {
                    present.push(node.policy);
                }
            }
        }
        tree.cascade();
        // (g)(iii)(3): a leaf-level anyPolicy node stands for each asked-for policy.
        let any_leaf = tree
            .alive(n)
            .find(|(_, x)| x.policy == ANY_POLICY)
            .map(|(k, x)| (k, x.parent));
        if let Some((k, parent)) = any_leaf {
            for p in user.iter() {
                if !present.contains(p) {
                    tree.push(
                        n,
                        Node {
                            policy: *p,
                            parent,
                            expected: vec![*p],
                            alive: true,
                        },
                    )?;
                }
            }
            if let Some(node) = tree.levels.get_mut(n).and_then(|l| l.get_mut(k)) {
                node.alive = false;
            }
        }
        // (g)(iii)(4)
        tree.prune(n);
    }
    if explicit_policy == 0 && tree.is_null() {
        return Err(PolicyFailure::NoValidPolicy);
    }
    // The user-constrained policy set, named in the trust anchor's domain (the names the user
    // gives with --policy): for each leaf-level node, the ancestor whose parent is anyPolicy,
    // i.e. the policy before any mapping. anyPolicy all the way down reports anyPolicy.
    let mut out: Vec<Oid> = Vec::new();
    if !tree.is_null() {
        for (k, _) in tree.alive(n) {
            if let Some(p) = domain_policy(&tree, n, k) {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
    }
    Ok(out)
}

/// The policy of the node's ancestor (or itself) whose parent is anyPolicy.
fn domain_policy(tree: &Tree, depth: usize, index: usize) -> Option<Oid> {
    let (mut d, mut k) = (depth, index);
    // At most `depth` steps up: the root is anyPolicy.
    for _ in 0..=depth {
        let node = tree.level(d).get(k)?;
        if node.policy == ANY_POLICY {
            return Some(ANY_POLICY);
        }
        let parent_index = node.parent?;
        let parent = tree.level(d.checked_sub(1)?).get(parent_index)?;
        if parent.policy == ANY_POLICY {
            return Some(node.policy);
        }
        d -= 1;
        k = parent_index;
    }
    None
}

fn leaf_node(policy: Oid, parent: usize) -> Node {
    Node {
        policy,
        parent: Some(parent),
        expected: vec![policy],
        alive: true,
    }
}

/// SkipCerts values above any real path length mean "never"; saturate instead of wrapping.
fn to_usize(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::trust::parse_bundle;

    /// A certificate with the given policy extensions (only `ext` matters to `process`; the
    /// rest comes from a fixture CA that is not self-issued).
    fn cert(policies: Option<Vec<Oid>>, maps: Option<Vec<(Oid, Oid)>>) -> Arc<Certificate> {
        let mut c = parse_bundle(include_bytes!("../../fixtures/pki/rsa-int.crt"))
            .expect("fixture")
            .remove(0);
        c.ext.policies = policies;
        c.ext.policy_mappings = maps;
        c.ext.policy_constraints = None;
        c.ext.inhibit_any_policy = None;
        Arc::new(c)
    }

    fn oid(i: u32) -> Oid {
        Oid::new(&format!("1.2.3.{i}")).expect("oid")
    }

    #[test]
    fn explosion_fails_closed_within_budget() {
        // Eight CAs, each asserting 20 policies and mapping each to all 20: the tree would
        // grow 20x per level (20^8 nodes).
        let all: Vec<Oid> = (1..=20).map(oid).collect();
        let maps: Vec<(Oid, Oid)> = all
            .iter()
            .flat_map(|a| all.iter().map(move |b| (*a, *b)))
            .collect();
        let mut path: Vec<Arc<Certificate>> = vec![cert(Some(all.clone()), None)];
        for _ in 0..8 {
            path.push(cert(Some(all.clone()), Some(maps.clone())));
        }
        path.push(cert(None, None)); // the anchor, not processed
        let started = std::time::Instant::now();
        let r = process(&path, &PolicyInputs::default());
        let took = started.elapsed();
        eprintln!("policy tree explosion refused in {took:?}");
        assert_eq!(r, Err(PolicyFailure::Budget));
        assert!(took.as_secs() < 2, "{took:?}");
    }

    #[test]
    fn the_budget_covers_every_candidate_path_of_a_search() {
        // A path that alone stays inside the budget (600 policies at each of three levels:
        // 1,801 nodes, ~720,000 comparisons) exhausts a budget shared by a search that tries it
        // a few times.
        let all: Vec<Oid> = (1..=600).map(oid).collect();
        let path = vec![
            cert(Some(all.clone()), None),
            cert(Some(all.clone()), None),
            cert(Some(all.clone()), None),
            cert(None, None),
        ];
        assert!(
            process(&path, &PolicyInputs::default()).is_ok(),
            "alone it fits"
        );
        let mut work = PolicyWork::default();
        let tries = (0..256)
            .take_while(|_| process_with(&path, &PolicyInputs::default(), &mut work).is_ok())
            .count();
        assert!(
            tries < 256,
            "a shared budget ends the search ({tries} paths)"
        );
        assert_eq!(
            process_with(&path, &PolicyInputs::default(), &mut work),
            Err(PolicyFailure::Budget)
        );
    }

    #[test]
    fn comparisons_are_budgeted() {
        // Scans that create no nodes: 3,000 leaf policies against 1,000 expected ones above.
        let above: Vec<Oid> = (1..=1_000).map(oid).collect();
        let leaf: Vec<Oid> = (5_001..=8_000).map(oid).collect();
        let path = vec![
            cert(Some(leaf), None),
            cert(Some(above.clone()), None),
            cert(None, None),
        ];
        let started = std::time::Instant::now();
        assert_eq!(
            process(&path, &PolicyInputs::default()),
            Err(PolicyFailure::Budget)
        );
        // 100,000 mappings in one CA (deduplicating them is quadratic).
        let targets: Vec<Oid> = (9_001..=9_100).map(oid).collect();
        let maps: Vec<(Oid, Oid)> = above
            .iter()
            .flat_map(|a| targets.iter().map(move |t| (*a, *t)))
            .collect();
        let path = vec![
            cert(Some(targets.clone()), None),
            cert(Some(above.clone()), Some(maps)),
            cert(Some(above), None),
            cert(None, None),
        ];
        assert_eq!(
            process(&path, &PolicyInputs::default()),
            Err(PolicyFailure::Budget)
        );
        let took = started.elapsed();
        eprintln!("policy comparison budget hit twice in {took:?}");
        assert!(took.as_secs() < 2, "{took:?}");
    }

    #[test]
    fn explicit_policy_and_initial_set() {
        let p1 = oid(1);
        let p2 = oid(2);
        // anchor -> CA {p1, p2} -> leaf {p1}
        let path = vec![
            cert(Some(vec![p1]), None),
            cert(Some(vec![p1, p2]), None),
            cert(None, None),
        ];
        assert_eq!(process(&path, &PolicyInputs::default()), Ok(vec![p1]));
        let want_p2 = PolicyInputs {
            initial_policy_set: vec![p2],
            require_explicit_policy: true,
            ..PolicyInputs::default()
        };
        assert_eq!(process(&path, &want_p2), Err(PolicyFailure::NoValidPolicy));
        // Not required: the path passes, valid for no policy.
        let soft = PolicyInputs {
            require_explicit_policy: false,
            ..want_p2
        };
        assert_eq!(process(&path, &soft), Ok(vec![]));
        // A leaf without policies leaves the tree NULL.
        let bare = vec![
            cert(None, None),
            cert(Some(vec![p1]), None),
            cert(None, None),
        ];
        let explicit = PolicyInputs {
            require_explicit_policy: true,
            ..PolicyInputs::default()
        };
        assert_eq!(process(&bare, &explicit), Err(PolicyFailure::NoValidPolicy));
        // Mapping anyPolicy is refused (§6.1.4 (a)).
        let any_map = vec![
            cert(Some(vec![p1]), None),
            cert(Some(vec![p1]), Some(vec![(ANY_POLICY, p1)])),
            cert(None, None),
        ];
        assert_eq!(
            process(&any_map, &PolicyInputs::default()),
            Err(PolicyFailure::AnyPolicyMapping(1))
        );
    }
}
