// Package notify carries Flotilla's events out to people and tools (alerts)
// and lets forges and CI call in (receivers).
//
// Out: a [Recorder] wraps the agent's Kubernetes event recorder, so every
// event a controller records also reaches the [Engine]. The Engine matches
// events to Alerts, turns failures into episodes (one message when an
// object starts failing, none for its retries, a resolved message when it
// recovers), applies groupBy and thresholds, keeps the open episodes in the
// Alert's status so an agent restart neither alerts twice nor loses a
// resolved message, and hands messages to delivery workers that retry with
// backoff off the reconcile path. A [Notifier] per provider type writes each
// service's documented payload: Slack, Microsoft Teams, Discord, generic
// JSON (signed for generic-hmac), and commit statuses on GitHub, GitLab and
// Gitea.
//
// In: a [ReceiverServer] serves /hook/<digest> on its own port. It checks
// the signature (HMAC-SHA256 in constant time, before the body is parsed),
// caps the body, bounds concurrency, and coalesces requests for the same
// object into one reconcile request annotation.
//
// It is not a general event bus: what happens inside a reconcile stays in
// package controller, and nothing here decides whether an object is healthy;
// it only reports what the controllers recorded.
package notify
