// Package webhook calls a Canary's webhooks with Flagger's payload: it
// implements canary.Hooks.
//
// Every hook gets a JSON POST of {name, namespace, phase, checksum,
// metadata}: the Canary's name and namespace, the phase at the call, a
// checksum of the revision under analysis (status.lastAppliedSpec and
// status.trackedConfigs) and the hook's own metadata. Event hooks get the
// Canary's current phase and metadata {eventMessage, eventType, timestamp
// (Unix milliseconds)}, plus the hook's metadata keys that do not collide.
// A call must answer 2xx within the hook's timeout (10s by default);
// redirects are not followed. A failed call is an error that names the
// hook, the URL's host and the status, never the URL's query string or
// credentials; the start of a refusing answer's body is quoted with the
// URL's user name, password and query values masked first and cut after.
//
// It is not a webhook receiver: internal/notify handles inbound webhooks.
package webhook
