//! Which ClickHouse errors are the rows' fault.
//!
//! An insert can fail because ClickHouse is away, busy or read-only (retry the same batch) or
//! because of what a row holds (a value it cannot parse or convert, a `throwIf` guard): such a
//! batch would fail forever and stall its partition. Only exceptions from a server that
//! answered, with a code in [`ROW_CODES`], count as the rows' fault; the batch is then split
//! down to the refused rows ([`super::writer::insert_rows_isolating`]). Errors that concern
//! every row alike (an unknown table or column: a schema behind the code) are not in the list:
//! they stall and alert rather than dead-letter a whole yard's records.

/// ClickHouse exception codes caused by a row's values (ClickHouse 18.16 numbering, unchanged
/// since): CANNOT_PARSE_TEXT 6, CANNOT_PARSE_QUOTED_STRING 26,
/// CANNOT_PARSE_INPUT_ASSERTION_FAILED 27, CANNOT_PARSE_DATE 38, CANNOT_PARSE_DATETIME 41,
/// TYPE_MISMATCH 53, ARGUMENT_OUT_OF_BOUND 69, CANNOT_CONVERT_TYPE 70, CANNOT_PARSE_NUMBER 72,
/// INCORRECT_DATA 117, TOO_LARGE_STRING_SIZE 131, FUNCTION_THROW_IF_VALUE_IS_NON_ZERO 395.
pub const ROW_CODES: [u32; 12] = [6, 26, 27, 38, 41, 53, 69, 70, 72, 117, 131, 395];

/// The exception code in a ClickHouse error message (`Code: 395, e.displayText() = …`).
pub fn exception_code(message: &str) -> Option<u32> {
    let at = message.find("Code: ")? + "Code: ".len();
    let digits: String = message[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Whether `error` says a row of the insert cannot be stored, whatever is retried.
pub fn is_row_rejection(error: &clickhouse::error::Error) -> bool {
    match error {
        clickhouse::error::Error::BadResponse(message) => {
            exception_code(message).is_some_and(|code| ROW_CODES.contains(&code))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clickhouse::error::Error;

    #[test]
    fn a_row_error_is_told_from_an_outage_and_from_a_schema_error() {
        let guard = "Code: 395, e.displayText() = DB::Exception: Value passed to 'throwIf' function is non zero";
        assert_eq!(exception_code(guard), Some(395));
        assert!(is_row_rejection(&Error::BadResponse(guard.into())));
        let read_only = "Code: 242, e.displayText() = DB::Exception: Table is in readonly mode";
        assert!(!is_row_rejection(&Error::BadResponse(read_only.into())));
        let no_column = "Code: 16, e.displayText() = DB::Exception: No such column pen_id";
        assert!(!is_row_rejection(&Error::BadResponse(no_column.into())));
        assert!(!is_row_rejection(&Error::TimedOut));
        assert_eq!(exception_code("bad gateway"), None);
    }
}
