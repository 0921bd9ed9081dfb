// Package redact removes credentials and secret values from text before it
// leaves the process: status messages, events, logs and CLI output all pass
// through it. It is the one place that decides what a secret looks like on the
// way out; it is not a general-purpose sanitizer of user input.
package redact
