//! Parsing Service App webhook deliveries into [`ServiceAppEvent`]s.

use byova_models::{OrgId, ServiceAppEventKind, ServiceAppWebhookEvent, WebexId};

use crate::error::{Error, ErrorKind, Result};

/// A Service App authorization event: who (the org) and what (authorized or deauthorized).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ServiceAppEvent {
    /// [`ServiceAppEventKind::Authorized`] or [`ServiceAppEventKind::Deauthorized`] (never
    /// `Other`: those are rejected while parsing).
    pub kind: ServiceAppEventKind,
    /// The org, decoded (the payload may carry an encoded id or a plain UUID).
    pub org_id: OrgId,
    /// The whole payload as delivered.
    pub payload: ServiceAppWebhookEvent,
}

impl ServiceAppEvent {
    /// Parses a delivery body.
    ///
    /// `orgId` is read at the top level, else under `data`, encoded or plain. A missing
    /// `resource` is accepted; any other resource than `serviceApp` is not.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidPayload`] (not JSON, `orgId` missing or not an org id),
    /// [`ErrorKind::UnexpectedResource`], [`ErrorKind::UnexpectedEvent`].
    pub fn parse(body: &[u8]) -> Result<Self> {
        let payload: ServiceAppWebhookEvent = serde_json::from_slice(body).map_err(|error| {
            Error::build(
                ErrorKind::InvalidPayload,
                Some("the webhook body is not a JSON webhook event".into()),
                Some(Box::new(error)),
            )
        })?;
        Self::from_payload(payload)
    }

    /// Checks an already-decoded payload.
    ///
    /// # Errors
    /// As [`parse`](Self::parse).
    pub fn from_payload(payload: ServiceAppWebhookEvent) -> Result<Self> {
        if !payload.is_service_app() {
            return Err(Error::new(ErrorKind::UnexpectedResource {
                resource: payload.resource.unwrap_or_default(),
            }));
        }
        let kind = match payload.kind() {
            ServiceAppEventKind::Other(event) => {
                return Err(Error::new(ErrorKind::UnexpectedEvent { event }));
            }
            kind => kind,
        };
        if payload.raw_org_id().is_none() {
            return Err(Error::with_message(
                ErrorKind::InvalidPayload,
                "the webhook has no orgId",
            ));
        }
        let org_id = payload.org_id().map_err(|error| {
            Error::build(
                ErrorKind::InvalidPayload,
                Some("the webhook's orgId is neither an encoded org id nor a UUID".into()),
                Some(Box::new(error)),
            )
        })?;
        Ok(Self {
            kind,
            org_id,
            payload,
        })
    }

    /// An id identifying this event across redeliveries: `data.id` when present, else the
    /// webhook id, event, org and `created` time together. `None` when the payload carries too
    /// little to tell redeliveries from new events.
    pub fn event_id(&self) -> Option<String> {
        let payload = &self.payload;
        if let Some(id) = payload
            .data
            .as_ref()
            .and_then(|data| data.get("id"))
            .and_then(serde_json::Value::as_str)
        {
            return Some(format!("data:{id}"));
        }
        let created = payload.created.as_deref()?;
        Some(format!(
            "{}|{}|{}|{created}",
            payload.id.as_deref().unwrap_or_default(),
            payload.event_name().unwrap_or_default(),
            self.org_id,
        ))
    }

    /// The `applicationId` the payload names (top level, else under `data`), if any.
    pub fn application_id(&self) -> Option<&str> {
        self.payload
            .application_id
            .as_deref()
            .or_else(|| self.payload.data.as_ref()?.get("applicationId")?.as_str())
    }

