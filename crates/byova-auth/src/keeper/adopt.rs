//! Finding (or registering) the data source to keep, and bringing it to the wanted settings.

use byova_api::{DataSources, new_nonce};
use byova_models::{DataSource, DataSourceCreate, DataSourceStatus, DataSourceUpdate, Secret};
use time::OffsetDateTime;

use crate::error::{Error, ErrorKind, Result};
use crate::keeper::KeeperConfig;
use crate::keeper::claims;

/// Finds the data source: by id when configured, else the single one matching url + schema +
/// audience + subject, else the single one matching url + schema; registers one when none
/// matches. Brings a found one to the wanted settings (and `active`) when it differs.
pub(crate) async fn adopt(data_sources: &DataSources, config: &KeeperConfig) -> Result<DataSource> {
    let found = match &config.data_source_id {
        Some(id) => Some(data_sources.get(id).await.map_err(|error| {
            if error.is_not_found() {
                Error::build(
                    ErrorKind::DataSource,
                    Some(format!("the configured data source {id} does not exist").into()),
                    Some(Box::new(error)),
                )
            } else {
                Error::api(error)
            }
        })?),
        None => find(data_sources, config).await?,
    };
    match found {
        Some(found) if matches_config(&found, config) => {
            tracing::info!(id = %found.id, "adopted the data source");
            Ok(found)
        }
        Some(found) => {
            tracing::info!(id = %found.id, "the data source differs from the configuration or is not active; updating it");
            renew(data_sources, &found.id, config).await
        }
        None => {
            let body = DataSourceCreate::new(
                &config.schema_id,
                &config.url,
                &config.audience,
                &config.subject,
                new_nonce(),
                config.token_lifetime_minutes,
            );
            let created = data_sources.create(&body).await.map_err(Error::api)?;
            tracing::info!(id = %created.id, "registered the data source");
            Ok(created)
        }
    }
}

async fn find(data_sources: &DataSources, config: &KeeperConfig) -> Result<Option<DataSource>> {
    let all = data_sources.list().await.map_err(Error::api)?;
    let same_place: Vec<DataSource> = all
        .into_iter()
        .filter(|ds| {
            ds.url.as_deref() == Some(config.url.as_str())
                && ds.schema_id.as_deref() == Some(config.schema_id.as_str())
        })
        .collect();
    let (exact, other): (Vec<_>, Vec<_>) = same_place.into_iter().partition(|ds| {
        let (audiences, subject) = audience_and_subject(ds);
        audiences.contains(&config.audience) && subject.as_deref() == Some(config.subject.as_str())
    });
    let ambiguous = |count: usize, what: &str| {
        Error::with_message(
            ErrorKind::DataSource,
            format!("{count} data sources match {what}; set the data source id to pick one"),
        )
    };
    match (exact.len(), other.len()) {
        (1, _) => Ok(exact.into_iter().next()),
        (n, _) if n > 1 => Err(ambiguous(n, "the url, schema, audience and subject")),
        (0, 1) => Ok(other.into_iter().next()),
        (0, 0) => Ok(None),
        (_, n) => Err(ambiguous(n, "the url and schema")),
    }
}

/// The audiences and subject of a data source: its fields, else its JWS claims.
fn audience_and_subject(ds: &DataSource) -> (Vec<String>, Option<String>) {
    let claims = ds
        .jws_token
        .as_ref()
        .and_then(|jws| claims::decode(jws.expose()))
        .unwrap_or_default();
    let audiences = ds
        .audience
        .clone()
        .map_or(claims.audiences, |audience| vec![audience]);
    (audiences, ds.subject.clone().or(claims.subject))
}

fn matches_config(ds: &DataSource, config: &KeeperConfig) -> bool {
    let (audiences, subject) = audience_and_subject(ds);
    ds.url.as_deref() == Some(config.url.as_str())
        && ds.schema_id.as_deref() == Some(config.schema_id.as_str())
        && audiences.contains(&config.audience)
        && subject.as_deref() == Some(config.subject.as_str())
        && ds.status == Some(DataSourceStatus::Active)
        && ds
            .token_lifetime_minutes
            .is_none_or(|minutes| minutes == config.token_lifetime_minutes)
}

/// `PUT /dataSources/{id}` with the wanted settings, `active`, a fresh nonce and the lifetime:
/// Webex answers with a new JWS.
pub(crate) async fn renew(
    data_sources: &DataSources,
    id: &str,
    config: &KeeperConfig,
) -> Result<DataSource> {
    let body = DataSourceUpdate {
        audience: Some(config.audience.clone()),
        subject: Some(config.subject.clone()),
        nonce: Some(new_nonce()),
        schema_id: Some(config.schema_id.clone()),
        url: Some(config.url.clone()),
        token_lifetime_minutes: Some(config.token_lifetime_minutes),
        status: Some(DataSourceStatus::Active),
        ..DataSourceUpdate::default()
    };
    data_sources.update(id, &body).await.map_err(Error::api)
}

/// The JWS of a data source Webex returned.
pub(crate) fn jws_of(ds: &DataSource) -> Result<Secret> {
    match &ds.jws_token {
        Some(jws) if !jws.is_empty() => Ok(jws.clone()),
        _ => Err(Error::with_message(
            ErrorKind::DataSource,
            format!("Webex returned data source {} without a jwsToken", ds.id),
        )),
    }
}

/// When the JWS of `ds` expires: `tokenExpiryTime`, else the JWS `exp`.
pub(crate) fn expiry_of(ds: &DataSource) -> Option<OffsetDateTime> {
    ds.token_expiry_time.or_else(|| {
        ds.jws_token
            .as_ref()
            .and_then(|jws| claims::decode(jws.expose()))
            .and_then(|claims| claims.expires_at)
    })
}
