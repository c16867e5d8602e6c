//! The printed reports (issue 14 item 4): a lot's closeout and the yard's monthly report are
//! fetched as PDF from the running dashboards over the hand-worked yard (`analytics.rs`), their
//! text read back with `lopdf`, and every figure compared with the lot, lots and pens pages
//! and the JSON API for the same lot and month, in metric and in US units.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::collections::HashMap;

use crate::analytics::{AS_OF, YARD, get_text, set_units, stored_yard};
use crate::support::authed;
use schemas::weight::KG_PER_LB;

/// The text of `pdf`, every page's, a line per text object (a cell or a line of text).
pub fn pdf_text(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).unwrap()
}

/// GETs `url` as the test user: a PDF, read back as text.
async fn pdf_at(url: &str) -> String {
    let response = authed().get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{url}");
    assert_eq!(
        response.headers()["content-type"],
        "application/pdf",
        "{url}"
    );
    pdf_text(&response.bytes().await.unwrap())
}

async fn json(url: &str) -> serde_json::Value {
    authed()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `html` between the first `from` and the next `to` after it.
fn between<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html
        .find(from)
        .unwrap_or_else(|| panic!("no {from}: {html}"))
        + from.len();
    &html[start..start + html[start..].find(to).unwrap()]
}

/// `html` without its tags.
fn untagged(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// The lot page's measures table: (label, value) rows.
fn measures_of(page: &str) -> Vec<(String, String)> {
    let body = between(page, "<table id=\"measures\">", "</table>");
    body.split("<tr><th>")
        .skip(2) // before the header row, and the header row
        .map(|row| {
            let (label, rest) = row.split_once("</th><td>").unwrap();
            (
                label.to_owned(),
                rest.split_once("</td>").unwrap().0.to_owned(),
            )
        })
        .collect()
}

/// The rows of a page's sortable table `id`: each row's cells by column key, as printed.
fn table_of(page: &str, id: &str) -> Vec<HashMap<String, String>> {
    let body = between(page, &format!("<table id=\"{id}\">"), "</table>");
    let body = between(body, "<tbody>", "</tbody>");
    body.split("<tr>")
        .filter(|row| !row.is_empty())
        .map(|row| {
            row.split("<td data-key=\"")
                .skip(1)
                .map(|cell| {
                    let (key, rest) = cell.split_once("\">").unwrap();
                    let value = untagged(rest.split_once("</td>").unwrap().0);
                    (key.to_owned(), value)
                })
                .collect()
        })
        .collect()
}

/// Fails unless `text` holds `lines`, one after another.
fn assert_lines(text: &str, lines: &[String], what: &str) {
    let wanted = format!("\n{}\n", lines.join("\n"));
    assert!(
        text.contains(&wanted),
        "{what}: {wanted:?} not in the PDF's text:\n{text}"
    );
}

/// The printed reports' own view of a number: as the pages print it.
fn fixed(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

/// The monthly report's printed lot columns (`web::printed::MONTHLY_LOT_COLUMNS`).
const LOT_KEYS: &[&str] = &[
    "lot",
    "status",
    "head_in",
    "dead",
    "shipped",
    "on_feed",
    "dof",
    "in_weight",
    "now_weight",
    "adg",
    "dmi",
    "fg",
    "cog",
    "cost_head",
    "breakeven",
    "death_loss",
];

const PEN_KEYS: &[&str] = &[
    "pen",
    "head",
    "lots",
    "head_days",
    "as_fed",
    "dm",
    "dmi",
    "feed_hd_day",
    "feed_cost",
    "last_delivery",
];

/// Fails unless every row of the page's table `id` is printed in `text`, its `keys` cells one
/// after another (a blank cell prints nothing).
fn assert_rows_printed(text: &str, page: &str, id: &str, keys: &[&str], what: &str) {
    let rows = table_of(page, id);
    assert!(!rows.is_empty(), "{what}: no rows on the page");
    for row in rows {
        let cells: Vec<String> = keys
            .iter()
            .map(|k| row[*k].clone())
            .filter(|c| !c.is_empty())
            .collect();
        assert_lines(text, &cells, what);
    }
}

#[tokio::test]
async fn the_printed_closeout_and_monthly_report_show_the_pages_and_the_apis_numbers() {
    let stored = stored_yard("printed_reports").await;
    let base = format!("http://{}", stored.p.config.web.listen);
    let yard = format!("{base}/feedlots/{YARD}");
    let api = format!("{base}/api/feedlots/{YARD}");
    let month_end = "2026-03-31T23:59:59Z";

    for units in ["metric", "us"] {
        set_units(&base, units).await;
        let (w, per_kg) = match units {
            "metric" => ("kg", 1.0),
            _ => ("lb", KG_PER_LB),
        };
        let kg = |v: f64| v / per_kg;

        // Closeouts: the shipped lot's and the open lot's report to date, row for row the
        // lot page's measures, and the JSON's numbers.
        for lot in ["L2", "L1"] {
            let text = pdf_at(&format!("{yard}/lots/{lot}/closeout.pdf?as_of={AS_OF}")).await;
            let (status, page) = get_text(&format!("{yard}/lots/{lot}?as_of={AS_OF}")).await;
            assert_eq!(status, 200);
            assert!(
                page.contains(&format!(
                    "href=\"/feedlots/{YARD}/lots/{lot}/closeout.pdf?as_of=2026%2D03%2D21T12%3A00%3A00Z\""
                )),
                "the lot page links its PDF at the same moment: {page}"
            );
            let title = if lot == "L2" {
                "Closeout: lot L2".to_owned()
            } else {
                "Lot L1 (open: its report to date)".to_owned()
            };
            assert!(text.starts_with(&format!("{title}\n")), "{text}");
            assert!(
                text.contains(&format!(
                    "As of 2026-03-21 12:00 UTC · units {}",
                    if units == "us" {
                        "US (lb, $/cwt)"
                    } else {
                        "metric (kg, $/kg)"
                    }
                )),
                "{text}"
            );
            let rows = measures_of(&page);
            assert_eq!(rows.len(), if lot == "L2" { 20 } else { 17 }, "{rows:?}");
            assert_lines(
                &text,
                &["Measure".into(), format!("Value ({units})")],
                "header",
            );
            for (label, value) in &rows {
                assert_lines(
                    &text,
                    &[label.clone(), value.clone()],
                    &format!("{lot} {units} {label}"),
                );
            }
            let l = json(&format!("{api}/lots/{lot}?as_of={AS_OF}")).await;
            let n = |key: &str| l[key].as_f64().unwrap();
            let money_per_weight = |key: &str| match units {
                "metric" => n(key) / 100.0,
                _ => n(key) * dashboards::analytics::KG_PER_CWT / 100.0,
            };
            let per = if units == "us" { "cwt" } else { "kg" };
            for (label, value) in [
                ("Days on feed", fixed(n("days_on_feed"), 1)),
                (
                    "In weight, pay",
                    format!(
                        "{} {w} per head · {} {w} lot total",
                        fixed(kg(n("in_weight_kg")), 0),
                        fixed(kg(n("in_weight_kg") * n("head_in")), 0)
                    ),
                ),
                (
                    "ADG, deads out",
                    format!("{} {w}/d", fixed(kg(n("adg_deads_out_kg")), 2)),
                ),
                (
                    "ADG, deads in",
                    format!("{} {w}/d", fixed(kg(n("adg_deads_in_kg")), 2)),
                ),
                (
                    "Dry-matter intake",
                    format!("{} {w}/hd/d", fixed(kg(n("dmi_kg")), 2)),
                ),
                ("Feed:gain, dry matter", fixed(n("feed_to_gain_dm"), 2)),
                (
                    "Feed cost of gain",
                    format!(
                        "{} USD/{per}",
                        fixed(money_per_weight("feed_cost_of_gain_per_kg_minor"), 2)
                    ),
                ),
                (
                    "Cost of gain, all-in",
                    format!(
                        "{} USD/{per}",
                        fixed(money_per_weight("cost_of_gain_per_kg_minor"), 2)
                    ),
                ),
                (
                    "Total cost per live head",
                    format!("{} USD", fixed(n("total_cost_per_head_minor") / 100.0, 2)),
                ),
                ("Death loss", format!("{} %", fixed(n("death_loss_pct"), 1))),
            ] {
                assert_lines(
                    &text,
                    &[label.into(), value],
                    &format!("{lot} {units} vs JSON"),
                );
            }
            let breakeven = format!("Breakeven at {} {w}", fixed(kg(n("sale_weight_kg")), 0));
            assert_lines(
                &text,
                &[
                    breakeven,
                    format!(
                        "{} USD/{per}",
                        fixed(money_per_weight("breakeven_per_kg_minor"), 2)
                    ),
                ],
                "breakeven vs JSON",
            );
            assert_lines(
                &text,
                &[
                    "Head in / dead / shipped / on feed".into(),
                    format!(
                        "{} / {} / {} / {}",
                        l["head_in"], l["head_dead"], l["head_shipped"], l["head_on_hand"]
                    ),
                ],
                "head vs JSON",
            );
            // Cost per live head by part (the page's chart): the JSON's totals over live head.
            let live = (l["head_in"].as_f64().unwrap() - l["head_dead"].as_f64().unwrap()).max(1.0);
            for (part, key) in [
                ("Cattle", "purchase_minor"),
                ("Feed", "feed_cost_minor"),
                ("Yardage", "yardage_minor"),
                ("Medicine", "medicine_minor"),
                ("Total", "total_cost_minor"),
            ] {
                assert_lines(
                    &text,
                    &[
                        part.into(),
                        format!("{} USD", fixed(n(key) / live / 100.0, 2)),
                        format!("{} USD", fixed(n(key) / 100.0, 2)),
                    ],
                    &format!("{lot} {part} cost"),
                );
            }
            if lot == "L2" {
                // Hand-worked (analytics.rs): medicine $5 over 2 head; 350 kg in, 400 out.
                assert_lines(
                    &text,
                    &["Medicine".into(), "2.50 USD".into(), "5.00 USD".into()],
                    "L2 medicine",
                );
                let out = if units == "us" { "882 lb" } else { "400 kg" };
                assert_lines(
                    &text,
                    &["Out weight, pay".into(), out.into()],
                    "L2 out weight",
                );
            }
        }

        // The monthly report of March 2026: the lots and pens pages as of the month's last
        // second, and the month's movements and feed against the JSON at both ends.
        let text = pdf_at(&format!("{yard}/reports/monthly.pdf?month=2026-03")).await;
        assert!(
            text.starts_with(&format!("Monthly report: {YARD}, 2026-03\n")),
            "{text}"
        );
        let (_, lots_page) = get_text(&format!("{yard}/lots?as_of={month_end}")).await;
        assert!(
            lots_page.contains(&format!("href=\"/feedlots/{YARD}/reports/monthly.pdf\"")),
            "every yard page links the monthly report"
        );
        assert_rows_printed(
            &text,
            &lots_page,
            "lots",
            LOT_KEYS,
            &format!("lots {units}"),
        );
        let (_, pens_page) = get_text(&format!("{yard}/pens?as_of={month_end}")).await;
        assert_rows_printed(
            &text,
            &pens_page,
            "pens",
            PEN_KEYS,
            &format!("pens {units}"),
        );
        let lots = json(&format!("{api}/lots?as_of={month_end}")).await;
        let before = json(&format!("{api}/lots?as_of=2026-02-28T23:59:59Z")).await;
        assert_eq!(before.as_array().unwrap().len(), 0, "nothing before March");
        let lots = lots.as_array().unwrap();
        let sum = |key: &str| lots.iter().map(|l| l[key].as_i64().unwrap()).sum::<i64>();
        let pens = json(&format!("{api}/pens?as_of={month_end}")).await;
        let pens = pens.as_array().unwrap();
        let fed = |key: &str| pens.iter().map(|p| p[key].as_f64().unwrap()).sum::<f64>();
        let head_days = fed("head_days");
        let cost = fed("feed_cost_minor");
        for (label, value) in [
            ("Lots open at the month's end", "1".to_owned()),
            ("Head on feed at the month's start", "0".into()),
            ("Head placed in the month", sum("head_in").to_string()),
            ("Head dead in the month", sum("head_dead").to_string()),
            ("Head shipped in the month", sum("head_shipped").to_string()),
            (
                "Head on feed at the month's end",
                sum("head_on_hand").to_string(),
            ),
            ("Head-days in the month", fixed(head_days, 1)),
            (
                "Feed fed in the month, as fed",
                format!("{} {w}", fixed(kg(fed("as_fed_kg")), 0)),
            ),
            (
                "Feed fed in the month, dry matter",
                format!("{} {w}", fixed(kg(fed("dry_matter_kg")), 0)),
            ),
            (
                "Feed cost in the month",
                format!("{} USD", fixed(cost / 100.0, 2)),
            ),
            (
                "Feed cost per head per day in the month",
                format!("{} USD", fixed(cost / head_days / 100.0, 2)),
            ),
        ] {
            assert_lines(&text, &[label.into(), value], &format!("monthly {units}"));
        }
        // Hand-worked: 6 head placed, 1 dead, 2 shipped; 220 kg fed for $44.40, by pen
        // P1 40 + 50 + 45 kg ($7.20 + $9.50 + $10.15), P2 20 + 25 + 10 ($3.60 + $4.75 + $2.30),
        // P3 30 ($6.90).
        let movements = [
            ["L1", "4", "1", "0", "0", "3"],
            ["L2", "2", "0", "2", "0", "0"],
            ["All lots", "6", "1", "2", "0", "3"],
        ];
        for row in movements {
            assert_lines(&text, &row.map(String::from), "movements");
        }
        assert_lines(
            &text,
            &["Head placed in the month".into(), "6".into()],
            "hand-worked",
        );
        let total_fed = if units == "us" { "485 lb" } else { "220 kg" };
        assert_lines(
            &text,
            &["Feed fed in the month, as fed".into(), total_fed.into()],
            "hand-worked feed",
        );
        assert_lines(
            &text,
            &["Feed cost in the month".into(), "44.40 USD".into()],
            "hand-worked cost",
        );
        for (pen, kg_fed, dollars) in [
            ("P1", 135.0, "26.85"),
            ("P2", 55.0, "10.65"),
            ("P3", 30.0, "6.90"),
        ] {
            let p = pens.iter().find(|p| p["pen_id"] == pen).unwrap();
            assert_lines(
                &text,
                &[
                    pen.into(),
                    fixed(p["head_days"].as_f64().unwrap(), 1),
                    fixed(kg(kg_fed), 0),
                ],
                &format!("{pen} fed"),
            );
            assert!(
                text.contains(&format!("\n{dollars} USD\n")),
                "{pen} ${dollars}: {text}"
            );
        }

        // April: nothing came or went; L1's 3 head on feed at both ends, nothing fed.
        let april = pdf_at(&format!("{yard}/reports/monthly.pdf?month=2026-04")).await;
        assert_lines(
            &april,
            &["Head on feed at the month's start".into(), "3".into()],
            "april",
        );
        assert_lines(
            &april,
            &["Head placed in the month".into(), "0".into()],
            "april",
        );
        assert_lines(
            &april,
            &["L1", "0", "0", "0", "3", "3"].map(String::from),
            "april movements",
        );
        assert_lines(
            &april,
            &["Feed cost in the month".into(), "0.00 USD".into()],
            "april feed",
        );
    }

    // A bad month is a 400 naming the field; a month to come too.
    for bad in ["2026-13", "March", "2026-3", "2999-01", "1999-12"] {
        let (status, body) = get_text(&format!("{yard}/reports/monthly.pdf?month={bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.starts_with("month: "), "{bad}: {body}");
    }
    let (status, _) = get_text(&format!("{yard}/lots/NOPE/closeout.pdf")).await;
    assert_eq!(status, 404);
    // Another yard's reports: refused as every yard route is; without a token, sign in first.
    for path in ["lots/L2/closeout.pdf", "reports/monthly.pdf?month=2026-03"] {
        let (status, _) = get_text(&format!("{base}/feedlots/yard-other/{path}")).await;
        assert_eq!(status, 403, "{path} of another yard");
        let open = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(format!("{yard}/{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(open.status().as_u16(), 303, "{path} without a token");
    }

    stored.shutdown.cancel();
    stored.task.await.unwrap().unwrap();
}
