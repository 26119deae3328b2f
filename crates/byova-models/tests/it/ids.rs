//! Webex ids, org ids and application ids, with property tests.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use byova_models::{IdError, OrgId, WebexId, derive_application_id, derive_application_id_in};
use proptest::prelude::*;

#[test]
fn documented_examples() {
    let id = WebexId::decode("Y2lzY29zcGFyazovL3VzL1RSQUNLSU5HX0lE");
    // `ciscospark://us/TRACKING_ID` has no id part.
    assert_eq!(id, Err(IdError::NotWebexUri));
    assert_eq!(
        derive_application_id("sa-id"),
        "Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL3NhLWlk"
    );
    let eu = WebexId::decode(&derive_application_id_in("eu", "sa-id")).unwrap();
    assert_eq!(eu.cluster(), "eu");
    // The webhook test payload of the Python SDK.
    let org = OrgId::parse(
        &URL_SAFE_NO_PAD
            .encode("ciscospark://us/ORGANIZATION/63b02f90-0be4-4b43-9e78-cad425ac554c"),
    )
    .unwrap();
    assert_eq!(org.as_str(), "63b02f90-0be4-4b43-9e78-cad425ac554c");
    assert_eq!(
        serde_json::to_string(&org).unwrap(),
        r#""63b02f90-0be4-4b43-9e78-cad425ac554c""#
    );
}

#[test]
fn serde_of_ids() {
    let id = WebexId::new("us", "PEOPLE", "p1").unwrap();
    let json = serde_json::to_string(&id).unwrap();
    assert_eq!(json, format!("\"{}\"", id.encode()));
    assert_eq!(serde_json::from_str::<WebexId>(&json).unwrap(), id);
    let err = serde_json::from_str::<WebexId>(r#""nope!""#).unwrap_err();
    assert!(
        err.to_string().starts_with(&IdError::NotBase64.to_string()),
        "{err}"
    );
    let err = serde_json::from_str::<OrgId>(r#""nope""#).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&IdError::InvalidOrgId.to_string()),
        "{err}"
    );
}

fn part() -> impl Strategy<Value = String> {
    "[A-Za-z0-9:_.-]{1,40}"
}

proptest! {
    #[test]
    fn encode_decode_round_trip(cluster in part(), kind in part(), id in "[^\u{0}]{1,80}") {
        let original = WebexId::new(cluster, kind, id).unwrap();
        let encoded = original.encode();
        prop_assert!(!encoded.contains('='));
        prop_assert_eq!(&WebexId::decode(&encoded).unwrap(), &original);
        prop_assert_eq!(&encoded.parse::<WebexId>().unwrap(), &original);
        let uri = original.to_uri();
        for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
            prop_assert_eq!(WebexId::decode(&engine.encode(&uri)).unwrap(), original.clone());
        }
    }

    #[test]
    fn org_ids_encoded_or_plain_agree(uuid in "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", cluster in part()) {
        let plain = OrgId::parse(&uuid).unwrap();
        prop_assert_eq!(plain.as_str(), uuid.to_ascii_lowercase());
        let encoded = plain.to_webex_id(&cluster).encode();
        prop_assert_eq!(&OrgId::parse(&encoded).unwrap(), &plain);
        let upper = WebexId::new(cluster, WebexId::ORGANIZATION, uuid.to_ascii_uppercase()).unwrap();
        prop_assert_eq!(OrgId::try_from(upper).unwrap(), plain);
    }

    #[test]
    fn decoding_arbitrary_strings_never_panics(input in "\\PC{0,200}") {
        let _ = WebexId::decode(&input);
        let _ = OrgId::parse(&input);
    }

    #[test]
    fn application_ids_decode_to_their_client_id(client_id in "[^\u{0}/]{1,60}", cluster in part()) {
        let id = WebexId::decode(&derive_application_id_in(&cluster, &client_id)).unwrap();
        prop_assert_eq!(id.kind(), WebexId::APPLICATION);
        prop_assert_eq!(id.cluster(), cluster.as_str());
        prop_assert_eq!(id.id(), client_id.as_str());
    }
}
