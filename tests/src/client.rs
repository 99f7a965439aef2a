//! A typed client over [`TestApp::call`]: the API's resources as one key's holder sees them,
//! each request one line (`app.leads(&key).create(json!(...))`). Every method answers the
//! status and the JSON body (`Null` when empty), as `call` does; the few that assert say so.

use crate::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// An answer: its status and JSON body (`Null` when empty).
pub type Answer = (StatusCode, Value);

impl TestApp {
    /// `GET path` with `key`.
    pub async fn get(&self, key: &str, path: &str) -> Answer {
        self.call(Method::GET, path, Some(key), None).await
    }

    /// `PATCH path` with `key`.
    pub async fn patch(&self, key: &str, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(key), Some(body)).await
    }

    /// `DELETE path` with `key`, no body.
    pub async fn delete(&self, key: &str, path: &str) -> Answer {
        self.call(Method::DELETE, path, Some(key), None).await
    }

    /// A request through the edge (with `key` as `X-API-Key`), not sent yet: for tests that
    /// set other headers or a raw body, or read the answer's headers.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let req = self.client.request(method, format!("{}{path}", self.base));
        match key {
            Some(key) => req.header("X-API-Key", key),
            None => req,
        }
    }

    /// [`TestApp::request`], sent: the raw answer.
    pub async fn send(&self, method: Method, path: &str, key: Option<&str>) -> reqwest::Response {
        self.request(method, path, key).send().await.unwrap()
    }

    /// `POST /register` with `credentials` (no key).
    pub async fn register_as(&self, credentials: Value) -> Answer {
        self.call(Method::POST, "/register", None, Some(credentials))
            .await
    }

    /// `POST /login` with `credentials` (no key).
    pub async fn login(&self, credentials: Value) -> Answer {
        self.call(Method::POST, "/login", None, Some(credentials))
            .await
    }

    /// The account's e-mail address.
    pub async fn email_of(&self, account_id: &str) -> String {
        sqlx::query_scalar("SELECT email FROM accounts WHERE account_id = $1::uuid")
            .bind(account_id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Leads (and their attributes and scores) as the holder of `key` sees them.
    pub fn leads<'a>(&'a self, key: &'a str) -> Leads<'a> {
        Leads { app: self, key }
    }

    /// Notes as the holder of `key` sees them.
    pub fn notes<'a>(&'a self, key: &'a str) -> Notes<'a> {
        Notes { app: self, key }
    }

    /// Scoring rules and rescore jobs as the holder of `key` sees them.
    pub fn rules<'a>(&'a self, key: &'a str) -> Rules<'a> {
        Rules { app: self, key }
    }

    /// Webhook endpoints and their delivery logs as the holder of `key` sees them.
    pub fn webhooks<'a>(&'a self, key: &'a str) -> Webhooks<'a> {
        Webhooks { app: self, key }
    }
}

/// `/leads`, `/leads/batch` and a lead's `/attributes` and `/score`.
#[derive(Clone, Copy)]
pub struct Leads<'a> {
    app: &'a TestApp,
    key: &'a str,
}

