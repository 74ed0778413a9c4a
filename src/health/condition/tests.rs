//! The condition language: parsing, judging, and never panicking.

use super::*;

fn http(status: u16, body: &str, latency_ms: u64) -> Observation {
    Observation {
        status: Some(status),
        latency: Some(Duration::from_millis(latency_ms)),
        body: Some(body.to_string()),
        headers: vec![("content-type".into(), "application/json".into())],
        ..Observation::default()
    }
}

fn judge(condition: &str, seen: &Observation) -> Result<(), String> {
    parse(condition).expect(condition).evaluate(seen).map_err(|f| f.message)
}

#[test]
fn the_issue_examples_parse_and_pass_on_a_healthy_answer() {
    let seen = http(200, r#"{"status":"healthy","totalAgents":1204,"items":[{"id":7}]}"#, 35);
    for condition in [
        "status == 200",
        "status < 500",
        r#"json.status == "healthy""#,
        "json.totalAgents >= 1000",
        "json.items[0].id == 7",
        "json.items.0.id > 3",
        r#"body contains "healthy""#,
        r#"body !contains "error""#,
        "latency < 200ms",
        r#"header.Content-Type contains "json""#,
        "  status   ==   200  ",
    ] {
        assert_eq!(judge(condition, &seen), Ok(()), "{condition}");
    }
}

#[test]
fn failures_name_what_was_seen_and_what_was_expected() {
    let seen = http(503, r#"{"status":"degraded"}"#, 812);
    assert_eq!(
        judge(r#"json.status == "healthy""#, &seen),
        Err(r#"json.status was "degraded", expected "healthy""#.into())
    );
    assert_eq!(judge("status == 200", &seen), Err("status was 503, expected 200".into()));
    assert_eq!(judge("latency < 200ms", &seen), Err("latency was 812ms, expected < 200ms".into()));
    assert_eq!(judge("json.totalAgents >= 1000", &seen), Err("json.totalAgents is missing".into()));
    assert_eq!(judge(r#"body contains "ok""#, &seen), Err(r#"body does not contain "ok""#.into()));
    let garbage = http(200, "<html>oops</html>", 5);
    assert_eq!(judge(r#"json.status == "healthy""#, &garbage), Err("body is not JSON".into()));
}

#[test]
fn values_from_commands_and_queries_compare_as_numbers() {
    let seen = Observation { value: Some(Value::from_text(" 42\n")), exit: Some(0), ..Observation::default() };
    assert_eq!(judge("value > 10", &seen), Ok(()));
    assert_eq!(judge("value == 42", &seen), Ok(()));
    assert_eq!(judge("exit == 0", &seen), Ok(()));
    assert_eq!(judge("value < 10", &seen), Err("value was 42, expected < 10".into()));
    let text = Observation { value: Some(Value::from_text("ready")), ..Observation::default() };
    assert_eq!(judge(r#"value == "ready""#, &text), Ok(()));
}

#[test]
fn parse_errors_point_at_the_offending_part() {
    let error = |text: &str| parse(text).expect_err(text);
    assert_eq!(error("stauts == 200").offset, 0);
    assert!(error("stauts == 200").message.contains("unknown subject `stauts`"));
    assert_eq!(error("status = 200").offset, 7);
    assert!(error("status = 200").message.contains("write `==`"));
    assert_eq!(error("status ~ 200").offset, 7);
    assert!(error("latency < 200").message.contains("needs a unit"));
    assert_eq!(error("latency < 200").offset, 10);
    assert!(error(r#"json.status == "healthy"#).message.contains("never closed"));
    assert!(error("json.status == healthy").message.contains("quote text"));
    assert!(error("json.items[x] == 1").message.contains("whole number"));
    assert_eq!(error("json.items[x] == 1").offset, 11);
    assert!(error("status == 200 extra").message.contains("after the value"));
    assert!(error("body < 3").message.contains("quoted string"));
    assert!(error("").message.contains("expected a subject"));
    assert!(error("status").message.contains("expected an operator"));
    assert!(error("status ==").message.contains("expected a value"));
}

#[test]
fn kinds_limit_the_subjects() {
    let json = parse(r#"json.status == "ok""#).unwrap();
    assert!(json.applies_to("http").is_ok());
    assert!(json.applies_to("tcp").unwrap_err().contains("cannot apply to a tcp check"));
    assert!(parse("latency < 1s").unwrap().applies_to("tcp").is_ok());
    assert!(parse("value > 1").unwrap().applies_to("sqlite").is_ok());
}

#[test]
fn the_parser_never_panics_on_arbitrary_input() {
    // A cheap deterministic fuzz: every prefix and many byte mixes of tricky fragments.
    let fragments = [
        "json",
        ".",
        "[",
        "]",
        "0",
        "\"",
        "'",
        "\\",
        "==",
        "<",
        ">=",
        "!",
        "contains",
        " ",
        "ms",
        "é",
        "status",
        "latency",
        "1e999",
        "-",
        "header.",
        "value",
        "\u{1b}",
        "9999999999999999999999",
        "null",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        let mut text = String::new();
        for _ in 0..(seed % 7 + 1) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push_str(fragments[(seed % fragments.len() as u64) as usize]);
        }
        if let Ok(condition) = parse(&text) {
            let _ = condition.evaluate(&http(200, &text, 1));
        }
        for end in 0..=text.len() {
            if text.is_char_boundary(end) {
                let _ = parse(&text[..end]);
            }
        }
    }
}

#[test]
fn nan_fails_every_comparison_but_not_equal_and_infinity_is_above_any_number() {
    let seen = |value: f64| Observation { value: Some(Value::Number(value)), ..Observation::default() };
    let holds = |text: &str, value: f64| parse(text).unwrap().evaluate(&seen(value)).is_ok();
    for text in ["value < 0.9", "value >= 0.9", "value == 1", "value > -1"] {
        assert!(!holds(text, f64::NAN), "{text} must fail on NaN");
    }
    assert!(holds("value != 1", f64::NAN));
    assert!(holds("value > 1e300", f64::INFINITY) && !holds("value < 0.9", f64::INFINITY));
    assert!(holds("value < -1e300", f64::NEG_INFINITY));
    let failure = parse("value < 0.9").unwrap().evaluate(&seen(f64::INFINITY)).unwrap_err();
    assert_eq!(failure.message, "value was +Inf, expected < 0.90");
}
