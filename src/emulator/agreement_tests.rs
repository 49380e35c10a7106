//! The emulator's profile and the provider's table (`crate::cloud::rules`) agree wherever both
//! state a fact.
//!
//! They are kept apart on purpose (see the [module doc](super)); this is what keeps them
//! honest. A failure here means one of the two misreads the clouds' documents
//! (`REFERENCE.md` and the seeds): find out which and fix that one, not whichever is easier.
//!
//! The two STS ([`StsProfile`](crate::emulator::sts_profile::StsProfile), AssumeRole's rates
//! among them) are not compared: the provider's table has rows for the three key-pair clouds
//! only, so there is nothing on its side to agree with yet.

use crate::cloud::rules::{BindRunning, InstanceKey, NameRuleError, ReadAhead};
use crate::cloud::CloudKind;
use crate::emulator::names::NameViolation;
use crate::emulator::profile::{Cloud, KeyRef, Profile, RunningInstances};

fn kind(cloud: Cloud) -> CloudKind {
    match cloud {
        Cloud::Ecs => CloudKind::Ecs,
        Cloud::Ens => CloudKind::Ens,
        Cloud::Cvm => CloudKind::Cvm,
    }
}

fn clouds() -> impl Iterator<Item = (CloudKind, &'static Profile)> {
    Cloud::ALL.into_iter().map(|c| (kind(c), c.profile()))
}

#[test]
fn every_cloud_is_in_both_tables() {
    let emulated: Vec<CloudKind> = Cloud::ALL.into_iter().map(kind).collect();
    assert_eq!(emulated, CloudKind::ALL);
}

#[test]
fn batch_and_page_limits() {
    for (kind, p) in clouds() {
        let limits = kind.limits();
        assert_eq!(limits.delete_batch, p.delete_max, "{kind:?} DeleteKeyPairs");
        assert_eq!(
            limits.bind_batch, p.bind_instances_max,
            "{kind:?} bind call"
        );
        assert_eq!(
            limits.describe_page, p.page_max,
            "{kind:?} DescribeKeyPairs"
        );
        assert_eq!(
            limits.instance_batch, p.instance_ids_max,
            "{kind:?} DescribeInstances ids"
        );
    }
}

#[test]
fn documented_rates_per_action() {
    for (kind, p) in clouds() {
        let limits = kind.limits();
        let actions = limits
            .rates
            .iter()
            .chain(p.builtin_rates)
            .map(|(action, _)| *action);
        for action in actions {
            assert_eq!(
                limits.rate(action),
                p.builtin_rate(action),
                "{kind:?} {action}"
            );
        }
        // Neither table may rate an action the cloud does not have.
        for (action, _) in p.builtin_rates {
            assert!(p.operation(action).is_some(), "{kind:?} rates {action}");
        }
    }
}

#[test]
fn key_ids_and_what_instances_hold() {
    for (kind, p) in clouds() {
        let limits = kind.limits();
        assert_eq!(limits.key_id_shape.1, p.key_id.prefix(), "{kind:?} key id");
        let holds = match limits.instance_key {
            InstanceKey::Name => KeyRef::Name,
            InstanceKey::Id => KeyRef::Id,
        };
        assert_eq!(holds, p.instances_hold, "{kind:?} instance key");
    }
}

#[test]
fn running_instances_and_name_patterns() {
    for (kind, p) in clouds() {
        let limits = kind.limits();
        let running = match limits.bind_running {
            BindRunning::Yes => RunningInstances::Bind,
            BindRunning::WithForceStop => RunningInstances::BindWithForceStop,
            BindRunning::No => RunningInstances::Refuse,
        };
        assert_eq!(running, p.running, "{kind:?} running instances");
        assert_eq!(
            limits.read_ahead == ReadAhead::NamePattern,
            p.name_wildcards,
            "{kind:?} KeyPairName wildcards"
        );
    }
}

/// Names at and around every clause of the three rules.
fn sample_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "",
        "a",
        "ab",
        "A1",
        "key_1",
        "1_key",
        "__",
        "key:prod_1-x",
        "a:b_c-d9",
        "1abc",
        "9ab",
        "_ab",
        "-ab",
        ":ab",
        "ab c",
        " ab",
        "ab ",
        "a.b",
        "a/b",
        "a-b",
        "a:b",
        "a\tb",
        "a\nb",
        "ab\0",
        "http://x",
        "https://x",
        "HTTP://x",
        "Http://x",
        "hTTp://x",
        "HTTPS://x",
        "http:x",
        "http:_x",
        "https:-x",
        "httpx",
        "http",
        "https",
        "http:",
        "http:/",
        // Chinese: ideographs of the unified block, extension A and the compatibility block.
        "密钥对ab",
        "ab密钥:x",
        "密钥",
        "密",
        "9密钥",
        "密钥😀",
        "密钥-1_a:b",
        "㐀ab",
        "豈ab",
        "a密",
        // Letters and digits that are not ASCII and not Chinese.
        "éab",
        "aé",
        "ｆab",
        "a１",
        "a٣",
        "ǅab",
        "ключ",
        "😀ab",
        "ab😀",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (base, lens) in [
        ("a", [24, 25, 26, 127, 128, 129]),
        ("密", [1, 2, 127, 128, 129, 130]),
    ] {
        for len in lens {
            names.push(base.repeat(len));
        }
    }
    names.push(format!("k{}", "_".repeat(24)));
    names.push(format!("k{}", "-".repeat(127)));
    names.push(format!("http://{}", "a".repeat(121)));
    names
}