impl Leads<'_> {
    /// `POST /leads`: a create (201) or a merge (200).
    pub async fn create(self, lead: Value) -> Answer {
        self.app.post(self.key, "/leads", lead).await
    }

    /// `POST /leads`, asserting 201; answers the new lead's id.
    pub async fn create_id(self, lead: Value) -> String {
        let (status, body) = self.create(lead).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// `GET /leads/{id}`.
    pub async fn get(self, id: &str) -> Answer {
        self.app.get(self.key, &format!("/leads/{id}")).await
    }

    /// `PUT /leads/{id}`.
    pub async fn update(self, id: &str, changes: Value) -> Answer {
        self.app
            .put(self.key, &format!("/leads/{id}"), changes)
            .await
    }

    /// `PATCH /leads/{id}`.
    pub async fn patch(self, id: &str, changes: Value) -> Answer {
        self.app
            .patch(self.key, &format!("/leads/{id}"), changes)
            .await
    }

    /// `DELETE /leads/{id}`.
    pub async fn delete(self, id: &str) -> Answer {
        self.app.delete(self.key, &format!("/leads/{id}")).await
    }

    /// `GET /leads?{query}` (one page).
    pub async fn list(self, query: &str) -> Answer {
        self.app.get(self.key, &format!("/leads?{query}")).await
    }

    /// `POST /leads/batch` with `{"leads": leads}`.
    pub async fn create_batch(self, leads: Value) -> Answer {
        let body = json!({ "leads": leads });
        self.app.post(self.key, "/leads/batch", body).await
    }

    /// `PUT /leads/batch` with `{"ids": ids, "data": changes}`.
    pub async fn update_batch(self, ids: Value, changes: Value) -> Answer {
        let body = json!({"ids": ids, "data": changes});
        self.app.put(self.key, "/leads/batch", body).await
    }

    /// `DELETE /leads/batch` with `{"ids": ids}`.
    pub async fn delete_batch(self, ids: Value) -> Answer {
        let body = json!({ "ids": ids });
        self.app
            .call(Method::DELETE, "/leads/batch", Some(self.key), Some(body))
            .await
    }

    /// `GET /leads/{id}/attributes`.
    pub async fn attributes(self, id: &str) -> Answer {
        self.app
            .get(self.key, &format!("/leads/{id}/attributes"))
            .await
    }

    /// `POST /leads/{id}/attributes`.
    pub async fn add_attribute(self, id: &str, attribute: Value) -> Answer {
        let path = format!("/leads/{id}/attributes");
        self.app.post(self.key, &path, attribute).await
    }

    /// `PUT /leads/{id}/attributes/{attribute}`.
    pub async fn set_attribute(self, id: &str, attribute: &str, value: Value) -> Answer {
        let path = format!("/leads/{id}/attributes/{attribute}");
        self.app.put(self.key, &path, value).await
    }

    /// `DELETE /leads/{id}/attributes/{attribute}`.
    pub async fn remove_attribute(self, id: &str, attribute: &str) -> Answer {
        let path = format!("/leads/{id}/attributes/{attribute}");
        self.app.delete(self.key, &path).await
    }

    /// `POST /leads/{id}/score`: rescores the lead now.
    pub async fn rescore(self, id: &str) -> Answer {
        let path = format!("/leads/{id}/score");
        self.app
            .call(Method::POST, &path, Some(self.key), None)
            .await
    }

    /// `GET /leads/{id}/score`: the score's breakdown by rule.
    pub async fn score(self, id: &str) -> Answer {
        self.app.get(self.key, &format!("/leads/{id}/score")).await
    }
}

/// A lead's `/notes` and `/notes/{id}`.
#[derive(Clone, Copy)]
pub struct Notes<'a> {
    app: &'a TestApp,
    key: &'a str,
}

impl Notes<'_> {
    /// `GET /leads/{lead}/notes`.
    pub async fn list(self, lead: &str) -> Answer {
        self.app
            .get(self.key, &format!("/leads/{lead}/notes"))
            .await
    }

    /// `POST /leads/{lead}/notes`.
    pub async fn add(self, lead: &str, note: Value) -> Answer {
        self.app
            .post(self.key, &format!("/leads/{lead}/notes"), note)
            .await
    }

    /// `PUT /notes/{note}`.
    pub async fn edit(self, note: &str, changes: Value) -> Answer {
        self.app
            .put(self.key, &format!("/notes/{note}"), changes)
            .await
    }

    /// `DELETE /notes/{note}`.
    pub async fn delete(self, note: &str) -> Answer {
        self.app.delete(self.key, &format!("/notes/{note}")).await
    }
}

/// `/scoring-rules` and `/scoring-jobs`.
#[derive(Clone, Copy)]
pub struct Rules<'a> {
    app: &'a TestApp,
    key: &'a str,
}

