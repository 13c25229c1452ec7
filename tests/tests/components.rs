//! Component admin: create, edit, delete, with validation and a preview of
//! what a selector matches, on both backends.

use app::domain::role::Role;
use tests::{TestApp, location, on_both_backends};

async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client.post(app.url(path)).form(form).send().await.unwrap()
}

async fn listed(app: &TestApp, client: &reqwest::Client) -> String {
    app.get(client, "/admin/components").await.text().await.unwrap()
}

/// The id of the listed component named `name`.
fn id_of(page: &str, name: &str) -> String {
    let at = page.find(&format!("<td>{name}</td>")).unwrap_or_else(|| panic!("{name} is listed"));
    let row = &page[..at];
    let start = row.rfind("data-component-id=\"").unwrap() + "data-component-id=\"".len();
    row[start..].split('"').next().unwrap().to_owned()
}

on_both_backends! {
    async fn an_admin_creates_edits_and_deletes_a_component(app) {
        let admin = app.signed_in("admin@example.com", Role::Admin).await;
        let created = post(&app, &admin, "/admin/components",
            &[("name", "Orders"), ("namespace", "shop"), ("selector", "app=orders"), ("group", "Shop")]).await;
        assert_eq!(created.status(), 303);
        assert_eq!(location(&created), "/admin/components?saved=Orders");
        let page = listed(&app, &admin).await;
        assert!(page.contains("app=orders"));
        let id = id_of(&page, "Orders");

        let edited = post(&app, &admin, &format!("/admin/components/{id}"),
            &[("name", "Orders & returns"), ("namespace", "shop"), ("selector", "app in (orders, returns)")]).await;
        assert_eq!(edited.status(), 303);
        assert!(listed(&app, &admin).await.contains("Orders &amp; returns"));

        let deleted = post(&app, &admin, &format!("/admin/components/{id}/delete"), &[]).await;
        assert_eq!(deleted.status(), 303);
        assert!(!listed(&app, &admin).await.contains("Orders &amp; returns"));
    }

    async fn a_selector_that_does_not_parse_is_refused_with_the_reason_and_nothing_is_lost(app) {
        let admin = app.signed_in("admin@example.com", Role::Admin).await;
        let refused = post(&app, &admin, "/admin/components",
            &[("name", "Broken"), ("namespace", "shop"), ("selector", "app in (checkout"), ("description", "kept")]).await;
        assert_eq!(refused.status(), 422);
        let page = refused.text().await.unwrap();
        assert!(page.contains("The selector does not parse"), "the reason is shown");
        assert!(page.contains("value=\"app in (checkout\""), "what was typed is kept");
        assert!(page.contains("value=\"kept\""));
        assert!(!listed(&app, &admin).await.contains("Broken"), "nothing was stored");
    }

    async fn a_duplicate_name_is_refused_whatever_its_case(app) {
        let admin = app.signed_in("admin@example.com", Role::Admin).await;
        post(&app, &admin, "/admin/components", &[("name", "Reviews"), ("namespace", "shop")]).await;
        let refused = post(&app, &admin, "/admin/components", &[("name", "REVIEWS"), ("namespace", "shop")]).await;
        assert_eq!(refused.status(), 422);
        let page = refused.text().await.unwrap();
        assert!(page.contains("already exists") && page.contains("REVIEWS"), "{page}");
    }

    async fn only_admins_may_change_components(app) {
        let responder = app.signed_in("r@example.com", Role::Responder).await;
        let refused = post(&app, &responder, "/admin/components", &[("name", "X"), ("namespace", "shop")]).await;
        assert_eq!(refused.status(), 403);
        let anonymous = post(&app, &app.client(), "/admin/components", &[("name", "X"), ("namespace", "shop")]).await;
        assert_eq!(anonymous.status(), 401);
        assert_eq!(app.get(&responder, "/api/v1/components").await.status(), 200, "responders read health");
        let viewer = app.signed_in("v@example.com", Role::Viewer).await;
        assert_eq!(app.get(&viewer, "/api/v1/components").await.status(), 403);
    }

    async fn the_preview_lists_the_workloads_a_selector_matches_without_javascript(app) {
        let admin = app.signed_in("admin@example.com", Role::Admin).await;
        // The app watches its own drill cluster; wait until it has read it.
        let page = tests::eventually("the preview to list checkout", 20, || async {
            let page = app.get(&admin, "/admin/components?namespace=shop&selector=app%3Dcheckout").await.text().await.unwrap();
            page.contains("deployment shop/checkout").then_some(page)
        }).await;
        assert!(!page.contains("deployment shop/storefront"));
        let nothing = app.get(&admin, "/admin/components?namespace=shop&selector=app%3Dghost").await.text().await.unwrap();
        assert!(nothing.contains("No workload matches"));
        let broken = app.get(&admin, "/admin/components?namespace=shop&selector=app+in+(").await.text().await.unwrap();
        assert!(broken.contains("The selector does not parse"));
    }
}
