//! The OpenAPI document names every status code its operations answer: each
//! operation it lists is called the ways a client gets wrong (no credentials,
//! an unknown id, a body that is not JSON, unreadable JSON, JSON of the wrong
//! shape, an empty object, a body over the limit), and every answer's status must be among that
//! operation's documented responses. Nothing here is valid input, so nothing
//! is changed.

use app::domain::role::Role;
use reqwest::Method;
use serde_json::Value;
use tests::{Backend, spawn_app};

/// The operation's path with every parameter replaced by a value that names nothing.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        let name = &rest[start + 1..end];
        out.push_str(if name.contains("id") || name == "n" || name == "action" {
            "987654"
        } else {
            "nothing"
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn every_status_an_operation_answers_is_in_the_document() {
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let token = app.api_token(&admin, "openapi", "admin").await;
    let document: Value =
        app.client().get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let anonymous = reqwest::Client::new();
    let authorised = tests::bearer(&token);
    let oversized = format!("{{\"text\": \"{}\"}}", "x".repeat(300 * 1024));

    let mut undocumented = Vec::new();
    let mut calls = 0;
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            let documented: Vec<&String> = operation["responses"].as_object().unwrap().keys().collect();
            let url = app.url(&concrete(path));
            let with_body = operation.get("requestBody").is_some();
            let mut tries: Vec<(&str, reqwest::RequestBuilder)> = vec![
                ("no credentials", anonymous.request(method.clone(), &url)),
                ("an unknown id", authorised.request(method.clone(), &url)),
            ];
            if with_body {
                let json = |body: String| {
                    authorised
                        .request(method.clone(), &url)
                        .header("content-type", "application/json")
                        .body(body)
                };
                tries.push((
                    "a text/plain body",
                    authorised.request(method.clone(), &url).header("content-type", "text/plain").body("{}"),
                ));
                tries.push(("unreadable JSON", json("{\"title\":".to_owned())));
                tries.push(("JSON of the wrong shape", json("[1, 2, 3]".to_owned())));
                tries.push(("an empty object", json("{}".to_owned())));
                tries.push(("a body over the limit", json(oversized.clone())));
            }
            for (what, request) in tries {
                let status = request.send().await.unwrap().status();
                calls += 1;
                if !documented.iter().any(|code| code.as_str() == status.as_str()) {
                    undocumented
                        .push(format!("{method} {path} with {what}: {status}, documented {documented:?}"));
                }
            }
        }
    }
    assert!(calls > 100, "the document lists the API's operations ({calls} calls)");
    assert!(undocumented.is_empty(), "undocumented answers:\n{}", undocumented.join("\n"));
}
