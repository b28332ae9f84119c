//! Credentials of the schemes the spec names, and parameters checked as declared.

use userbatch_core::rules::IdEncoding;
use userbatch_mock::MockConfig;

use super::requests::{Tweak, ids, operations, parameters, request};
use crate::support::{mock, status};

#[tokio::test]
async fn credentials_of_the_schemes_the_spec_names_and_no_others() {
    let m = mock(MockConfig::new()).await;
    for op in operations() {
        let asked = ids(&op, 1, 6);
        let without = Tweak::omit("Authorization");
        let plain = || request(&m, &op, &asked, &without);
        assert_eq!(status(plain()).await, 401, "{op:?}");
        assert_eq!(
            status(plain().header("authorization", "Bearer ")).await,
            401,
            "{op:?}"
        );
        assert_eq!(
            status(plain().header("authorization", "Token abc")).await,
            401,
            "{op:?}"
        );
        let schemes = &op.spec["components"]["securitySchemes"];
        let named: Vec<&str> = op.spec["security"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r.as_object().unwrap().keys().map(String::as_str))
            .collect();
        let basic = named.iter().any(|n| {
            schemes[n]["scheme"]
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("basic"))
        });
        let expected = if basic { 200 } else { 401 };
        assert_eq!(
            status(plain().basic_auth("user", Some("pw"))).await,
            expected,
            "{op:?}"
        );
        assert_eq!(status(plain().bearer_auth("t")).await, 200, "{op:?}");
    }
}

#[tokio::test]
async fn parameters_are_checked_as_declared() {
    let m = mock(MockConfig::new()).await;
    let mut checked = 0;
    for op in operations() {
        let asked = ids(&op, 2.min(op.rules.limits.max_ids.unwrap_or(2)), 6);
        let asked = if op.rules.ids.encoding == IdEncoding::Single {
            asked[..1].to_vec()
        } else {
            asked
        };
        let own = [
            Some(op.rules.ids.name.to_string()),
            op.rules.attributes.as_ref().map(|a| a.param.to_string()),
        ];
        let quirks = op.op.get("x-userbatch-mock");
        for (name, location, required, schema) in parameters(&op) {
            if own.contains(&Some(name.clone())) || location == "path" {
                continue;
            }
            let accept = name.eq_ignore_ascii_case("accept");
            let refusal = if accept { 406 } else { 400 };
            if required {
                let tweak = Tweak::omit(name.clone());
                assert_eq!(
                    status(request(&m, &op, &asked, &tweak)).await,
                    refusal,
                    "{op:?}: {name} left out"
                );
                checked += 1;
            }
            let listed: Vec<String> = schema["enum"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect()
                })
                .or_else(|| {
                    let accepted = quirks?.get("accepted-values")?.get(&name)?.as_array()?;
                    Some(
                        accepted
                            .iter()
                            .map(|v| v.as_str().unwrap().replace('*', "x"))
                            .collect(),
                    )
                })
                .unwrap_or_default();
            if listed.is_empty() && schema["type"] != "integer" {
                continue;
            }
            for value in &listed {
                // The mock writes JSON only: another media type is not acceptable.
                let expected = if accept && value != "application/json" {
                    406
                } else {
                    200
                };
                let tweak = Tweak::set(name.clone(), value.clone());
                assert_eq!(
                    status(request(&m, &op, &asked, &tweak)).await,
                    expected,
                    "{op:?}: {name}={value}"
                );
            }
            let outside = if schema["type"] == "integer" {
                "x"
            } else {
                "not-a-listed-value"
            };
            let tweak = Tweak::set(name.clone(), outside.to_owned());
            let resp = request(&m, &op, &asked, &tweak).send().await.unwrap();
            assert_eq!(resp.status(), refusal, "{op:?}: {name}={outside}");
            if location == "header" {
                // Headers carry credentials: a refused value is not quoted back.
                let body = resp.text().await.unwrap();
                assert!(!body.contains(outside), "{op:?}: {body}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "{checked} checks");
}
