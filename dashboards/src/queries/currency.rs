//! A yard's currency: the one its lots were bought in (its arrivals', as corrected), which its
//! feed and pens are shown in when no report is at hand (`web::money::yard_currency` reads the
//! same from a report's lots).

use super::live;

/// The currency every arrival of `feedlot_id` is in; empty when it has none or several.
pub async fn yard_currency(
    client: &clickhouse::Client,
    feedlot_id: &str,
) -> Result<String, clickhouse::error::Error> {
    let codes: Vec<String> = client
        .query(&format!(
            "SELECT DISTINCT currency FROM {} LIMIT 2",
            live::source("arrivals", "feedlot_id = ?")
        ))
        .bind(feedlot_id)
        .fetch_all()
        .await?;
    Ok(match codes.as_slice() {
        [one] => one.clone(),
        _ => String::new(),
    })
}
