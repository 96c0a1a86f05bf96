//! `GET /kyc/identifications/`: the fixtures as the account's identification list, paginated
//! as the vendor's OpenAPI document describes it (`page`, `perPage`, `clientId`; `count`,
//! `next`, `previous` as absolute URLs on the sandbox's own base URL, `results`).

use bytes::Bytes;
use idenfy_core::{Endpoint, percent_encode};
use serde_json::{Value, json};

use crate::api_error::ApiError;
use crate::router::State;

/// The path, idenfy-core's request target's.
pub(crate) const PATH: &str = idenfy_core::Target::Identifications.path();
/// The page size when the request names none.
const DEFAULT_PER_PAGE: usize = 10;
/// The largest page served, as idenfy-core's `MAX_PER_PAGE`.
const MAX_PER_PAGE: usize = idenfy_core::MAX_PER_PAGE as usize;

/// Whether `path` is the list's (with or without its trailing slash).
pub(crate) fn is_list_path(path: &str) -> bool {
    path == PATH || path == PATH.trim_end_matches('/')
}

/// The page `query` asks for, or the error the sandbox answers.
pub(crate) fn page(state: &State, query: Option<&str>) -> Result<Bytes, ApiError> {
    let mut page = 1usize;
    let mut per_page = DEFAULT_PER_PAGE;
    let mut client_id: Option<String> = None;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let number = |what: &str| {
            value
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ApiError::BadValue(format!("'{what}' must be a positive integer.")))
        };
        match key {
            "page" => page = number("page")?,
            "perPage" => per_page = number("perPage")?.min(MAX_PER_PAGE),
            "clientId" => client_id = Some(percent_decode(value)),
            _ => {}
        }
    }
    let items: Vec<Value> = state
        .fixtures
        .scan_refs()
        .filter_map(|scan_ref| item(state, scan_ref))
        .filter(|(_, id)| client_id.is_none() || id.as_deref() == client_id.as_deref())
        .map(|(item, _)| item)
        .collect();
    let pages = items.len().div_ceil(per_page).max(1);
    if page > pages {
        return Err(ApiError::BadValue("Invalid page.".into()));
    }
    let link = |page: usize| {
        let mut url = format!("{}{PATH}?page={page}&perPage={per_page}", state.base_url);
        if let Some(id) = &client_id {
            url.push_str(&format!("&clientId={}", percent_encode(id)));
        }
        Value::String(url)
    };
    let start = (page - 1) * per_page;
    let body = json!({
        "count": items.len(),
        "next": if page < pages { link(page + 1) } else { Value::Null },
        "previous": if page > 1 { link(page - 1) } else { Value::Null },
        "results": items[start..(start + per_page).min(items.len())],
    });
    Ok(Bytes::from(body.to_string()))
}

/// A fixture's entry, and its clientId for the filter: the status of its `/status` answer
/// (`DELETED` once deleted), suspected when that status is `SUSPECTED`.
fn item(state: &State, scan_ref: &str) -> Option<(Value, Option<String>)> {
    let fixture = state.fixtures.get(scan_ref)?;
    let status = fixture.answer(Endpoint::Status).unwrap_or_default();
    let client_id = match status.get("clientId") {
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    };
    let overall = if state.deleted().contains(scan_ref) {
        json!("DELETED")
    } else {
        status.get("status").cloned().unwrap_or(Value::Null)
    };
    let suspected = overall == "SUSPECTED";
    let item = json!({"scanRef": scan_ref, "status": overall, "suspected": suspected});
    Some((item, client_id))
}

/// `%XX` escapes and `+` decoded; anything malformed kept as it is.
fn percent_decode(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let [byte, tail @ ..] = rest {
        let hex = |at: usize| tail.get(at).and_then(|b| char::from(*b).to_digit(16));
        rest = tail;
        match (byte, hex(0), hex(1)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                rest = &tail[2..];
            }
            (b'+', ..) => out.push(b' '),
            _ => out.push(*byte),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