impl Rules<'_> {
    /// `POST /scoring-rules`.
    pub async fn create(self, rule: Value) -> Answer {
        self.app.post(self.key, "/scoring-rules", rule).await
    }

    /// `GET /scoring-rules`.
    pub async fn list(self) -> Answer {
        self.app.get(self.key, "/scoring-rules").await
    }

    /// `GET /scoring-rules/{id}`.
    pub async fn get(self, id: &str) -> Answer {
        self.app
            .get(self.key, &format!("/scoring-rules/{id}"))
            .await
    }

    /// `PUT /scoring-rules/{id}`.
    pub async fn update(self, id: &str, changes: Value) -> Answer {
        let path = format!("/scoring-rules/{id}");
        self.app.put(self.key, &path, changes).await
    }

    /// `DELETE /scoring-rules/{id}`.
    pub async fn delete(self, id: &str) -> Answer {
        self.app
            .delete(self.key, &format!("/scoring-rules/{id}"))
            .await
    }

    /// `GET /scoring-jobs`.
    pub async fn jobs(self) -> Answer {
        self.app.get(self.key, "/scoring-jobs").await
    }
}

/// `/webhooks` and an endpoint's actions and delivery log.
#[derive(Clone, Copy)]
pub struct Webhooks<'a> {
    app: &'a TestApp,
    key: &'a str,
}

impl Webhooks<'_> {
    /// `POST /webhooks`.
    pub async fn create(self, body: Value) -> Answer {
        self.app.post(self.key, "/webhooks", body).await
    }

    /// `POST /webhooks` for `url` and `events`, asserting 201; answers (id, secret).
    pub async fn subscribe(self, url: &str, events: Value) -> (String, String) {
        let (status, body) = self.create(json!({"url": url, "events": events})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["id"].as_str().unwrap().to_owned(),
            body["secret"].as_str().unwrap().to_owned(),
        )
    }

    /// `GET /webhooks`.
    pub async fn list(self) -> Answer {
        self.app.get(self.key, "/webhooks").await
    }

    /// `GET /webhooks/{id}`.
    pub async fn get(self, id: &str) -> Answer {
        self.app.get(self.key, &format!("/webhooks/{id}")).await
    }

    /// `PATCH /webhooks/{id}`.
    pub async fn patch(self, id: &str, body: Value) -> Answer {
        self.app
            .patch(self.key, &format!("/webhooks/{id}"), body)
            .await
    }

    /// `DELETE /webhooks/{id}`.
    pub async fn delete(self, id: &str) -> Answer {
        self.app.delete(self.key, &format!("/webhooks/{id}")).await
    }

    /// `POST /webhooks/{id}/rotate-secret`.
    pub async fn rotate(self, id: &str) -> Answer {
        let path = format!("/webhooks/{id}/rotate-secret");
        self.app.post(self.key, &path, json!({})).await
    }

    /// `POST /webhooks/{id}/test`.
    pub async fn test(self, id: &str) -> Answer {
        self.app
            .post(self.key, &format!("/webhooks/{id}/test"), json!({}))
            .await
    }

    /// `GET /webhooks/{id}/deliveries?{query}`.
    pub async fn deliveries(self, id: &str, query: &str) -> Answer {
        let path = format!("/webhooks/{id}/deliveries?{query}");
        self.app.get(self.key, &path).await
    }

    /// `GET /webhooks/{id}/deliveries/{delivery}`.
    pub async fn delivery(self, id: &str, delivery: &str) -> Answer {
        let path = format!("/webhooks/{id}/deliveries/{delivery}");
        self.app.get(self.key, &path).await
    }

    /// `POST /webhooks/{id}/deliveries/{delivery}/replay`.
    pub async fn replay(self, id: &str, delivery: &str) -> Answer {
        let path = format!("/webhooks/{id}/deliveries/{delivery}/replay");
        self.app.post(self.key, &path, json!({})).await
    }

    /// `POST /webhooks/{id}/recover`.
    pub async fn recover(self, id: &str, body: Value) -> Answer {
        let path = format!("/webhooks/{id}/recover");
        self.app.post(self.key, &path, body).await
    }
}
