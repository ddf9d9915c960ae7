//! CSV exports (RFC 4180): one way to write a record, with cells a spreadsheet would run as
//! formulas defused. Used by the audit log, personal-data and records-of-processing exports.

/// Appends one record: cells quoted when they hold a comma, quote or line break; a cell
/// starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with an apostrophe.
/// Ends with `\r\n`.
pub fn write_record(out: &mut String, cells: &[&str]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let guarded;
        let cell = if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            guarded = format!("'{cell}");
            guarded.as_str()
        } else {
            cell
        };
        if cell.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(cell);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        let mut out = String::new();
        super::write_record(&mut out, &["a", "b,c", "say \"hi\"", "=SUM(A1)", "-1", "line\nbreak"]);
        assert_eq!(out, "a,\"b,c\",\"say \"\"hi\"\"\",'=SUM(A1),'-1,\"line\nbreak\"\r\n");
    }
}