    /// Whether the event is about the Service App with `client_id` / `application_id`. Events
    /// that name no application are accepted.
    pub(crate) fn is_for_application(&self, client_id: &str, application_id: &str) -> bool {
        let Some(named) = self.application_id() else {
            return true;
        };
        if named == client_id || named == application_id {
            return true;
        }
        WebexId::decode(named)
            .is_ok_and(|id| id.kind() == WebexId::APPLICATION && id.id() == client_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENCODED_ORG: &str =
        "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi82M2IwMmY5MC0wYmU0LTRiNDMtOWU3OC1jYWQ0MjVhYzU1NGM";
    const ORG: &str = "63b02f90-0be4-4b43-9e78-cad425ac554c";

    #[test]
    fn org_id_encoded_or_plain_top_level_or_under_data() {
        for body in [
            format!(r#"{{"resource":"serviceApp","event":"authorized","orgId":"{ENCODED_ORG}"}}"#),
            format!(r#"{{"resource":"serviceApp","event":"authorized","orgId":"{ORG}"}}"#),
            format!(
                r#"{{"resource":"serviceApp","event":"authorized","data":{{"orgId":"{ENCODED_ORG}"}}}}"#
            ),
            format!(r#"{{"event":"AUTHORIZED","data":{{"orgId":"{ORG}"}}}}"#),
        ] {
            let event = ServiceAppEvent::parse(body.as_bytes()).expect(&body);
            assert_eq!(event.kind, ServiceAppEventKind::Authorized);
            assert_eq!(event.org_id.as_str(), ORG);
        }
        let event = ServiceAppEvent::parse(
            format!(r#"{{"resource":"serviceApp","name":"deauthorized","orgId":"{ORG}"}}"#)
                .as_bytes(),
        )
        .expect("name instead of event");
        assert_eq!(event.kind, ServiceAppEventKind::Deauthorized);
    }

    #[test]
    fn rejections_are_typed() {
        let kind = |body: &str| {
            ServiceAppEvent::parse(body.as_bytes())
                .expect_err(body)
                .kind()
                .clone()
        };
        assert_eq!(
            kind(r#"{"resource":"messages","event":"created","orgId":"x"}"#),
            ErrorKind::UnexpectedResource {
                resource: "messages".into()
            }
        );
        assert_eq!(
            kind(&format!(
                r#"{{"resource":"serviceApp","event":"updated","orgId":"{ORG}"}}"#
            )),
            ErrorKind::UnexpectedEvent {
                event: "updated".into()
            }
        );
        assert_eq!(
            kind(r#"{"resource":"serviceApp","event":"authorized"}"#),
            ErrorKind::InvalidPayload
        );
        assert_eq!(
            kind(r#"{"resource":"serviceApp","event":"authorized","orgId":"org-test-1"}"#),
            ErrorKind::InvalidPayload
        );
        assert_eq!(kind("not json"), ErrorKind::InvalidPayload);
        assert_eq!(kind("[]"), ErrorKind::InvalidPayload);
    }

    #[test]
    fn event_ids_and_application_checks() {
        let body = format!(
            r#"{{"id":"hook-1","event":"authorized","orgId":"{ORG}","created":"2025-01-01T00:00:00.000Z",
                "applicationId":"Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL3NhLWlk"}}"#
        );
        let event = ServiceAppEvent::parse(body.as_bytes()).expect("parse");
        assert_eq!(
            event.event_id().as_deref(),
            Some(format!("hook-1|authorized|{ORG}|2025-01-01T00:00:00.000Z").as_str())
        );
        assert!(event.is_for_application("sa-id", "whatever"));
        assert!(!event.is_for_application("other-id", "whatever"));

        let with_data_id = format!(
            r#"{{"event":"deauthorized","orgId":"{ORG}","data":{{"id":"evt-9","applicationId":"sa-id"}}}}"#
        );
        let event = ServiceAppEvent::parse(with_data_id.as_bytes()).expect("parse");
        assert_eq!(event.event_id().as_deref(), Some("data:evt-9"));
        assert!(event.is_for_application("sa-id", "x"));

        let bare = format!(r#"{{"event":"deauthorized","orgId":"{ORG}"}}"#);
        let event = ServiceAppEvent::parse(bare.as_bytes()).expect("parse");
        assert_eq!(event.event_id(), None);
        assert!(event.is_for_application("anything", "x"));
    }
}
