//! Scale indicator line formats (see `shared/reference/devices.md`).

use schemas::{GrossNet, Weight, WeightUnit};

/// What a simulated indicator shows about the weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indication {
    /// Settled weight.
    Stable,
    /// Platform moving.
    Motion,
    /// Empty platform at the centre of zero.
    CenterOfZero,
}

/// Formats `value` the way an indicator with graduation `graduation` displays it: whole
/// numbers for graduations of 1 or more, one decimal below that. Rounds to the graduation.
pub fn displayed_value(value: f64, graduation: f64) -> f64 {
    let graduation = if graduation > 0.0 { graduation } else { 1.0 };
    (value / graduation).round() * graduation
}

fn value_text(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{}", value.abs() as i64)
    } else {
        format!("{:.1}", value.abs())
    }
}

/// A Rice Lake "Consolidated Controls" stream line: `<STX><POL><wwwwwww><UNIT><G/N><S><CR><LF>`,
/// e.g. stable 1,234 lb gross is `\x02    1234LG \r\n`.
pub fn rice_lake_line(weight: Weight, gross_net: GrossNet, indication: Indication) -> Vec<u8> {
    let polarity = if weight.value < 0.0 { '-' } else { ' ' };
    let unit = match weight.unit {
        WeightUnit::Lb => 'L',
        WeightUnit::Kg => 'K',
    };
    let gn = match gross_net {
        GrossNet::Gross => 'G',
        GrossNet::Net => 'N',
    };
    let status = match indication {
        Indication::Stable => ' ',
        Indication::Motion => 'M',
        Indication::CenterOfZero => 'Z',
    };
    format!(
        "\x02{polarity}{:>7}{unit}{gn}{status}\r\n",
        value_text(weight.value)
    )
    .into_bytes()
}

/// A Tru-Test poll answer carrying a stable (`WS`) or live (`WL`) weight in kg, with the EID
/// the indicator's own reader saw: `[ID982000123456789,WS412.5]`.
pub fn tru_test_answer(eid: Option<&schemas::Eid>, weight_kg: f64, stable: bool) -> Vec<u8> {
    let field = if stable { "WS" } else { "WL" };
    let mut parts = Vec::new();
    if let Some(eid) = eid {
        parts.push(format!("ID{eid}"));
    }
    parts.push(format!("{field}{weight_kg:.1}"));
    format!("[{}]\r\n", parts.join(",")).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rice_lake_lines_match_the_documented_examples_byte_for_byte() {
        let stable = rice_lake_line(Weight::from_lb(1234.0), GrossNet::Gross, Indication::Stable);
        assert_eq!(stable, b"\x02    1234LG \r\n");
        let moving = rice_lake_line(Weight::from_lb(1230.0), GrossNet::Gross, Indication::Motion);
        assert_eq!(moving, b"\x02    1230LGM\r\n");
    }

    #[test]
    fn kilograms_negative_net_and_zero_render_in_seven_columns() {
        assert_eq!(
            rice_lake_line(Weight::from_kg(412.5), GrossNet::Net, Indication::Stable),
            b"\x02   412.5KN \r\n"
        );
        assert_eq!(
            rice_lake_line(Weight::from_kg(-3.0), GrossNet::Gross, Indication::Motion),
            b"\x02-      3KGM\r\n"
        );
        assert_eq!(
            rice_lake_line(
                Weight::from_lb(0.0),
                GrossNet::Gross,
                Indication::CenterOfZero
            ),
            b"\x02       0LGZ\r\n"
        );
    }

    #[test]
    fn displayed_values_round_to_the_graduation() {
        assert_eq!(displayed_value(412.26, 0.5), 412.5);
        assert_eq!(displayed_value(1233.6, 1.0), 1234.0);
    }

    #[test]
    fn tru_test_answers_match_the_documented_shape() {
        let eid = schemas::Eid::parse("982000123456789").unwrap();
        assert_eq!(
            tru_test_answer(Some(&eid), 412.5, true),
            b"[ID982000123456789,WS412.5]\r\n"
        );
        assert_eq!(tru_test_answer(None, 80.0, false), b"[WL80.0]\r\n");
    }
}
