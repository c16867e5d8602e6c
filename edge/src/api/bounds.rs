//! How much a request may carry: the body, every string and every list in it. Checked on the
//! JSON before it is decoded into a record, so every field is covered, present and future.

use serde_json::Value;

use super::ApiError;

/// Largest request body, bytes; a larger one is answered `413 Payload Too Large`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest string value (ids, names, products, origins), characters.
pub const MAX_STRING_CHARS: usize = 200;
/// Longest free-text value (a field named `notes`), characters.
pub const MAX_NOTES_CHARS: usize = 2000;
/// Most items in a list (ingredients and the like).
pub const MAX_LIST_ITEMS: usize = 100;
/// Most items in a list of animals (`eids`): a shipment or placement of a whole lot.
pub const MAX_EIDS: usize = 1000;

/// Refuses the first string or list over its bound, naming it by path (`ingredients[3].name`).
pub fn check(value: &Value) -> Result<(), ApiError> {
    walk(value, &mut String::new(), "")
}

fn walk(value: &Value, path: &mut String, name: &str) -> Result<(), ApiError> {
    match value {
        Value::String(s) => {
            let max = if name == "notes" {
                MAX_NOTES_CHARS
            } else {
                MAX_STRING_CHARS
            };
            let chars = s.chars().count();
            if chars > max {
                return Err(too_big(
                    path,
                    format!("is {chars} characters long (at most {max})"),
                ));
            }
        }
        Value::Array(items) => {
            let max = if name == "eids" {
                MAX_EIDS
            } else {
                MAX_LIST_ITEMS
            };
            if items.len() > max {
                let n = items.len();
                return Err(too_big(path, format!("lists {n} items (at most {max})")));
            }
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, name)?;
                path.truncate(len);
            }
        }
        Value::Object(fields) => {
            for (key, field) in fields {
                if key.chars().count() > MAX_STRING_CHARS {
                    return Err(too_big(path, "has a field name that is too long".into()));
                }
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(field, path, key)?;
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

fn too_big(path: &str, why: String) -> ApiError {
    let field = if path.is_empty() { "." } else { path };
    ApiError::Malformed {
        message: format!("field `{field}` {why}"),
        field: Some(field.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refused(value: &Value) -> (String, String) {
        match check(value) {
            Err(ApiError::Malformed {
                field: Some(field),
                message,
            }) => (field, message),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn every_string_and_list_is_bounded_and_the_refusal_names_its_path() {
        let ok = json!({"lot_id": "L".repeat(200), "notes": "n".repeat(2000),
                        "eids": vec!["982000000000001"; 1000], "ingredients": vec![json!({"name": "corn"}); 100]});
        assert!(check(&ok).is_ok());
        let (field, message) = refused(&json!({"lot_id": "L".repeat(201)}));
        assert_eq!(field, "lot_id");
        assert!(message.contains("201 characters"), "{message}");
        assert_eq!(refused(&json!({"notes": "n".repeat(2001)})).0, "notes");
        assert_eq!(
            refused(&json!({"ingredients": vec![json!({"name": "corn"}); 101]})).0,
            "ingredients"
        );
        assert_eq!(refused(&json!({"eids": vec!["982"; 1001]})).0, "eids");
        let deep = json!({"ingredients": [{"name": "corn"}, {"name": "x".repeat(300)}]});
        assert_eq!(refused(&deep).0, "ingredients[1].name");
        assert_eq!(
            refused(&json!({"eids": ["982000000000001", "9".repeat(201)]})).0,
            "eids[1]"
        );
    }
}