#[test]
fn name_rules_accept_the_same_names_for_the_same_reasons() {
    let mut disagreements = Vec::new();
    for (kind, p) in clouds() {
        for name in sample_names() {
            let provider = kind.validate_key_name(&name);
            let emulator = p.name_rule.check(&name);
            let prefix = p.name_rule.refused_prefix(&name);
            let agree = match (&provider, emulator) {
                (Ok(()), Ok(())) => true,
                (Err(NameRuleError::Length { .. }), Err(NameViolation::Length)) => true,
                (Err(NameRuleError::Length { .. }), Err(NameViolation::Empty)) => name.is_empty(),
                (
                    Err(NameRuleError::Prefix {
                        prefix: refused, ..
                    }),
                    Err(NameViolation::Characters),
                ) => prefix == Some(*refused),
                (
                    Err(NameRuleError::FirstChar { .. } | NameRuleError::Char { .. }),
                    Err(NameViolation::Characters),
                ) => prefix.is_none(),
                _ => false,
            };
            if !agree {
                disagreements.push(format!(
                    "{kind:?} {name:?}: provider {provider:?}, emulator {emulator:?} \
                     (refused prefix {prefix:?})"
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn name_rules_state_the_same_bounds_and_characters() {
    for (kind, p) in clouds() {
        let provider = kind.name_rule();
        let emulator = &p.name_rule;
        assert_eq!(
            (provider.min_len, provider.max_len),
            (emulator.min_len, emulator.max_len),
            "{kind:?} length"
        );
        assert_eq!(provider.first_letter, emulator.first_letter, "{kind:?}");
        assert_eq!(provider.chinese, emulator.chinese, "{kind:?}");
        assert_eq!(provider.extra_chars, emulator.punctuation, "{kind:?}");
        assert_eq!(
            provider.forbidden_prefixes, emulator.refused_prefixes,
            "{kind:?} prefixes"
        );
    }
}

#[test]
fn instance_id_rules_where_the_emulator_checks_them() {
    let samples = [
        "ins-abcd1234",
        "ins-00000000",
        "ins-abcd123",
        "ins-abcd12345",
        "ins-ABCD1234",
        "ins-abcd-123",
        "ins-",
        "i-abcd1234",
        "i-bp1abc",
        "abcd1234",
        "",
        "ins-abcd123é",
    ];
    for (kind, p) in clouds() {
        // ECS and ENS ids are not checked by the emulator: there is nothing to compare.
        let Some(shape) = p.instance_id else { continue };
        for id in samples {
            assert_eq!(
                kind.validate_instance_id(id).is_ok(),
                shape.matches(id),
                "{kind:?} {id:?}"
            );
        }
    }
}

#[test]
fn listings_report_public_keys_alike() {
    use crate::cloud::rules::PublicKeyListed;
    use crate::emulator::profile::PublicKeyListing;
    for (kind, p) in clouds() {
        let agree = match (kind.limits().public_key_listed, p.listed_public_key) {
            (PublicKeyListed::Never, PublicKeyListing::Never)
            | (PublicKeyListed::Always, PublicKeyListing::Always) => true,
            (PublicKeyListed::OnRequest(a), PublicKeyListing::OnRequest(b)) => a == b,
            _ => false,
        };
        assert!(agree, "{kind:?}: when DescribeKeyPairs lists public keys");
    }
}

#[test]
fn tagging_calls_limits_and_rates() {
    use crate::cloud::rules::TagVia;
    use crate::emulator::tag_profile::{
        TagProfile, ECS_TAGS, TENCENT_TAGS, TENCENT_TAG_PRODUCT, TENCENT_TAG_VERSION,
    };
    let emulated = |cloud: Cloud| -> Option<&'static TagProfile> {
        match cloud {
            Cloud::Ecs => Some(&ECS_TAGS),
            Cloud::Ens => None,
            Cloud::Cvm => Some(&TENCENT_TAGS),
        }
    };
    for (kind, p) in clouds() {
        let limits = kind.limits();
        let (ours, theirs) = match (limits.tagging, emulated(p.cloud)) {
            (None, None) => continue,
            (Some(a), Some(b)) => (a, b),
            (a, b) => panic!(
                "{kind:?}: provider tags {}, emulator {}",
                a.is_some(),
                b.is_some()
            ),
        };
        assert_eq!(ours.tag_action, theirs.tag_action, "{kind:?}");
        assert_eq!(ours.untag_action, theirs.untag_action, "{kind:?}");
        assert_eq!(
            ours.tags_per_call, theirs.tags_max,
            "{kind:?} tags per call"
        );
        match &ours.via {
            TagVia::KeyPairApi { .. } => {
                // Tagged in the key-pair API itself: the emulated API has the actions.
                assert!(p.operation(ours.tag_action).is_some(), "{kind:?}");
                assert!(p.operation(ours.untag_action).is_some(), "{kind:?}");
                assert!(theirs.builtin_rates.is_empty() && limits.rates.is_empty());
            }
            TagVia::Service(service) => {
                assert_eq!(service.service, TENCENT_TAG_PRODUCT);
                assert_eq!(service.version, TENCENT_TAG_VERSION);
                for (action, rate) in service.rates.iter().chain(theirs.builtin_rates) {
                    let provider = service.rates.iter().find(|(a, _)| a == action);
                    assert_eq!(
                        provider.map(|(_, n)| *n),
                        theirs.builtin_rate(action),
                        "{kind:?} {action} ({rate}/s on one side)"
                    );
                }
                assert!(
                    p.operation(ours.tag_action).is_none(),
                    "{kind:?} tags elsewhere"
                );
            }
        }
        assert_eq!(
            limits.join_resource_group.is_some(),
            p.operation("JoinResourceGroup").is_some(),
            "{kind:?} JoinResourceGroup"
        );
    }
}
