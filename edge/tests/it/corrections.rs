//! Corrections at the gateway (docs/corrections.md): a record voided through the records API
//! and one amended through the entry form both reach Kafka as `correction` events naming the
//! record, with who sent them; a role that may not record a kind may not correct it, and a
//! correction without a reason is refused naming the field.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::time::Duration;

use schemas::{CorrectionAction, Event};
use serde_json::json;

use crate::support::{consume, office, post_form, post_record};

const TOPIC: &str = "feedlot.events.v1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_void_through_the_api_and_an_amendment_through_the_form_are_forwarded() {
    let office = office("yard-fix", "gw-fix", TOPIC).await;
    let (broker, base) = (&office.broker, office.base.clone());

    // A treatment, then its void by the vet who gave it.
    let treatment = json!({"eid": "982000001088420", "purpose": "therapeutic", "product": "Draxxin",
        "dose": 8.5, "dose_unit": "ml", "route": "subcutaneous", "product_lot": "DX-1",
        "withdrawal_days": 18, "administered_by": "dr-lee"});
    let (status, given) = post_record(&base, "treatments", "vet-1", &treatment).await;
    assert_eq!(status, 201, "{given}");
    let treatment_id = given["event_id"].as_str().unwrap().to_owned();
    let void = json!({"corrects_event_id": treatment_id, "record_kind": "treatment",
        "action": "void", "reason": "given to the animal beside it"});
    let (status, body) = post_record(&base, "corrections", "op-1", &void).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            403,
            Some("role operator may not submit corrections of treatment")
        ),
        "an operator may not void a treatment"
    );
    let mut no_reason = void.clone();
    no_reason["reason"] = json!(" ");
    let (status, body) = post_record(&base, "corrections", "vet-1", &no_reason).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("reason")),
        "{body}"
    );
    let chute = format!("{base}/chute/animals/982000001088420");
    let chute_page = || async {
        reqwest::Client::new()
            .get(&chute)
            .basic_auth("dr-lee", Some("vet-1"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let page = chute_page().await;
    assert!(page.contains("WITHDRAWAL: Draxxin"), "{page}");
    let (status, voided) = post_record(&base, "corrections", "vet-1", &void).await;
    assert_eq!(status, 201, "{voided}");
    // The chute follows the void: the dose that was never given warns no more.
    let page = chute_page().await;
    assert!(!page.contains("WITHDRAWAL"), "{page}");

    // A weighing's weight amended through the form by the operator; a blank amendment is
    // refused naming the action.
    let weighing_id = "0193a5b2-7c3e-7d41-9a2b-3c4d5e6f7081";
    let (status, page) = post_form(
        &base,
        "amend-record",
        "op-1",
        &[
            ("corrects_event_id", weighing_id),
            ("record_kind", "weighing"),
            ("action", "amend"),
            ("reason", "scale not zeroed"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("amend must give at least one new value"),
        "{page}"
    );
    let (status, page) = post_form(
        &base,
        "amend-record",
        "op-1",
        &[
            ("corrects_event_id", weighing_id),
            ("record_kind", "weighing"),
            ("action", "amend"),
            ("weight_kg", "350.5"),
            ("product", ""),
            ("reason", "scale not zeroed"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Recorded: "), "{page}");

    let got = consume(
        &broker.bootstrap,
        TOPIC,
        3,
        Duration::from_secs(1),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(got.len(), 3, "the treatment and two corrections: {got:#?}");
    let corrections: Vec<_> = got
        .iter()
        .filter_map(|r| match &r.envelope.event {
            Event::Correction(c) => Some((r.envelope.device_id.as_str(), c)),
            _ => None,
        })
        .collect();
    assert_eq!(corrections.len(), 2);
    let (who, void) = corrections[0];
    assert_eq!(who, "api:dr-lee");
    assert_eq!(
        (void.corrects_event_id.to_string(), void.action),
        (treatment_id, CorrectionAction::Void)
    );
    let (who, amend) = corrections[1];
    assert_eq!(who, "api:sam");
    assert_eq!(amend.corrects_event_id.to_string(), weighing_id);
    assert_eq!(
        (amend.action, amend.weight_kg, amend.reason.as_str()),
        (CorrectionAction::Amend, Some(350.5), "scale not zeroed")
    );
    office.gateway.shutdown();
    office.gateway.wait().await.unwrap();
}
